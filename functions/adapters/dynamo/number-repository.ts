/**
 * Connected numbers on DynamoDB. Every change writes the number item, its
 * claim and both routes (`number-parts.ts`), plus the default marker and the
 * `additionalNumbers` gauge with its ledger entry where they change, in ONE
 * transaction, each row guarded by the condition that makes the change valid,
 * so races between accounts, connects, replacements and removals leave no
 * half-claimed number. Channel status is the webhook's (`channel-status-writer.ts`).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FeatureUnavailable, NotFound } from '../../core/errors.js';
import { StaleNumberState } from '../../core/backend-failures.js';
import type { ConnectedNumber, NumberPatch, NumberRepository } from '../../core/numbers.js';
import type { Clock } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import {
  claimAndRoutes,
  deleteMarker,
  deleteNumber,
  freeClaimAndRoutes,
  markerCheck,
  moveMarker,
  numberKey,
  putMarker,
  putNumber,
  routeKeys,
} from './number-parts.js';
import { queryAll } from './query.js';
import { type TxPart, transact } from './transact.js';
import { accountActive, gaugeAcquire, gaugeRelease } from './transaction-parts.js';
import { updateExpression } from './update-expression.js';

export class DynamoNumberRepository implements NumberRepository {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  async list(accountId: string): Promise<ConnectedNumber[]> {
    const items = await queryAll(this.doc, this.tableName, entities.number.partition({ accountId }), entities.number.skPrefix());
    return items.map((item) => entities.number.parse(item));
  }

  async get(accountId: string, whatsappPhno: string): Promise<ConnectedNumber | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: numberKey({ accountId, whatsapp_phno: whatsappPhno }), ConsistentRead: true }));
    return Item ? entities.number.parse(Item) : undefined;
  }

  async defaultOf(accountId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.defaultNumber.key({ accountId }), ConsistentRead: true }));
    return Item ? entities.defaultNumber.parse(Item).whatsapp_phno : undefined;
  }

  async connectDefault(number: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      accountActive(this.tableName, number.accountId),
      ...claimAndRoutes(this.tableName, number),
      putNumber(this.tableName, number),
      // Two first connects racing: only one marker goes in, the other decides again (as an additional number).
      putMarker(this.tableName, number.accountId, number.whatsapp_phno, number.connectedAt, () => new StaleNumberState('a default number was connected meanwhile')),
    ]);
  }

  async connectAdditional(number: ConnectedNumber, idempotencyKey: string) {
    const change = { accountId: number.accountId, idempotencyKey, reason: 'number:connect', whatsappPhno: number.whatsapp_phno, refId: number.whatsapp_phno };
    const at = this.now();
    const outcome = await this.ledger.commit(number.accountId, ledgerEntryOf(change, 'additionalNumbers', -1, at), [
      accountActive(this.tableName, number.accountId),
      // Uniqueness first: "already connected" is the better answer than a full quota.
      ...claimAndRoutes(this.tableName, number),
      putNumber(this.tableName, number),
      markerCheck(this.tableName, number.accountId, true, () => new StaleNumberState('the default number was removed meanwhile')),
      gaugeAcquire(this.tableName, { ...change, resource: 'additionalNumbers', amount: 1 }, at),
    ]);
    return { replayed: outcome.replayed, whatsappPhno: outcome.entry.whatsapp_phno ?? number.whatsapp_phno };
  }

  async replaceDefault(current: ConnectedNumber, next: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      accountActive(this.tableName, current.accountId),
      moveMarker(this.tableName, current, next.whatsapp_phno, next.connectedAt),
      ...claimAndRoutes(this.tableName, next),
      putNumber(this.tableName, next),
      deleteNumber(this.tableName, current, true),
      ...freeClaimAndRoutes(this.tableName, current),
    ]);
  }

  async removeAdditional(number: ConnectedNumber, idempotencyKey: string): Promise<void> {
    const change = { accountId: number.accountId, idempotencyKey, reason: 'number:remove', whatsappPhno: number.whatsapp_phno, refId: number.whatsapp_phno };
    const at = this.now();
    await this.ledger.commit(number.accountId, ledgerEntryOf(change, 'additionalNumbers', 1, at), [
      accountActive(this.tableName, number.accountId),
      deleteNumber(this.tableName, number, false),
      ...freeClaimAndRoutes(this.tableName, number),
      gaugeRelease(this.tableName, { ...change, resource: 'additionalNumbers', amount: 1 }, at),
    ]);
  }

  async removeOnlyDefault(number: ConnectedNumber): Promise<void> {
    await transact(this.doc, [
      accountActive(this.tableName, number.accountId),
      deleteMarker(this.tableName, number.accountId, number.whatsapp_phno, () => new StaleNumberState('the default changed meanwhile')),
      deleteNumber(this.tableName, number, true),
      ...freeClaimAndRoutes(this.tableName, number),
      {
        // Only while no additional number was connected meanwhile: an account with numbers keeps a default.
        item: {
          ConditionCheck: {
            TableName: this.tableName,
            Key: entities.gaugeQuota.key({ accountId: number.accountId, resource: 'additionalNumbers' }),
            ConditionExpression: 'used = :zero',
            ExpressionAttributeValues: { ':zero': 0 },
          },
        },
        onConditionFailed: () => new StaleNumberState('an additional number was connected meanwhile'),
      },
    ]);
  }

  async removeDefaultPromoting(number: ConnectedNumber, promoted: ConnectedNumber, idempotencyKey: string): Promise<void> {
    const change = { accountId: number.accountId, idempotencyKey, reason: 'number:promote', whatsappPhno: promoted.whatsapp_phno, refId: promoted.whatsapp_phno };
    const at = this.now();
    const changed = () => new StaleNumberState(`${promoted.whatsapp_phno} changed meanwhile`);
    const promoteRoute = (key: { pk: string; sk: string }): TxPart => ({
      item: {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET isDefault = :true',
          ConditionExpression: 'accountId = :acc AND whatsapp_phno = :phno',
          ExpressionAttributeValues: { ':true': true, ':acc': promoted.accountId, ':phno': promoted.whatsapp_phno },
        },
      },
      onConditionFailed: changed,
    });
    await this.ledger.commit(number.accountId, ledgerEntryOf(change, 'additionalNumbers', 1, at), [
      accountActive(this.tableName, number.accountId),
      moveMarker(this.tableName, number, promoted.whatsapp_phno, at),
      deleteNumber(this.tableName, number, true),
      ...freeClaimAndRoutes(this.tableName, number),
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: numberKey(promoted),
            UpdateExpression: 'SET isDefault = :true, updatedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND isDefault = :false',
            ExpressionAttributeValues: { ':true': true, ':false': false, ':at': at },
          },
        },
        onConditionFailed: changed,
      },
      ...routeKeys(promoted).map(promoteRoute),
      // The promoted number stops holding an add-on slot.
      gaugeRelease(this.tableName, { ...change, resource: 'additionalNumbers', amount: 1 }, at),
    ]);
  }

  async update(number: ConnectedNumber, patch: NumberPatch, at: string): Promise<ConnectedNumber> {
    const gone = () => new NotFound(`The number ${number.whatsapp_phno}`);
    const parts: TxPart[] = [
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: numberKey(number),
            ...updateExpression(
              { set: { updatedAt: at, name: patch.name, creditCapMicros: patch.creditCapMicros } },
              { expression: 'attribute_exists(pk) AND phoneNumberId = :pnid', values: { ':pnid': number.phoneNumberId } },
            ),
          },
        },
        onConditionFailed: gone,
      },
    ];
    if (patch.name !== undefined) {
      // The route rows carry the display name: the webhook tags events with it.
      for (const key of routeKeys(number)) {
        parts.push({
          item: {
            Update: {
              TableName: this.tableName,
              Key: key,
              ...updateExpression(
                { set: { name: patch.name } },
                { expression: 'accountId = :acc AND whatsapp_phno = :phno', values: { ':acc': number.accountId, ':phno': number.whatsapp_phno } },
              ),
            },
          },
          onConditionFailed: gone,
        });
      }
    }
    await transact(this.doc, parts);
    return (await this.get(number.accountId, number.whatsapp_phno)) ?? ({ ...number, ...patch, updatedAt: at } as ConnectedNumber);
  }

  async setCatalog(number: ConnectedNumber, catalogId: string, at: string): Promise<void> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: numberKey(number),
        UpdateExpression: 'SET catalogId = :catalog, updatedAt = :at',
        // Checked again here: the number may have stopped being the default since it was read.
        ConditionExpression: 'attribute_exists(pk) AND isDefault = :true',
        ExpressionAttributeValues: { ':catalog': catalogId, ':at': at, ':true': true },
      }),
    );
    if (outcome.applied) return;
    if (!(await this.get(number.accountId, number.whatsapp_phno))) throw new NotFound(`The number ${number.whatsapp_phno}`);
    throw new FeatureUnavailable('catalog', number.whatsapp_phno);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
