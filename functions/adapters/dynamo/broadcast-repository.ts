/**
 * Broadcasts on DynamoDB (see `schemas/table.ts`): the broadcast item under
 * its account (listed newest first per account on gsi1, per number on gsi2);
 * its chunks, chunk counters and recipient states in the `BRD#{id}`
 * partition; a wamid pointer per sent message.
 *
 * Every recipient change is one transaction: the recipient's state item with
 * the condition that makes the change valid (its send state, its current
 * rank), plus the chunk counter's increments, plus — for a refund — the
 * ledger entry, the pool and the number's spend (`DynamoQuotaStore` parts).
 * A failed condition means another event or run got there first: nothing is
 * counted twice.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { keys } from '../../../schemas/table.js';
import {
  type BroadcastMessageRef,
  type BroadcastRecord,
  type BroadcastRepository,
  type BroadcastTally,
  type FailureReason,
  type RecipientState,
  STAGE_RANK,
} from '../../core/broadcasts.js';
import type { Page, PageRequest } from '../../core/ports.js';
import type { DynamoQuotaStore } from './quota-store.js';
import { type TxPart, backoff, transact } from './transact.js';
import { queryAll, queryNewestFirst, writeIf } from './query.js';

/** Recipients per failure transaction: 100 items at most, one kept for the counter and one for a guard. */
const FAIL_BATCH = 98;
const FAILED_PREFIX = 'fail_';

/** A condition on a recipient item said no: someone else changed it first. */
class RecipientChanged extends Error {}
/** The reservation a "no credits" decision assumed absent exists now. */
class ReservationExists extends Error {}

export class DynamoBroadcastRepository implements BroadcastRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly quotas: DynamoQuotaStore,
  ) {}

  async create(broadcast: BroadcastRecord, chunks: string[][]): Promise<{ created: boolean }> {
    // The chunks first (idempotent overwrites of the same content), the broadcast item last: it is the commit point.
    const puts = chunks.map((recipients, chunk) => ({
      PutRequest: { Item: { ...keys.broadcastChunk(broadcast.broadcastId, chunk), type: 'broadcastChunk', chunk, recipients } },
    }));
    for (let i = 0; i < puts.length; i += 25) await this.batchWrite(puts.slice(i, i + 25));
    const order = `${broadcast.createdAt}#${broadcast.broadcastId}`;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.broadcast(broadcast.accountId, broadcast.broadcastId),
            type: 'broadcast',
            ...broadcast,
            gsi1pk: keys.broadcastsOfAccount(broadcast.accountId),
            gsi1sk: order,
            gsi2pk: keys.broadcastsOfNumber(broadcast.accountId, broadcast.whatsapp_phno),
            gsi2sk: order,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { created: false };
      throw error;
    }
  }

  async get(accountId: string, broadcastId: string): Promise<BroadcastRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.broadcast(accountId, broadcastId), ConsistentRead: true }),
    );
    return Item ? toBroadcast(Item) : undefined;
  }

  async list(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<BroadcastRecord>> {
    const index = filter.whatsappPhno
      ? { name: 'gsi2' as const, pk: keys.broadcastsOfNumber(accountId, filter.whatsappPhno) }
      : { name: 'gsi1' as const, pk: keys.broadcastsOfAccount(accountId) };
    const { items, nextCursor } = await queryNewestFirst(this.doc, this.tableName, index, page);
    return { items: items.map(toBroadcast), nextCursor };
  }

  async tally(broadcastId: string): Promise<BroadcastTally> {
    const tally: BroadcastTally = { sent: 0, delivered: 0, read: 0, failed: 0, replied: 0, done: 0, creditsSpentMicros: 0, failedReasons: {} };
    for (const item of await queryAll(this.doc, this.tableName, keys.broadcastPartition(broadcastId), keys.broadcastCountersPrefix())) {
      for (const field of ['sent', 'delivered', 'read', 'failed', 'replied', 'done', 'creditsSpentMicros'] as const) {
        tally[field] += (item[field] as number | undefined) ?? 0;
      }
      for (const [name, value] of Object.entries(item)) {
        if (name.startsWith(FAILED_PREFIX) && typeof value === 'number' && value !== 0) {
          const reason = name.slice(FAILED_PREFIX.length);
          tally.failedReasons[reason] = (tally.failedReasons[reason] ?? 0) + value;
        }
      }
    }
    return tally;
  }

  async markEnqueued(accountId: string, broadcastId: string, at: string): Promise<void> {
    await this.updateIf({
      Key: keys.broadcast(accountId, broadcastId),
      UpdateExpression: 'SET enqueuedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(enqueuedAt)',
      ExpressionAttributeValues: { ':at': at },
    });
  }

  async markSending(accountId: string, broadcastId: string, at: string): Promise<void> {
    await this.updateIf({
      Key: keys.broadcast(accountId, broadcastId),
      UpdateExpression: 'SET #status = :sending, startedAt = :at',
      ConditionExpression: '#status = :queued',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sending': 'sending', ':queued': 'queued', ':at': at },
    });
  }

  async chunkRecipients(broadcastId: string, chunk: number): Promise<string[] | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.broadcastChunk(broadcastId, chunk), ConsistentRead: true }));
    return Item?.recipients as string[] | undefined;
  }

  async recipientStates(broadcastId: string, waIds: string[]): Promise<Map<string, RecipientState>> {
    const states = new Map<string, RecipientState>();
    for (let i = 0; i < waIds.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = waIds.slice(i, i + 100).map((waId) => keys.broadcastRecipient(broadcastId, waId));
      for (let attempt = 1; pending && pending.length > 0; attempt++) {
        const answer = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of answer.Responses?.[this.tableName] ?? []) {
          const state = toRecipientState(item);
          states.set(state.waId, state);
        }
        pending = answer.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
        if (pending?.length) await backoff(attempt, 20, 1000);
      }
    }
    return states;
  }

  async claimRecipient(broadcastId: string, claim: { waId: string; chunk: number; priceMicros: number; period: string; claimedAt: string }): Promise<boolean> {
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.broadcastRecipient(broadcastId, claim.waId),
          type: 'broadcastRecipient',
          ...claim,
          status: 'sending',
          rank: 0,
          charged: false,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async recordSent(broadcast: BroadcastRecord, sent: { waId: string; chunk: number; wamid: string; priceMicros: number; at: string }): Promise<void> {
    const pointer: BroadcastMessageRef = {
      accountId: broadcast.accountId,
      broadcastId: broadcast.broadcastId,
      whatsapp_phno: broadcast.whatsapp_phno,
      waId: sent.waId,
      chunk: sent.chunk,
      wamid: sent.wamid,
    };
    try {
      await transact(this.doc, [
        {
          item: {
            Update: {
              TableName: this.tableName,
              Key: keys.broadcastRecipient(broadcast.broadcastId, sent.waId),
              UpdateExpression: 'SET #status = :sent, #rank = :rank, wamid = :wamid, sentAt = :at, charged = :true',
              ConditionExpression: '#status = :sending',
              ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank' },
              ExpressionAttributeValues: { ':sent': 'sent', ':sending': 'sending', ':rank': STAGE_RANK.sent, ':wamid': sent.wamid, ':at': sent.at, ':true': true },
            },
          },
          onConditionFailed: () => new RecipientChanged(),
        },
        this.counter(broadcast.broadcastId, sent.chunk, { sent: 1, done: 1, creditsSpentMicros: sent.priceMicros }),
        { item: { Put: { TableName: this.tableName, Item: { ...keys.broadcastWamid(sent.wamid), type: 'broadcastWamid', ...pointer } } } },
      ]);
    } catch (error) {
      // Settled as `send_outcome_unknown` by a later run meanwhile (it kept the price): nothing more to record.
      if (!(error instanceof RecipientChanged)) throw error;
    }
  }

  async recordSendFailed(
    broadcastId: string,
    failed: { waId: string; chunk: number; reason: FailureReason; detail?: string; chargedMicros: number; at: string },
  ): Promise<boolean> {
    const charged = failed.chargedMicros > 0;
    try {
      await transact(this.doc, [
        {
          item: {
            Update: {
              TableName: this.tableName,
              Key: keys.broadcastRecipient(broadcastId, failed.waId),
              UpdateExpression: `SET #status = :failed, reason = :reason, failedAt = :at, charged = :charged${failed.detail ? ', failureDetail = :detail' : ''}`,
              ConditionExpression: '#status = :sending',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':failed': 'failed',
                ':sending': 'sending',
                ':reason': failed.reason,
                ':at': failed.at,
                ':charged': charged,
                ...(failed.detail ? { ':detail': failed.detail } : {}),
              },
            },
          },
          onConditionFailed: () => new RecipientChanged(),
        },
        this.counter(broadcastId, failed.chunk, {
          failed: 1,
          done: 1,
          [`${FAILED_PREFIX}${failed.reason}`]: 1,
          ...(charged ? { creditsSpentMicros: failed.chargedMicros } : {}),
        }),
      ]);
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  async failUnsent(
    broadcastId: string,
    chunk: number,
    waIds: string[],
    reason: FailureReason,
    at: string,
    unlessReservation?: { accountId: string; reservationId: string },
  ): Promise<number | 'reservation-exists'> {
    let failed = 0;
    try {
      for (let i = 0; i < waIds.length; i += FAIL_BATCH) {
        const batch = waIds.slice(i, i + FAIL_BATCH);
        try {
          await transact(this.doc, this.failUnsentParts(broadcastId, chunk, batch, reason, at, unlessReservation));
          failed += batch.length;
        } catch (error) {
          if (!(error instanceof RecipientChanged)) throw error;
          // Someone took one of them meanwhile: one by one, skipping those.
          for (const waId of batch) {
            try {
              await transact(this.doc, this.failUnsentParts(broadcastId, chunk, [waId], reason, at, unlessReservation));
              failed++;
            } catch (single) {
              if (!(single instanceof RecipientChanged)) throw single;
            }
          }
        }
      }
    } catch (error) {
      if (error instanceof ReservationExists) return 'reservation-exists';
      throw error;
    }
    return failed;
  }

  async pointer(wamid: string): Promise<BroadcastMessageRef | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.broadcastWamid(wamid), ConsistentRead: true }));
    if (!Item) return undefined;
    const { accountId, broadcastId, whatsapp_phno, waId, chunk } = Item as unknown as BroadcastMessageRef;
    return { accountId, broadcastId, whatsapp_phno, waId, chunk, wamid };
  }

  async advanceStage(ref: BroadcastMessageRef, from: number, to: number, at: string): Promise<boolean> {
    // Every stage passed is counted, including one Meta skipped (a `read` first counts delivered too).
    const increments: Record<string, number> = {};
    if (from < STAGE_RANK.delivered && to >= STAGE_RANK.delivered) increments.delivered = 1;
    if (from < STAGE_RANK.read && to >= STAGE_RANK.read) increments.read = 1;
    const stamp = to >= STAGE_RANK.read ? 'readAt' : 'deliveredAt';
    try {
      await transact(this.doc, [
        {
          item: {
            Update: {
              TableName: this.tableName,
              Key: keys.broadcastRecipient(ref.broadcastId, ref.waId),
              UpdateExpression: `SET #rank = :to, ${stamp} = :at`,
              ConditionExpression: '#status = :sent AND #rank = :from',
              ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank' },
              ExpressionAttributeValues: { ':sent': 'sent', ':from': from, ':to': to, ':at': at },
            },
          },
          onConditionFailed: () => new RecipientChanged(),
        },
        this.counter(ref.broadcastId, ref.chunk, increments),
      ]);
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  async failAfterSend(ref: BroadcastMessageRef, state: RecipientState, failure: { metaCode?: string; at: string }): Promise<boolean> {
    const price = state.charged ? state.priceMicros : 0;
    const recipient: TxPart = {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.broadcastRecipient(ref.broadcastId, ref.waId),
          UpdateExpression: `SET #status = :failed, reason = :reason, failedAt = :at, refunded = :refunded${failure.metaCode ? ', failureDetail = :code' : ''}`,
          ConditionExpression: '#status = :sent AND #rank = :rank',
          ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':sent': 'sent',
            ':rank': state.rank,
            ':reason': 'meta_failed',
            ':at': failure.at,
            ':refunded': price > 0,
            ...(failure.metaCode ? { ':code': failure.metaCode } : {}),
          },
        },
      },
      onConditionFailed: () => new RecipientChanged(),
    };
    const counter = this.counter(ref.broadcastId, ref.chunk, {
      sent: -1,
      failed: 1,
      [`${FAILED_PREFIX}meta_failed`]: 1,
      ...(price > 0 ? { creditsSpentMicros: -price } : {}),
    });
    try {
      if (price === 0) {
        await transact(this.doc, [recipient, counter]);
        return true;
      }
      // The refund: ledger entry (keyed by the wamid, so once), pool and the number's spend, with the recipient and its counter.
      await this.quotas.apply(
        this.quotas.entry({ idempotencyKey: `refund:${ref.wamid}`, reason: 'broadcast:refund', whatsappPhno: ref.whatsapp_phno, refId: ref.broadcastId }, 'credits', price),
        [
          recipient,
          counter,
          this.quotas.creditReturnPart(ref.accountId, price),
          this.quotas.numberSpendPart({ accountId: ref.accountId, whatsappPhno: ref.whatsapp_phno, period: state.period, deltaMicros: -price }),
        ],
        ref.accountId,
      );
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  async recordReply(ref: BroadcastMessageRef, at: string): Promise<boolean> {
    try {
      await transact(this.doc, [
        {
          item: {
            Update: {
              TableName: this.tableName,
              Key: keys.broadcastRecipient(ref.broadcastId, ref.waId),
              UpdateExpression: 'SET repliedAt = :at',
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(repliedAt)',
              ExpressionAttributeValues: { ':at': at },
            },
          },
          onConditionFailed: () => new RecipientChanged(),
        },
        this.counter(ref.broadcastId, ref.chunk, { replied: 1 }),
      ]);
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  // --- parts -------------------------------------------------------------------

  /** Adds to a chunk's counters (created by the first increment). */
  private counter(broadcastId: string, chunk: number, increments: Record<string, number>): TxPart {
    const entries = Object.entries(increments).filter(([, n]) => n !== 0);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':chunk': chunk };
    const adds = entries.map(([field, n], i) => {
      names[`#c${i}`] = field;
      values[`:c${i}`] = n;
      return `#c${i} :c${i}`;
    });
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.broadcastCounter(broadcastId, chunk),
          UpdateExpression: `SET chunk = :chunk${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ...(adds.length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        },
      },
    };
  }

  private failUnsentParts(
    broadcastId: string,
    chunk: number,
    waIds: string[],
    reason: FailureReason,
    at: string,
    unlessReservation?: { accountId: string; reservationId: string },
  ): TxPart[] {
    const parts: TxPart[] = waIds.map((waId) => ({
      item: {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.broadcastRecipient(broadcastId, waId),
            type: 'broadcastRecipient',
            waId,
            chunk,
            status: 'failed',
            rank: 0,
            priceMicros: 0,
            charged: false,
            reason,
            claimedAt: at,
            failedAt: at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => new RecipientChanged(),
    }));
    if (unlessReservation) {
      parts.push({
        item: {
          ConditionCheck: {
            TableName: this.tableName,
            Key: keys.reservation(unlessReservation.accountId, unlessReservation.reservationId),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: () => new ReservationExists(),
      });
    }
    parts.push(this.counter(broadcastId, chunk, { failed: waIds.length, done: waIds.length, [`${FAILED_PREFIX}${reason}`]: waIds.length }));
    return parts;
  }

  private updateIf(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    return writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, ...input }));
  }

  private async batchWrite(requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answer = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = answer.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length) await backoff(attempt, 20, 1000);
    }
  }
}

function toBroadcast(item: Record<string, unknown>): BroadcastRecord {
  const b = item as unknown as BroadcastRecord;
  return {
    accountId: b.accountId,
    broadcastId: b.broadcastId,
    whatsapp_phno: b.whatsapp_phno,
    phoneNumberId: b.phoneNumberId,
    template: b.template,
    recipients: b.recipients,
    chunkCount: b.chunkCount,
    status: b.status,
    createdAt: b.createdAt,
    ...(b.startedAt ? { startedAt: b.startedAt } : {}),
    ...(b.enqueuedAt ? { enqueuedAt: b.enqueuedAt } : {}),
  };
}

function toRecipientState(item: Record<string, unknown>): RecipientState {
  const r = item as unknown as RecipientState;
  return {
    waId: r.waId,
    chunk: r.chunk,
    status: r.status,
    rank: r.rank ?? 0,
    priceMicros: r.priceMicros ?? 0,
    charged: r.charged === true,
    period: r.period,
    claimedAt: r.claimedAt,
    ...(r.wamid ? { wamid: r.wamid } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.repliedAt ? { repliedAt: r.repliedAt } : {}),
  };
}
