/**
 * Connected numbers on DynamoDB. A number is four rows kept in lockstep: the
 * number item under its account, the platform-wide claim `PHONE#{phno}`, the
 * webhook's routes `PNID#{phoneNumberId}` and `WABA#{wabaId}/ROUTE#{phno}`.
 * Every change writes all of them (plus the account's default marker and the
 * `additionalNumbers` quota where they change) in ONE transaction, each row
 * guarded by the condition that makes the change valid, so races between
 * accounts, connects, replacements and removals leave no half-claimed number.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import { FeatureUnavailable, NotFound, NumberAlreadyConnected } from '../../core/errors.js';
import {
  type ChannelStatus,
  type ConnectedNumber,
  type NumberPatch,
  type NumberRepository,
  StaleNumberState,
  withPhoneNumberId,
} from '../../core/numbers.js';
import type { Clock } from '../../core/ports.js';
import type { DynamoQuotaStore } from './quota-store.js';
import { type TxPart, transact } from './transact.js';
import { queryAll } from './query.js';
import type { NumberRoute } from '../../core/ingestion.js';

/** A route row (`PNID#…/ROUTE` and `WABA#…/ROUTE#{phno}`) holds exactly these attributes: the webhook reads them and nothing else. */
export function routeOf(number: Pick<ConnectedNumber, keyof NumberRoute>): NumberRoute {
  return {
    accountId: number.accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefault: number.isDefault,
    name: number.name,
  };
}

export function numberItem(number: ConnectedNumber): Record<string, unknown> {
  return { ...keys.number(number.accountId, number.whatsapp_phno), type: 'number', ...number };
}

export function toConnectedNumber(item: Record<string, unknown>): ConnectedNumber {
  const n = item as unknown as ConnectedNumber;
  return {
    accountId: n.accountId,
    whatsapp_phno: n.whatsapp_phno,
    name: n.name,
    phoneNumberId: n.phoneNumberId,
    wabaId: n.wabaId,
    isDefault: n.isDefault === true,
    status: n.status ?? 'CONNECTED',
    messagingLimitTier: n.messagingLimitTier ?? null,
    qualityRating: n.qualityRating ?? null,
    creditCapMicros: typeof n.creditCapMicros === 'number' ? n.creditCapMicros : null,
    ...(n.catalogId ? { catalogId: n.catalogId } : {}),
    connectedAt: n.connectedAt,
    updatedAt: n.updatedAt ?? n.connectedAt,
  };
}

export class DynamoNumberRepository implements NumberRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly quotas: DynamoQuotaStore,
    private readonly clock: Clock,
  ) {}

  async list(accountId: string): Promise<ConnectedNumber[]> {
    return (await queryAll(this.doc, this.tableName, keys.account(accountId).pk, keys.numbersPrefix())).map(toConnectedNumber);
  }

  async get(accountId: string, whatsappPhno: string): Promise<ConnectedNumber | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.number(accountId, whatsappPhno), ConsistentRead: true }),
    );
    return Item ? toConnectedNumber(Item) : undefined;
  }

  async defaultOf(accountId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.defaultNumber(accountId), ConsistentRead: true }),
    );
    return Item?.whatsapp_phno as string | undefined;
  }

  async connectDefault(number: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      this.accountActive(number.accountId),
      ...this.claimAndRoutes(number),
      this.putNumber(number),
      {
        // Two first connects racing: only one marker goes in, the other decides again (as an additional number).
        item: {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.defaultNumber(number.accountId), whatsapp_phno: number.whatsapp_phno, updatedAt: number.connectedAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: () => new StaleNumberState('a default number was connected meanwhile'),
      },
    ]);
  }

  async connectAdditional(number: ConnectedNumber, idempotencyKey: string) {
    const change = {
      accountId: number.accountId,
      idempotencyKey,
      reason: 'number:connect',
      whatsappPhno: number.whatsapp_phno,
      refId: number.whatsapp_phno,
    };
    const outcome = await this.quotas.apply(
      this.quotas.entry(change, 'additionalNumbers', -1),
      [
        this.accountActive(number.accountId),
        // Uniqueness first: "already connected" is the better answer than a full quota.
        ...this.claimAndRoutes(number),
        this.putNumber(number),
        {
          item: {
            ConditionCheck: {
              TableName: this.tableName,
              Key: keys.defaultNumber(number.accountId),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          onConditionFailed: () => new StaleNumberState('the default number was removed meanwhile'),
        },
        this.quotas.gaugeAcquire({ ...change, resource: 'additionalNumbers', amount: 1 }),
      ],
      number.accountId,
    );
    return { replayed: outcome.replayed, whatsappPhno: outcome.entry.whatsapp_phno ?? number.whatsapp_phno };
  }

  async replaceDefault(current: ConnectedNumber, next: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      this.accountActive(current.accountId),
      this.moveMarker(current, next.whatsapp_phno, next.connectedAt),
      ...this.claimAndRoutes(next),
      this.putNumber(next),
      this.deleteNumber(current, true),
      ...this.freeClaimAndRoutes(current),
    ]);
  }

  async removeAdditional(number: ConnectedNumber, idempotencyKey: string): Promise<void> {
    const change = {
      accountId: number.accountId,
      idempotencyKey,
      reason: 'number:remove',
      whatsappPhno: number.whatsapp_phno,
      refId: number.whatsapp_phno,
    };
    await this.quotas.apply(
      this.quotas.entry(change, 'additionalNumbers', 1),
      [
        this.accountActive(number.accountId),
        this.deleteNumber(number, false),
        ...this.freeClaimAndRoutes(number),
        this.quotas.gaugeRelease({ ...change, resource: 'additionalNumbers', amount: 1 }),
      ],
      number.accountId,
    );
  }

  async removeOnlyDefault(number: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      this.accountActive(number.accountId),
      {
        item: {
          Delete: {
            TableName: this.tableName,
            Key: keys.defaultNumber(number.accountId),
            ConditionExpression: 'whatsapp_phno = :phno',
            ExpressionAttributeValues: { ':phno': number.whatsapp_phno },
          },
        },
        onConditionFailed: () => new StaleNumberState('the default changed meanwhile'),
      },
      this.deleteNumber(number, true),
      ...this.freeClaimAndRoutes(number),
      {
        // Only while no additional number was connected meanwhile: an account with numbers keeps a default.
        item: {
          ConditionCheck: {
            TableName: this.tableName,
            Key: keys.gaugeQuota(number.accountId, 'additionalNumbers'),
            ConditionExpression: 'used = :zero',
            ExpressionAttributeValues: { ':zero': 0 },
          },
        },
        onConditionFailed: () => new StaleNumberState('an additional number was connected meanwhile'),
      },
    ]);
  }

  async removeDefaultPromoting(number: ConnectedNumber, promoted: ConnectedNumber, idempotencyKey: string): Promise<void> {
    const change = {
      accountId: number.accountId,
      idempotencyKey,
      reason: 'number:promote',
      whatsappPhno: promoted.whatsapp_phno,
      refId: promoted.whatsapp_phno,
    };
    const at = this.clock.now().toISOString();
    const promote = (key: { pk: string; sk: string }, condition: string): TxPart => ({
      item: {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET isDefault = :true',
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':true': true, ':acc': promoted.accountId, ':phno': promoted.whatsapp_phno },
        },
      },
      onConditionFailed: () => new StaleNumberState(`${promoted.whatsapp_phno} changed meanwhile`),
    });
    await this.quotas.apply(
      this.quotas.entry(change, 'additionalNumbers', 1),
      [
        this.accountActive(number.accountId),
        this.moveMarker(number, promoted.whatsapp_phno, at),
        this.deleteNumber(number, true),
        ...this.freeClaimAndRoutes(number),
        {
          item: {
            Update: {
              TableName: this.tableName,
              Key: keys.number(promoted.accountId, promoted.whatsapp_phno),
              UpdateExpression: 'SET isDefault = :true, updatedAt = :at',
              ConditionExpression: 'attribute_exists(pk) AND isDefault = :false',
              ExpressionAttributeValues: { ':true': true, ':false': false, ':at': at },
            },
          },
          onConditionFailed: () => new StaleNumberState(`${promoted.whatsapp_phno} changed meanwhile`),
        },
        promote(keys.phoneNumberIdRoute(promoted.phoneNumberId), 'accountId = :acc AND whatsapp_phno = :phno'),
        promote(keys.wabaRoute(promoted.wabaId, promoted.whatsapp_phno), 'accountId = :acc AND whatsapp_phno = :phno'),
        // The promoted number stops holding an add-on slot.
        this.quotas.gaugeRelease({ ...change, resource: 'additionalNumbers', amount: 1 }),
      ],
      number.accountId,
    );
  }

  async update(number: ConnectedNumber, patch: NumberPatch, at: string): Promise<ConnectedNumber> {
    const sets = ['updatedAt = :at'];
    const values: Record<string, unknown> = { ':at': at, ':pnid': number.phoneNumberId };
    if (patch.name !== undefined) {
      sets.push('#name = :name');
      values[':name'] = patch.name;
    }
    if (patch.creditCapMicros !== undefined) {
      sets.push('creditCapMicros = :cap');
      values[':cap'] = patch.creditCapMicros;
    }
    const gone = () => new NotFound(`The number ${number.whatsapp_phno}`);
    const parts: TxPart[] = [
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: keys.number(number.accountId, number.whatsapp_phno),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: 'attribute_exists(pk) AND phoneNumberId = :pnid',
            ExpressionAttributeNames: patch.name !== undefined ? { '#name': 'name' } : undefined,
            ExpressionAttributeValues: values,
          },
        },
        onConditionFailed: gone,
      },
    ];
    if (patch.name !== undefined) {
      // The route rows carry the display name: the webhook tags events with it.
      for (const key of [keys.phoneNumberIdRoute(number.phoneNumberId), keys.wabaRoute(number.wabaId, number.whatsapp_phno)]) {
        parts.push({
          item: {
            Update: {
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET #name = :name',
              ConditionExpression: 'accountId = :acc AND whatsapp_phno = :phno',
              ExpressionAttributeNames: { '#name': 'name' },
              ExpressionAttributeValues: { ':name': patch.name, ':acc': number.accountId, ':phno': number.whatsapp_phno },
            },
          },
          onConditionFailed: gone,
        });
      }
    }
    await transact(this.doc, parts);
    return (await this.get(number.accountId, number.whatsapp_phno)) ?? { ...number, ...patch, updatedAt: at } as ConnectedNumber;
  }

  async setCatalog(number: ConnectedNumber, catalogId: string, at: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.number(number.accountId, number.whatsapp_phno),
          UpdateExpression: 'SET catalogId = :catalog, updatedAt = :at',
          // Checked again here: the number may have stopped being the default since it was read.
          ConditionExpression: 'attribute_exists(pk) AND isDefault = :true',
          ExpressionAttributeValues: { ':catalog': catalogId, ':at': at, ':true': true },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const now = await this.get(number.accountId, number.whatsapp_phno);
      if (!now) throw new NotFound(`The number ${number.whatsapp_phno}`);
      throw new FeatureUnavailable('catalog', number.whatsapp_phno);
    }
  }

  async updateChannelStatus(accountId: string, whatsappPhno: string, status: Partial<ChannelStatus>): Promise<ConnectedNumber | undefined> {
    const sets = ['updatedAt = :at'];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':at': this.clock.now().toISOString() };
    for (const field of ['status', 'messagingLimitTier', 'qualityRating'] as const) {
      if (status[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = status[field];
    }
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.number(accountId, whatsappPhno),
          UpdateExpression: `SET ${sets.join(', ')}`,
          // A status for a number disconnected meanwhile must not resurrect a half item.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toConnectedNumber(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  // --- transaction parts ---------------------------------------------------------

  /** The account exists and is active: a closed (merged) account takes no number change. */
  private accountActive(accountId: string): TxPart {
    return {
      item: {
        ConditionCheck: {
          TableName: this.tableName,
          Key: keys.account(accountId),
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
        },
      },
      onConditionFailed: () => new NotFound('The account'),
    };
  }

  /** The claim and both routes of a number being connected: each refuses a number or phone_number_id in use anywhere. */
  private claimAndRoutes(number: ConnectedNumber): TxPart[] {
    const put = (item: Record<string, unknown>, onExists: () => Error): TxPart => ({
      item: { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      onConditionFailed: onExists,
    });
    const taken = () => new NumberAlreadyConnected(number.whatsapp_phno);
    return [
      put(
        {
          ...keys.numberClaim(number.whatsapp_phno),
          accountId: number.accountId,
          whatsapp_phno: number.whatsapp_phno,
          phoneNumberId: number.phoneNumberId,
          wabaId: number.wabaId,
          claimedAt: number.connectedAt,
        },
        taken,
      ),
      put({ ...keys.phoneNumberIdRoute(number.phoneNumberId), ...routeOf(number) }, () =>
        withPhoneNumberId(new NumberAlreadyConnected(number.whatsapp_phno), number.phoneNumberId),
      ),
      put({ ...keys.wabaRoute(number.wabaId, number.whatsapp_phno), ...routeOf(number) }, taken),
    ];
  }

  private putNumber(number: ConnectedNumber): TxPart {
    return {
      item: { Put: { TableName: this.tableName, Item: numberItem(number), ConditionExpression: 'attribute_not_exists(pk)' } },
      onConditionFailed: () => new NumberAlreadyConnected(number.whatsapp_phno),
    };
  }

  /** Deletes the number item if it still is what was read (same Meta id, same role). */
  private deleteNumber(number: ConnectedNumber, isDefault: boolean): TxPart {
    return {
      item: {
        Delete: {
          TableName: this.tableName,
          Key: keys.number(number.accountId, number.whatsapp_phno),
          ConditionExpression: 'attribute_exists(pk) AND isDefault = :role AND phoneNumberId = :pnid',
          ExpressionAttributeValues: { ':role': isDefault, ':pnid': number.phoneNumberId },
        },
      },
      onConditionFailed: (old) =>
        old ? new StaleNumberState(`${number.whatsapp_phno} changed meanwhile`) : new NotFound(`The number ${number.whatsapp_phno}`),
    };
  }

  /** Frees the number platform-wide: its claim and both routes, each only if it is this account's. */
  private freeClaimAndRoutes(number: ConnectedNumber): TxPart[] {
    const remove = (key: { pk: string; sk: string }, condition: string): TxPart => ({
      item: {
        Delete: {
          TableName: this.tableName,
          Key: key,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':acc': number.accountId },
        },
      },
      onConditionFailed: () => new StaleNumberState(`${number.whatsapp_phno} is not this account's`),
    });
    return [
      remove(keys.numberClaim(number.whatsapp_phno), 'accountId = :acc'),
      remove(keys.phoneNumberIdRoute(number.phoneNumberId), 'attribute_not_exists(pk) OR accountId = :acc'),
      remove(keys.wabaRoute(number.wabaId, number.whatsapp_phno), 'attribute_not_exists(pk) OR accountId = :acc'),
    ];
  }

  /** Points the default marker at another number, only if it still names `current`. */
  private moveMarker(current: ConnectedNumber, nextPhno: string, at: string): TxPart {
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.defaultNumber(current.accountId),
          UpdateExpression: 'SET whatsapp_phno = :next, updatedAt = :at',
          ConditionExpression: 'whatsapp_phno = :current',
          ExpressionAttributeValues: { ':next': nextPhno, ':current': current.whatsapp_phno, ':at': at },
        },
      },
      onConditionFailed: () => new StaleNumberState('the default changed meanwhile'),
    };
  }
}

