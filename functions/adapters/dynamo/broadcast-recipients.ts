/**
 * A broadcast's recipients on DynamoDB: each recipient's state item in the
 * `BRD#{broadcastId}` partition, and the chunk counters it moves.
 *
 * Every recipient change is one transaction: the state item with the
 * condition that makes the change valid (its send state, its current rank),
 * plus the chunk counter's increments, plus, for a refund, the ledger entry,
 * the pool and the number's spend (`transaction-parts.ts`). A failed
 * condition means another event or run got there first: nothing is counted
 * twice.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { type BroadcastMessageRef, type BroadcastRecord, type FailureReason, type RecipientState, STAGE_RANK, type SkipReason } from '../../core/broadcast-ports.js';
import { ReservationExists } from '../../core/errors.js';
import { RecipientChanged } from '../../core/backend-failures.js';
import type { Clock } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { batchGetAll } from './query.js';
import { type TransactItem, type TxPart, transact } from './transact.js';
import { creditAdd, numberSpendChange } from './transaction-parts.js';
import { updateExpression } from './update-expression.js';

/** An `Update`'s expression parts, its table and key aside. */
type RecipientChange = Omit<NonNullable<TransactItem['Update']>, 'TableName' | 'Key'>;

/** Recipients per failure transaction: 100 items at most, one kept for the counter and one for a guard. */
const FAIL_BATCH = 98;

export class DynamoBroadcastRecipients {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  async recipientStates(broadcastId: string, waIds: string[]): Promise<Map<string, RecipientState>> {
    const states = new Map<string, RecipientState>();
    const items = await batchGetAll(this.doc, this.tableName, waIds.map((waId) => entities.broadcastRecipient.key({ broadcastId, waId })));
    for (const item of items) {
      const state = toRecipientState(entities.broadcastRecipient.parse(item));
      states.set(state.waId, state);
    }
    return states;
  }

  async claimRecipient(broadcastId: string, claim: { waId: string; chunk: number; priceMicros: number; period: string; claimedAt: string }): Promise<boolean> {
    const put = new PutCommand({
      TableName: this.tableName,
      Item: entities.broadcastRecipient.item({ broadcastId, waId: claim.waId }, { ...claim, status: 'sending', rank: 0, charged: false }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    return (await writeIf(this.doc, put)).applied;
  }

  async releaseRecipient(broadcastId: string, claim: { waId: string; claimedAt: string }): Promise<boolean> {
    const remove = new DeleteCommand({
      TableName: this.tableName,
      Key: entities.broadcastRecipient.key({ broadcastId, waId: claim.waId }),
      ConditionExpression: '#status = :sending AND claimedAt = :claimedAt',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sending': 'sending', ':claimedAt': claim.claimedAt },
    });
    return (await writeIf(this.doc, remove)).applied;
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
    const recipient = this.recipientUpdate(broadcast.broadcastId, sent.waId, {
      UpdateExpression: 'SET #status = :sent, #rank = :rank, wamid = :wamid, sentAt = :at, charged = :true',
      ConditionExpression: '#status = :sending',
      ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank' },
      ExpressionAttributeValues: { ':sent': 'sent', ':sending': 'sending', ':rank': STAGE_RANK.sent, ':wamid': sent.wamid, ':at': sent.at, ':true': true },
    });
    // Settled as `send_outcome_unknown` by a later run meanwhile (it kept the price): nothing more to record.
    await this.unlessChanged([
      recipient,
      this.counter(broadcast.broadcastId, sent.chunk, { sent: 1, done: 1, creditsSpentMicros: sent.priceMicros }),
      { item: { Put: { TableName: this.tableName, Item: entities.broadcastWamid.item({ wamid: sent.wamid }, pointer) } } },
    ]);
  }

  recordSendFailed(
    broadcastId: string,
    failed: { waId: string; chunk: number; reason: FailureReason; detail?: string; chargedMicros: number; at: string },
  ): Promise<boolean> {
    const charged = failed.chargedMicros > 0;
    const recipient = this.recipientUpdate(broadcastId, failed.waId, {
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
    });
    return this.unlessChanged([
      recipient,
      this.counter(broadcastId, failed.chunk, {
        failed: 1,
        done: 1,
        [`${entities.FAILED_PREFIX}${failed.reason}`]: 1,
        ...(charged ? { creditsSpentMicros: failed.chargedMicros } : {}),
      }),
    ]);
  }

  async failUnsent(
    broadcastId: string,
    chunk: number,
    waIds: string[],
    reason: FailureReason,
    at: string,
    unlessReservation?: { accountId: string; reservationId: string },
  ): Promise<number | 'reservation-exists'> {
    try {
      return await this.putUnsent(waIds, (batch) => this.failUnsentParts(broadcastId, chunk, batch, reason, at, unlessReservation));
    } catch (error) {
      if (error instanceof ReservationExists) return 'reservation-exists';
      throw error;
    }
  }

  skipUnsent(broadcastId: string, chunk: number, waIds: string[], reason: SkipReason, at: string): Promise<number> {
    return this.putUnsent(waIds, (batch) => [
      ...batch.map((waId) => this.unsentPut(broadcastId, { waId, chunk, status: 'skipped', rank: 0, priceMicros: 0, charged: false, reason, claimedAt: at, skippedAt: at })),
      this.counter(broadcastId, chunk, { skippedOptOut: batch.length, done: batch.length }),
    ]);
  }

  /** Puts pending recipients' states in batches (each with its counter); a batch someone took part of meanwhile goes one by one, skipping those. */
  private async putUnsent(waIds: string[], partsOf: (batch: string[]) => TxPart[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < waIds.length; i += FAIL_BATCH) {
      const batch = waIds.slice(i, i + FAIL_BATCH);
      if (await this.unlessChanged(partsOf(batch))) {
        written += batch.length;
        continue;
      }
      for (const waId of batch) {
        if (await this.unlessChanged(partsOf([waId]))) written++;
      }
    }
    return written;
  }

  async pointer(wamid: string): Promise<BroadcastMessageRef | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.broadcastWamid.key({ wamid }), ConsistentRead: true }));
    if (!Item) return undefined;
    const { accountId, broadcastId, whatsapp_phno, waId, chunk } = entities.broadcastWamid.parse(Item);
    return { accountId, broadcastId, whatsapp_phno, waId, chunk, wamid };
  }

  advanceStage(ref: BroadcastMessageRef, from: number, to: number, at: string): Promise<boolean> {
    // Every stage passed is counted, including one Meta skipped (a `read` first counts delivered too).
    const increments: Record<string, number> = {};
    if (from < STAGE_RANK.delivered && to >= STAGE_RANK.delivered) increments.delivered = 1;
    if (from < STAGE_RANK.read && to >= STAGE_RANK.read) increments.read = 1;
    const stamp = to >= STAGE_RANK.read ? 'readAt' : 'deliveredAt';
    return this.unlessChanged([
      this.recipientUpdate(ref.broadcastId, ref.waId, {
        UpdateExpression: `SET #rank = :to, ${stamp} = :at`,
        ConditionExpression: '#status = :sent AND #rank = :from',
        ExpressionAttributeNames: { '#status': 'status', '#rank': 'rank' },
        ExpressionAttributeValues: { ':sent': 'sent', ':from': from, ':to': to, ':at': at },
      }),
      this.counter(ref.broadcastId, ref.chunk, increments),
    ]);
  }

  async failAfterSend(ref: BroadcastMessageRef, state: RecipientState, failure: { metaCode?: string; at: string }): Promise<boolean> {
    const price = state.charged ? state.priceMicros : 0;
    const recipient = this.recipientUpdate(ref.broadcastId, ref.waId, {
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
    });
    const counter = this.counter(ref.broadcastId, ref.chunk, {
      sent: -1,
      failed: 1,
      [`${entities.FAILED_PREFIX}meta_failed`]: 1,
      ...(price > 0 ? { creditsSpentMicros: -price } : {}),
    });
    if (price === 0) return this.unlessChanged([recipient, counter]);
    // The refund: ledger entry (keyed by the wamid, so once), pool and the number's spend, with the recipient and its counter.
    const at = this.clock.now().toISOString();
    const refund = { idempotencyKey: `refund:${ref.wamid}`, reason: 'broadcast:refund', whatsappPhno: ref.whatsapp_phno, refId: ref.broadcastId };
    try {
      await this.ledger.commit(ref.accountId, ledgerEntryOf(refund, 'credits', price, at), [
        recipient,
        counter,
        creditAdd(this.tableName, { accountId: ref.accountId, amountMicros: price, returning: true }, at),
        numberSpendChange(this.tableName, { accountId: ref.accountId, whatsappPhno: ref.whatsapp_phno, period: state.period, deltaMicros: -price }, at),
      ]);
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  recordReply(ref: BroadcastMessageRef, at: string): Promise<boolean> {
    return this.unlessChanged([
      this.recipientUpdate(ref.broadcastId, ref.waId, {
        UpdateExpression: 'SET repliedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(repliedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
      this.counter(ref.broadcastId, ref.chunk, { replied: 1 }),
    ]);
  }

  // --- parts -------------------------------------------------------------------

  /** Runs the transaction: `false` when a recipient's condition said no (another event or run got there first). */
  private async unlessChanged(parts: TxPart[]): Promise<boolean> {
    try {
      await transact(this.doc, parts);
      return true;
    } catch (error) {
      if (error instanceof RecipientChanged) return false;
      throw error;
    }
  }

  /** A change of one recipient's state, conditioned on the state it moves from. */
  private recipientUpdate(broadcastId: string, waId: string, update: RecipientChange): TxPart {
    return {
      item: { Update: { TableName: this.tableName, Key: entities.broadcastRecipient.key({ broadcastId, waId }), ...update } },
      onConditionFailed: () => new RecipientChanged(),
    };
  }

  /** Adds to a chunk's counters (created by the first increment). */
  private counter(broadcastId: string, chunk: number, increments: Record<string, number>): TxPart {
    return {
      item: {
        Update: { TableName: this.tableName, Key: entities.broadcastCounter.key({ broadcastId, chunk }), ...updateExpression({ set: { chunk }, add: increments }) },
      },
    };
  }

  /** A pending recipient's state, put only while it has none. */
  private unsentPut(broadcastId: string, state: z.input<typeof entities.broadcastRecipient.schema>): TxPart {
    return {
      item: {
        Put: {
          TableName: this.tableName,
          Item: entities.broadcastRecipient.item({ broadcastId, waId: state.waId }, state),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => new RecipientChanged(),
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
    const parts: TxPart[] = waIds.map((waId) =>
      this.unsentPut(broadcastId, { waId, chunk, status: 'failed', rank: 0, priceMicros: 0, charged: false, reason, claimedAt: at, failedAt: at }),
    );
    if (unlessReservation) {
      parts.push({
        item: {
          ConditionCheck: {
            TableName: this.tableName,
            Key: entities.reservation.key(unlessReservation),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: () => new ReservationExists(unlessReservation.reservationId),
      });
    }
    parts.push(this.counter(broadcastId, chunk, { failed: waIds.length, done: waIds.length, [`${entities.FAILED_PREFIX}${reason}`]: waIds.length }));
    return parts;
  }
}

function toRecipientState(r: ReturnType<typeof entities.broadcastRecipient.parse>): RecipientState {
  return {
    waId: r.waId,
    chunk: r.chunk,
    status: r.status,
    rank: r.rank,
    priceMicros: r.priceMicros,
    charged: r.charged,
    period: r.period,
    claimedAt: r.claimedAt,
    ...(r.wamid ? { wamid: r.wamid } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.repliedAt ? { repliedAt: r.repliedAt } : {}),
  };
}
