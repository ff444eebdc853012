/**
 * Account merges on DynamoDB, as idempotent steps (see `mergeAccounts` in
 * core for the decisions):
 *
 * 1. `begin`: ONE transaction writes the progress item (on the source),
 *    closes the source, adds the source's add-ons to the target and reserves
 *    the target's additional-number slots for every number to come
 *    (`merge-begin.ts`).
 * 2. `moveNumber`: one transaction per number, conditioned on the source still
 *    owning it (number item, claim, routes move together).
 * 3. `copyHistory`: contacts, conversations and their messages, templates and
 *    automations are copied, keys re-pointed at the target (`merge-history.ts`).
 * 4. `moveCredits`: one transaction debiting the source and crediting the
 *    target, each side with a ledger entry keyed `merge:{source}:{target}:credits`.
 * 5. `finish`: marks the progress item completed.
 *
 * A run interrupted anywhere is finished by running the merge again: step 1 is
 * skipped once the progress item exists, and the others notice what is done.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound } from '../../core/errors.js';
import { NumberAlreadyMoved, StaleNumberState } from '../../core/backend-failures.js';
import type { MergeNumber, MergePlan, MergeProgress, MergeRepository } from '../../core/merge.js';
import type { Clock } from '../../core/ports.js';
import * as entities from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { beginMergeParts, mergeKey } from './merge-begin.js';
import { DynamoMergeHistory } from './merge-history.js';
import { deleteMarker, numberKey, routeKeys } from './number-parts.js';
import { type TxPart, transact } from './transact.js';
import { gaugeRelease, ledgerPut, putNew } from './transaction-parts.js';

export class DynamoMergeRepository implements MergeRepository {
  private readonly ledger: DynamoLedger;
  private readonly history: DynamoMergeHistory;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
    this.history = new DynamoMergeHistory(doc, tableName);
  }

  async progress(sourceAccountId: string): Promise<MergeProgress | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.mergeProgress.key({ accountId: sourceAccountId }), ConsistentRead: true }),
    );
    return Item ? toProgress(Item) : undefined;
  }

  async begin(plan: MergePlan): Promise<MergeProgress> {
    const progress: MergeProgress = {
      sourceAccountId: plan.source.accountId,
      targetAccountId: plan.target.accountId,
      status: 'in_progress',
      numbers: plan.numbers,
      addonsMoved: plan.source.addons,
      creditsMovedMicros: 0,
      startedAt: plan.at,
    };
    const result = await transact(this.doc, beginMergeParts(this.tableName, plan, progress));
    if (result === 'committed') return progress;
    const started = await this.progress(plan.source.accountId);
    if (!started) throw new StaleNumberState('merge progress vanished');
    return started;
  }

  async moveNumber(progress: MergeProgress, number: MergeNumber): Promise<void> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    const sourceKey = numberKey({ accountId: s, whatsapp_phno: number.whatsapp_phno });
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: sourceKey, ConsistentRead: true }));
    if (!Item) return; // moved by an earlier run
    const at = this.clock.now().toISOString();
    const { pk: _pk, sk: _sk, catalogId, ...attributes } = Item;
    const moved = {
      ...attributes,
      ...numberKey({ accountId: t, whatsapp_phno: number.whatsapp_phno }),
      accountId: t,
      isDefault: number.becomesDefault,
      updatedAt: at,
      // The catalog is a default-number feature: it stays bound only if the number stays a default.
      ...(number.becomesDefault && catalogId ? { catalogId } : {}),
    };
    const repoint = (key: { pk: string; sk: string }, isDefault: boolean): TxPart => ({
      item: {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: isDefault ? 'SET accountId = :target, isDefault = :isDefault' : 'SET accountId = :target',
          ConditionExpression: 'accountId = :source',
          ExpressionAttributeValues: { ':source': s, ':target': t, ...(isDefault ? { ':isDefault': number.becomesDefault } : {}) },
        },
      },
    });
    const release = { accountId: s, idempotencyKey: mergeKey(s, t, `number:${number.whatsapp_phno}`), reason: 'merge:number-out', whatsappPhno: number.whatsapp_phno, refId: t };
    const parts: TxPart[] = [];
    if (!number.wasDefault) parts.push(ledgerPut(this.tableName, s, ledgerEntryOf(release, 'additionalNumbers', 1, at)));
    parts.push(
      {
        item: { Delete: { TableName: this.tableName, Key: sourceKey, ConditionExpression: 'attribute_exists(pk)' } },
        onConditionFailed: () => new NumberAlreadyMoved(number.whatsapp_phno),
      },
      putNew(this.tableName, moved),
      repoint(entities.numberClaim.key({ whatsappPhno: number.whatsapp_phno }), false),
      ...routeKeys(number).map((key) => repoint(key, true)),
      number.wasDefault
        ? deleteMarker(this.tableName, s, number.whatsapp_phno)
        : gaugeRelease(this.tableName, { ...release, resource: 'additionalNumbers', amount: 1 }, at),
    );
    try {
      await transact(this.doc, parts);
    } catch (error) {
      if (!(error instanceof NumberAlreadyMoved)) throw error;
    }
  }

  copyHistory(progress: MergeProgress): Promise<number> {
    return this.history.copyHistory(progress);
  }

  async moveCredits(progress: MergeProgress, at: string): Promise<number> {
    const s = progress.sourceAccountId;
    const t = progress.targetAccountId;
    const key = mergeKey(s, t, 'credits');
    for (let attempt = 1; ; attempt++) {
      const done = await this.ledger.amountOf(t, key);
      if (done !== undefined) return done;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.creditPool.key({ accountId: s }), ConsistentRead: true }));
      const balance = Item ? entities.creditPool.parse(Item).balanceMicros : 0;
      if (balance <= 0) return 0;
      try {
        const result = await transact(this.doc, [
          ledgerPut(this.tableName, s, { idempotencyKey: key, at, resource: 'credits', amount: -balance, reason: 'merge:credits-out', refId: t }),
          ledgerPut(this.tableName, t, { idempotencyKey: key, at, resource: 'credits', amount: balance, reason: 'merge:credits-in', refId: s }),
          {
            item: {
              Update: {
                TableName: this.tableName,
                Key: entities.creditPool.key({ accountId: s }),
                // The whole balance as read, so a refund landing meanwhile is not left behind half-moved.
                UpdateExpression: 'SET balanceMicros = balanceMicros - :b, transferredOutMicros = if_not_exists(transferredOutMicros, :zero) + :b, updatedAt = :at',
                ConditionExpression: 'balanceMicros = :b',
                ExpressionAttributeValues: { ':b': balance, ':zero': 0, ':at': at },
              },
            },
            onConditionFailed: () => new StaleNumberState('the source balance changed meanwhile'),
          },
          {
            item: {
              Update: {
                TableName: this.tableName,
                Key: entities.creditPool.key({ accountId: t }),
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
        if (!(error instanceof StaleNumberState) || attempt >= 10) throw error;
      }
    }
  }

  async finish(progress: MergeProgress, at: string): Promise<MergeProgress> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.mergeProgress.key({ accountId: progress.sourceAccountId }),
        UpdateExpression: 'SET #status = :completed, completedAt = if_not_exists(completedAt, :at), creditsMovedMicros = :credits',
        ConditionExpression: 'targetAccountId = :target',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':completed': 'completed', ':at': at, ':credits': progress.creditsMovedMicros, ':target': progress.targetAccountId },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toProgress(Attributes!);
  }
}

function toProgress(item: Record<string, unknown>): MergeProgress {
  const { completedAt, ...progress } = entities.mergeProgress.parse(item);
  return { ...progress, ...(completedAt ? { completedAt } : {}) };
}
