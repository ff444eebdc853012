/**
 * Broadcasts on DynamoDB, as the core's `BroadcastRepository`: the broadcast
 * item under its account (listed newest first per account on gsi1, per
 * number on gsi2), its chunks and summed chunk counters in the
 * `BRD#{broadcastId}` partition; the recipients' states and what moves them
 * are `broadcast-recipients.ts`.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  BroadcastMessageRef,
  BroadcastRecord,
  BroadcastRepository,
  BroadcastTally,
  FailureReason,
  RecipientState,
  SkipReason,
} from '../../core/broadcast-ports.js';
import type { Clock, Page, PageRequest } from '../../core/ports.js';
import { DynamoBroadcastRecipients } from './broadcast-recipients.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { queryAll, queryPage } from './query.js';
import { backoff } from './transact.js';
import { updateExpression } from './update-expression.js';

const { gsi1: byAccount, gsi2: byNumber } = entities.broadcast.indexes;
const COUNTED = ['sent', 'delivered', 'read', 'failed', 'replied', 'done', 'creditsSpentMicros', 'skippedOptOut'] as const;

type WriteRequests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string];

export class DynamoBroadcastRepository implements BroadcastRepository {
  private readonly recipients: DynamoBroadcastRecipients;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    clock: Clock,
  ) {
    this.recipients = new DynamoBroadcastRecipients(doc, tableName, clock);
  }

  async create(broadcast: BroadcastRecord, chunks: string[][]): Promise<{ created: boolean }> {
    // The chunks first (idempotent overwrites of the same content), the broadcast item last: it is the commit point.
    const puts = chunks.map((recipients, chunk) => ({
      PutRequest: { Item: entities.broadcastChunk.item({ broadcastId: broadcast.broadcastId, chunk }, { chunk, recipients }) },
    }));
    for (let i = 0; i < puts.length; i += 25) await this.batchWrite(puts.slice(i, i + 25));
    const put = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.broadcast.item(
          { accountId: broadcast.accountId, broadcastId: broadcast.broadcastId, createdAt: broadcast.createdAt, whatsappPhno: broadcast.whatsapp_phno },
          broadcast,
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { created: put.applied };
  }

  async get(accountId: string, broadcastId: string): Promise<BroadcastRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.broadcast.key({ accountId, broadcastId }), ConsistentRead: true }));
    return Item ? toBroadcast(entities.broadcast.parse(Item)) : undefined;
  }

  async list(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<BroadcastRecord>> {
    const { whatsappPhno } = filter;
    const query = whatsappPhno
      ? { index: byNumber, partition: byNumber.partition({ accountId, whatsappPhno }) }
      : { index: byAccount, partition: byAccount.partition({ accountId }) };
    const { items, nextCursor } = await queryPage(this.doc, this.tableName, { entity: entities.broadcast, ...query, newestFirst: true }, page);
    return { items: items.map(toBroadcast), nextCursor };
  }

  /** The chunk counters, summed. */
  async tally(broadcastId: string): Promise<BroadcastTally> {
    const tally: BroadcastTally = { sent: 0, delivered: 0, read: 0, failed: 0, replied: 0, done: 0, creditsSpentMicros: 0, failedReasons: {}, skippedOptOut: 0, deferred: 0 };
    const counters = await queryAll(this.doc, this.tableName, entities.broadcastCounter.partition({ broadcastId }), entities.broadcastCounter.skPrefix());
    for (const counter of counters.map((item) => entities.broadcastCounter.parse(item))) {
      for (const field of COUNTED) tally[field] += counter[field];
      if (counter.deferred > 0) {
        tally.deferred += counter.deferred;
        if (counter.resumesAt && (!tally.resumesAt || counter.resumesAt < tally.resumesAt)) tally.resumesAt = counter.resumesAt;
      }
      for (const [name, value] of Object.entries(counter)) {
        if (name.startsWith(entities.FAILED_PREFIX) && typeof value === 'number' && value !== 0) {
          const reason = name.slice(entities.FAILED_PREFIX.length);
          tally.failedReasons[reason] = (tally.failedReasons[reason] ?? 0) + value;
        }
      }
    }
    return tally;
  }

  async markEnqueued(accountId: string, broadcastId: string, at: string): Promise<void> {
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.broadcast.key({ accountId, broadcastId }),
        UpdateExpression: 'SET enqueuedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(enqueuedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async setDeferred(broadcastId: string, chunk: number, count: number, resumesAt?: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.broadcastCounter.key({ broadcastId, chunk }),
        ...updateExpression({ set: { chunk, deferred: count, resumesAt }, remove: resumesAt ? [] : ['resumesAt'] }),
      }),
    );
  }

  async markSending(accountId: string, broadcastId: string, at: string): Promise<void> {
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.broadcast.key({ accountId, broadcastId }),
        UpdateExpression: 'SET #status = :sending, startedAt = :at',
        ConditionExpression: '#status = :queued',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':queued': 'queued', ':at': at },
      }),
    );
  }

  async chunkRecipients(broadcastId: string, chunk: number): Promise<string[] | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.broadcastChunk.key({ broadcastId, chunk }), ConsistentRead: true }));
    return Item ? entities.broadcastChunk.parse(Item).recipients : undefined;
  }

  // --- recipients (`broadcast-recipients.ts`) ----------------------------------------

  recipientStates(broadcastId: string, waIds: string[]): Promise<Map<string, RecipientState>> {
    return this.recipients.recipientStates(broadcastId, waIds);
  }

  claimRecipient(broadcastId: string, claim: { waId: string; chunk: number; priceMicros: number; period: string; claimedAt: string }): Promise<boolean> {
    return this.recipients.claimRecipient(broadcastId, claim);
  }

  releaseRecipient(broadcastId: string, claim: { waId: string; claimedAt: string }): Promise<boolean> {
    return this.recipients.releaseRecipient(broadcastId, claim);
  }

  recordSent(broadcast: BroadcastRecord, sent: { waId: string; chunk: number; wamid: string; priceMicros: number; at: string }): Promise<void> {
    return this.recipients.recordSent(broadcast, sent);
  }

  recordSendFailed(broadcastId: string, failed: { waId: string; chunk: number; reason: FailureReason; detail?: string; chargedMicros: number; at: string }): Promise<boolean> {
    return this.recipients.recordSendFailed(broadcastId, failed);
  }

  failUnsent(
    broadcastId: string,
    chunk: number,
    waIds: string[],
    reason: FailureReason,
    at: string,
    unlessReservation?: { accountId: string; reservationId: string },
  ): Promise<number | 'reservation-exists'> {
    return this.recipients.failUnsent(broadcastId, chunk, waIds, reason, at, unlessReservation);
  }

  skipUnsent(broadcastId: string, chunk: number, waIds: string[], reason: SkipReason, at: string): Promise<number> {
    return this.recipients.skipUnsent(broadcastId, chunk, waIds, reason, at);
  }

  pointer(wamid: string): Promise<BroadcastMessageRef | undefined> {
    return this.recipients.pointer(wamid);
  }

  advanceStage(ref: BroadcastMessageRef, from: number, to: number, at: string): Promise<boolean> {
    return this.recipients.advanceStage(ref, from, to, at);
  }

  failAfterSend(ref: BroadcastMessageRef, state: RecipientState, failure: { metaCode?: string; at: string }): Promise<boolean> {
    return this.recipients.failAfterSend(ref, state, failure);
  }

  recordReply(ref: BroadcastMessageRef, at: string): Promise<boolean> {
    return this.recipients.recordReply(ref, at);
  }

  private async batchWrite(requests: WriteRequests): Promise<void> {
    let pending = requests;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const answer = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      pending = answer.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length) await backoff(attempt, 20, 1000);
    }
  }
}

function toBroadcast(b: ReturnType<typeof entities.broadcast.parse>): BroadcastRecord {
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
