/**
 * Account merges on DynamoDB, as idempotent steps (see `mergeAccounts` in
 * core for the decisions):
 *
 * 1. `begin`: ONE transaction writes the progress item (`A#{source}/MERGE`),
 *    closes the source, adds the source's add-ons to the target and reserves
 *    the target's additional-number slots for every number to come, each
 *    guarded by what the plan read; a quota refusal here leaves nothing changed.
 * 2. `moveNumber`: one transaction per number, conditioned on the source still
 *    owning it (number item, claim, routes move together).
 * 3. `copyHistory`: contacts, conversations and their messages, templates and
 *    automations are copied with `attribute_not_exists`, keys re-pointed at
 *    the target: copying twice writes nothing twice. The closed source keeps
 *    its rows as an archive nothing reads.
 * 4. `moveCredits`: one transaction debiting the source and crediting the
 *    target, each side with a ledger entry keyed `merge:{source}:{target}:credits`.
 * 5. `finish`: marks the progress item completed.
 *
 * A run interrupted anywhere is finished by running the merge again: step 1 is
 * skipped once the progress item exists, and the others notice what is done.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MERGED_ITEM_PREFIXES, keys } from '../../../schemas/table.js';
import { Conflict, NotFound, QuotaExceeded } from '../../core/errors.js';
import type { MergeNumber, MergePlan, MergeProgress, MergeRepository } from '../../core/numbers.js';
import { StaleNumberState } from '../../core/numbers.js';
import {
  ADDON_TYPES,
  type Addons,
  MAX_ADDITIONAL_NUMBERS,
  addonResource,
  billingPeriod,
  counterLimit,
  isGauge,
} from '../../core/plan.js';
import type { Clock, LedgerEntry } from '../../core/ports.js';
import { type DynamoQuotaStore, ledgerItem } from './quota-store.js';
import { REPLAY, type TxPart, transact } from './transact.js';
import { queryPartition } from './query.js';

/** How many item copies run at once: enough to be quick, few enough not to throttle a table. */
const COPY_CONCURRENCY = 10;

const ALREADY_MOVED = new Error('already moved');

export class DynamoMergeRepository implements MergeRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly quotas: DynamoQuotaStore,
    private readonly clock: Clock,
  ) {}

  async progress(sourceAccountId: string): Promise<MergeProgress | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.mergeProgress(sourceAccountId), ConsistentRead: true }),
    );
    return Item ? toProgress(Item) : undefined;
  }

  async begin(plan: MergePlan): Promise<MergeProgress> {
    const s = plan.source.accountId;
    const t = plan.target.accountId;
    const moved = plan.source.addons;
    const progress: MergeProgress = {
      sourceAccountId: s,
      targetAccountId: t,
      status: 'in_progress',
      numbers: plan.numbers,
      addonsMoved: moved,
      creditsMovedMicros: 0,
      startedAt: plan.at,
    };
    const stale = (what: string) => () => new StaleNumberState(what);
    const parts: TxPart[] = [
      {
        item: {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.mergeProgress(s), type: 'mergeProgress', ...progress },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        // Another run of this very merge began first: carry on with it.
        onConditionFailed: (old) =>
          old?.targetAccountId === t
            ? REPLAY
            : new Conflict('ACCOUNT_MERGED', `Account ${s} is merged into another account.`, { sourceAccountId: s }),
      },
    ];

    const slots = plan.slots;
    if (slots > 0 || moved.number > 0) {
      // Room for every moved number, counting the source's add-ons, and never past 15.
      parts.push({
        item: {
          Update: {
            TableName: this.tableName,
            Key: keys.gaugeQuota(t, 'additionalNumbers'),
            UpdateExpression: 'SET #limit = #limit + :addons, remaining = remaining + :delta, used = used + :slots, updatedAt = :at',
            ConditionExpression: 'remaining >= :needed AND used <= :capLessSlots',
            ExpressionAttributeNames: { '#limit': 'limit' },
            ExpressionAttributeValues: {
              ':addons': moved.number,
              ':delta': moved.number - slots,
              ':slots': slots,
              ':needed': slots - moved.number,
              ':capLessSlots': MAX_ADDITIONAL_NUMBERS - slots,
              ':at': plan.at,
            },
          },
        },
        onConditionFailed: (old) => {
          if (!old) return new NotFound('The account');
          const used = old.used as number;
          const limit = used + slots > MAX_ADDITIONAL_NUMBERS ? MAX_ADDITIONAL_NUMBERS : Math.min((old.limit as number) + moved.number, MAX_ADDITIONAL_NUMBERS);
          const error = new QuotaExceeded('additionalNumbers', limit, used);
          Object.assign(error.details, { requested: slots, sourceAccountId: s });
          return error;
        },
      });
    }

    // The source: closed in this same transaction, only if still as read (same add-ons, same numbers).
    parts.push({
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.account(s),
          UpdateExpression: 'SET #status = :closed, mergedInto = :target, closedAt = :at',
          ConditionExpression: `#status = :active AND ${addonLock('src')}`,
          ExpressionAttributeNames: { '#status': 'status', ...addonNames() },
          ExpressionAttributeValues: { ':closed': 'closed', ':active': 'active', ':target': t, ':at': plan.at, ...addonValues('src', moved) },
        },
      },
      onConditionFailed: stale('the source account changed meanwhile'),
    });
    parts.push({
      item: {
        ConditionCheck: {
          TableName: this.tableName,
          Key: keys.gaugeQuota(s, 'additionalNumbers'),
          ConditionExpression: 'used = :used',
          ExpressionAttributeValues: { ':used': plan.sourceSlotsUsed },
        },
      },
      onConditionFailed: stale("the source's numbers changed meanwhile"),
    });
    parts.push({
      item: {
        ConditionCheck: {
          TableName: this.tableName,
          Key: keys.defaultNumber(s),
          ConditionExpression: plan.sourceDefault ? 'whatsapp_phno = :phno' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: plan.sourceDefault ? { ':phno': plan.sourceDefault } : undefined,
        },
      },
      onConditionFailed: stale("the source's default changed meanwhile"),
    });

    // The target: add-ons raised (locked on the values read, as a purchase is), counters raised with them.
    const targetAddons = plan.target.addons;
    parts.push({
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.account(t),
          UpdateExpression: `SET ${ADDON_TYPES.map((type) => `addons.#a_${type} = :tgt_${type} + :src_${type}`).join(', ')}`,
          ConditionExpression: `#status = :active AND ${addonLock('tgt')}`,
          ExpressionAttributeNames: { '#status': 'status', ...addonNames() },
          ExpressionAttributeValues: { ':active': 'active', ...addonValues('tgt', targetAddons), ...addonValues('src', moved) },
        },
      },
      onConditionFailed: (old) => (old?.status === 'active' ? new StaleNumberState('the target account changed meanwhile') : new NotFound('The account')),
    });
    const becomesDefault = plan.numbers.find((n) => n.becomesDefault);
    if (becomesDefault) {
      // The target had no number: the source's default becomes its default (an account with numbers has one).
      parts.push({
        item: {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.defaultNumber(t), whatsapp_phno: becomesDefault.whatsapp_phno, updatedAt: plan.at },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: stale('the target connected a default meanwhile'),
      });
    } else if (plan.numbers.length > 0) {
      parts.push({
        item: { ConditionCheck: { TableName: this.tableName, Key: keys.defaultNumber(t), ConditionExpression: 'attribute_exists(pk)' } },
        onConditionFailed: stale("the target's default was removed meanwhile"),
      });
    }

    const period = billingPeriod(plan.target.billingAnchor, new Date(plan.at)).key;
    for (const type of ADDON_TYPES) {
      const quantity = moved[type];
      if (quantity <= 0) continue;
      const resource = addonResource(type);
      if (resource !== 'additionalNumbers') {
        parts.push(this.quotas.raiseLimit(t, resource, period, counterLimit(plan.target, resource), quantity));
      }
      const entry: LedgerEntry = {
        idempotencyKey: mergeKey(s, t, `addon:${type}`),
        at: plan.at,
        resource,
        amount: quantity,
        reason: 'merge:addons',
        refId: s,
        ...(isGauge(resource) ? {} : { period }),
      };
      parts.push(this.ledgerPut(t, entry));
    }
    if (slots > 0) {
      parts.push(
        this.ledgerPut(t, {
          idempotencyKey: mergeKey(s, t, 'numbers'),
          at: plan.at,
          resource: 'additionalNumbers',
          amount: -slots,
          reason: 'merge:numbers',
          refId: s,
        }),
      );
    }

    const result = await transact(this.doc, parts);
    if (result === 'committed') return progress;
    const started = await this.progress(s);
    if (!started) throw new StaleNumberState('merge progress vanished');
    return started;
  }

  async moveNumber(progress: MergeProgress, number: MergeNumber): Promise<void> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.number(s, number.whatsapp_phno), ConsistentRead: true }),
    );
    if (!Item) return; // moved by an earlier run
    const at = this.clock.now().toISOString();
    const { pk: _pk, sk: _sk, catalogId, ...attributes } = Item;
    const moved = {
      ...attributes,
      ...keys.number(t, number.whatsapp_phno),
      accountId: t,
      isDefault: number.becomesDefault,
      updatedAt: at,
      // The catalog is a default-number feature: it stays bound only if the number stays a default.
      ...(number.becomesDefault && catalogId ? { catalogId } : {}),
    };
    const owned = 'accountId = :source';
    const repoint = (key: { pk: string; sk: string }): TxPart => ({
      item: {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET accountId = :target, isDefault = :isDefault',
          ConditionExpression: owned,
          ExpressionAttributeValues: { ':source': s, ':target': t, ':isDefault': number.becomesDefault },
        },
      },
    });
    const parts: TxPart[] = [];
    const release = { accountId: s, idempotencyKey: mergeKey(s, t, `number:${number.whatsapp_phno}`), reason: 'merge:number-out', whatsappPhno: number.whatsapp_phno, refId: t };
    if (!number.wasDefault) {
      parts.push(this.ledgerPut(s, { ...this.quotas.entry(release, 'additionalNumbers', 1), at }));
    }
    parts.push(
      {
        item: {
          Delete: {
            TableName: this.tableName,
            Key: keys.number(s, number.whatsapp_phno),
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        onConditionFailed: () => ALREADY_MOVED,
      },
      {
        item: { Put: { TableName: this.tableName, Item: moved, ConditionExpression: 'attribute_not_exists(pk)' } },
      },
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: keys.numberClaim(number.whatsapp_phno),
            UpdateExpression: 'SET accountId = :target',
            ConditionExpression: owned,
            ExpressionAttributeValues: { ':source': s, ':target': t },
          },
        },
      },
      repoint(keys.phoneNumberIdRoute(number.phoneNumberId)),
      repoint(keys.wabaRoute(number.wabaId, number.whatsapp_phno)),
    );
    if (number.wasDefault) {
      parts.push({
        item: {
          Delete: {
            TableName: this.tableName,
            Key: keys.defaultNumber(s),
            ConditionExpression: 'whatsapp_phno = :phno',
            ExpressionAttributeValues: { ':phno': number.whatsapp_phno },
          },
        },
      });
    } else {
      parts.push(this.quotas.gaugeRelease({ ...release, resource: 'additionalNumbers', amount: 1 }));
    }
    try {
      await transact(this.doc, parts);
    } catch (error) {
      if (error !== ALREADY_MOVED) throw error;
    }
  }

  async copyHistory(progress: MergeProgress): Promise<number> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    let written = 0;
    for (const prefix of MERGED_ITEM_PREFIXES) {
      for await (const items of this.pages(keys.account(s).pk, prefix)) {
        written += await this.copyAll(items, s, t);
        if (prefix !== 'CONV#') continue;
        // A conversation's history lives in its own partition, keyed by the account too.
        for (const conversation of items) {
          for await (const messages of this.pages(keys.messagesOfConversation(s, conversation.sk as string))) {
            written += await this.copyAll(messages, s, t, (message, copy) => this.repointWamid(message, copy, t));
          }
        }
      }
    }
    return written;
  }

  async moveCredits(progress: MergeProgress, at: string): Promise<number> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    const key = mergeKey(s, t, 'credits');
    for (let attempt = 1; ; attempt++) {
      const done = await this.ledgerAmount(t, key);
      if (done !== undefined) return done;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.credits(s), ConsistentRead: true }));
      const balance = (Item?.balanceMicros as number | undefined) ?? 0;
      if (balance <= 0) return 0;
      const stale = new StaleNumberState('the source balance changed meanwhile');
      try {
        const result = await transact(this.doc, [
          this.ledgerPut(s, { idempotencyKey: key, at, resource: 'credits', amount: -balance, reason: 'merge:credits-out', refId: t }),
          this.ledgerPut(t, { idempotencyKey: key, at, resource: 'credits', amount: balance, reason: 'merge:credits-in', refId: s }),
          {
            item: {
              Update: {
                TableName: this.tableName,
                Key: keys.credits(s),
                // The whole balance as read, so a refund landing meanwhile is not left behind half-moved.
                UpdateExpression: 'SET balanceMicros = balanceMicros - :b, transferredOutMicros = if_not_exists(transferredOutMicros, :zero) + :b, updatedAt = :at',
                ConditionExpression: 'balanceMicros = :b',
                ExpressionAttributeValues: { ':b': balance, ':zero': 0, ':at': at },
              },
            },
            onConditionFailed: () => stale,
          },
          {
            item: {
              Update: {
                TableName: this.tableName,
                Key: keys.credits(t),
                UpdateExpression: 'SET balanceMicros = balanceMicros + :b, addedMicros = addedMicros + :b, updatedAt = :at',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':b': balance, ':at': at },
              },
            },
            onConditionFailed: () => new NotFound('The account'),
          },
        ]);
        if (result === 'committed') return balance;
      } catch (error) {
        if (error !== stale || attempt >= 10) throw error;
      }
    }
  }

  async finish(progress: MergeProgress, at: string): Promise<MergeProgress> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.mergeProgress(progress.sourceAccountId),
        UpdateExpression: 'SET #status = :completed, completedAt = if_not_exists(completedAt, :at), creditsMovedMicros = :credits',
        ConditionExpression: 'targetAccountId = :target',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':completed': 'completed', ':at': at, ':credits': progress.creditsMovedMicros, ':target': progress.targetAccountId },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toProgress(Attributes!);
  }

  // --- helpers ---------------------------------------------------------------------

  private ledgerPut(accountId: string, entry: LedgerEntry): TxPart {
    const fingerprint = `${entry.resource}:${entry.amount}:${entry.whatsapp_phno ?? ''}:${entry.refId ?? ''}`;
    return {
      item: { Put: { TableName: this.tableName, Item: ledgerItem(accountId, entry, fingerprint), ConditionExpression: 'attribute_not_exists(pk)' } },
      onConditionFailed: () => REPLAY,
    };
  }

  private async ledgerAmount(accountId: string, idempotencyKey: string): Promise<number | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.ledger(accountId, idempotencyKey), ConsistentRead: true }),
    );
    return Item ? (Item.amount as number) : undefined;
  }

  /**
   * A message's wamid pointer (how a status finds its message) follows the
   * message to the target, so statuses arriving after the merge update the
   * target's copy. Only a pointer still naming the source's item is changed.
   */
  private async repointWamid(message: Record<string, unknown>, copy: Record<string, unknown>, targetId: string): Promise<void> {
    if (typeof message.wamid !== 'string' || typeof message.phoneNumberId !== 'string') return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.wamidPointer(message.phoneNumberId, message.wamid),
          UpdateExpression: 'SET messagePk = :to, accountId = :account',
          ConditionExpression: 'messagePk = :from AND messageSk = :sk',
          ExpressionAttributeValues: { ':to': copy.pk, ':from': message.pk, ':sk': message.sk, ':account': targetId },
        }),
      );
    } catch (error) {
      // No pointer (an inbound message), or it was repointed by an earlier run.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private pages(pk: string, skPrefix?: string): AsyncGenerator<Record<string, unknown>[]> {
    return queryPartition(this.doc, this.tableName, pk, skPrefix);
  }

  /**
   * Puts each item under the target unless already there: each copy is one
   * conditional single-item write. `after` runs for every item, copied now or
   * before, so a run interrupted between the two finishes the second.
   */
  private async copyAll(
    items: Record<string, unknown>[],
    sourceId: string,
    targetId: string,
    after?: (original: Record<string, unknown>, copy: Record<string, unknown>) => Promise<void>,
  ): Promise<number> {
    let written = 0;
    for (let i = 0; i < items.length; i += COPY_CONCURRENCY) {
      const chunk = items.slice(i, i + COPY_CONCURRENCY);
      const results = await Promise.all(
        chunk.map(async (item) => {
          const copy = reKey(item, sourceId, targetId);
          let copied = 1;
          try {
            await this.doc.send(new PutCommand({ TableName: this.tableName, Item: copy, ConditionExpression: 'attribute_not_exists(pk)' }));
          } catch (error) {
            // Copied by an earlier run, or the target has its own item of that key (e.g. a template of the same name): keep it.
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
            copied = 0;
          }
          await after?.(item, copy);
          return copied;
        }),
      );
      written += results.reduce<number>((sum, n) => sum + n, 0);
    }
    return written;
  }
}

/** Ledger keys of a merge: derived from both accounts, so a re-run writes the same keys and changes nothing twice. */
export function mergeKey(sourceAccountId: string, targetAccountId: string, step: string): string {
  return `merge:${sourceAccountId}:${targetAccountId}:${step}`;
}

/** The item under the target: partition and index keys embedding the source's id point at the target instead. */
export function reKey(item: Record<string, unknown>, sourceId: string, targetId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value === 'string' && (name === 'pk' || /^gsi\d+(pk|sk)$/.test(name))) out[name] = value.split(sourceId).join(targetId);
    else if (name === 'accountId' && value === sourceId) out[name] = targetId;
    else out[name] = value;
  }
  return out;
}

function addonNames(): Record<string, string> {
  return Object.fromEntries(ADDON_TYPES.map((type) => [`#a_${type}`, type]));
}

function addonValues(prefix: string, addons: Addons): Record<string, number> {
  return Object.fromEntries(ADDON_TYPES.map((type) => [`:${prefix}_${type}`, addons[type]]));
}

function addonLock(prefix: string): string {
  return ADDON_TYPES.map((type) => `addons.#a_${type} = :${prefix}_${type}`).join(' AND ');
}

function toProgress(item: Record<string, unknown>): MergeProgress {
  const p = item as unknown as MergeProgress;
  return {
    sourceAccountId: p.sourceAccountId,
    targetAccountId: p.targetAccountId,
    status: p.status,
    numbers: p.numbers ?? [],
    addonsMoved: p.addonsMoved,
    creditsMovedMicros: p.creditsMovedMicros ?? 0,
    startedAt: p.startedAt,
    ...(p.completedAt ? { completedAt: p.completedAt } : {}),
  };
}
