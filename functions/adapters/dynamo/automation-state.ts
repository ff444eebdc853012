/**
 * The automation consumer's state on DynamoDB (`AutomationRunState`,
 * docs/automations.md "The consumer"): every change one conditional write,
 * the session's start one transaction with its quota unit.
 *
 * - Claim per `(phoneNumberId, wamid)`: an update that passes only when no
 *   claim exists or an `in-progress` one's lease has run out (a takeover keeps
 *   the stopped run's plan and progress); `decided` once the decision is in.
 * - Conversation lock: a put that passes when there is none, its lease ran
 *   out, or it is ours; released by a delete conditioned on the owner.
 * - Session start: ledger entry `chatbot:{whatsapp_phno}:{wamid}` (`attribute_not_exists`),
 *   the `chatbotSessions` period counter (`remaining >= 1`) and the session
 *   put, in one `TransactWriteItems` (`DynamoLedger.commit`): a replayed wamid
 *   cancels on the ledger entry and takes nothing; a spent quota cancels on
 *   the counter (`QuotaExceeded`) and opens nothing.
 * - Reply buckets, the fallback marker, the round-robin cursor: counters and
 *   markers moved only under a condition on their stored value.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AutomationDecision } from '../../../schemas/automations.js';
import type { AutomationRunState, RunProgress } from '../../core/automation-consumer.js';
import type { ChatbotSession, ClaimResult, StartSession } from '../../core/automation-ports.js';
import { InternalError, QuotaExceeded, StaleRead } from '../../core/errors.js';
import type { ConversationRef } from '../../core/inbox-ports.js';
import type { Clock } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { DynamoConversationRepository } from './conversation-repository.js';
import * as entities from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { backoff } from './transact.js';
import { periodConsume } from './transaction-parts.js';
import { ifNotExists, increment, updateExpression } from './update-expression.js';

/** Claims outlive Meta's 7 days of redeliveries, as the inbox's dedupe records do. */
const CLAIM_RETENTION_SECONDS = 10 * 24 * 60 * 60;
/** Locks, reply buckets and fallback markers are short-lived; TTL sweeps what is left of them. */
const SHORT_RETENTION_SECONDS = 24 * 60 * 60;
const SESSION_IDLE_SECONDS = 24 * 60 * 60;

/** A time as DynamoDB's TTL reads it (epoch seconds). */
export const epochSeconds = (at: Date | string | number) => Math.floor(new Date(at).getTime() / 1000);

export class DynamoAutomationState implements AutomationRunState {
  private readonly ledger: DynamoLedger;
  private readonly conversations: DynamoConversationRepository;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
    this.conversations = new DynamoConversationRepository(doc, tableName);
  }

  // ------------------------------------------------------------ claims

  async claim(phoneNumberId: string, wamid: string, at: Date, leaseSeconds: number): Promise<ClaimResult> {
    return (await this.claimRun(phoneNumberId, wamid, at, leaseSeconds)).claim;
  }

  async claimRun(phoneNumberId: string, wamid: string, at: Date, leaseSeconds: number): Promise<{ claim: ClaimResult; progress?: RunProgress }> {
    const now = at.getTime();
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.automationClaim.key({ phoneNumberId, wamid }),
        ...updateExpression(
          {
            set: {
              type: entities.automationClaim.type,
              status: 'in-progress',
              leaseUntilMs: now + leaseSeconds * 1000,
              claimedAt: at.toISOString(),
              expiresAt: ifNotExists(epochSeconds(at) + CLAIM_RETENTION_SECONDS),
            },
          },
          {
            expression: 'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntilMs < :now)',
            names: { '#status': 'status' },
            values: { ':inProgress': 'in-progress', ':now': now },
          },
        ),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!outcome.applied) {
      const existing = outcome.existing ? entities.automationClaim.parse(outcome.existing) : undefined;
      return { claim: existing?.status === 'decided' ? 'decided' : 'in-progress' };
    }
    const claimed = entities.automationClaim.parse(outcome.attributes ?? {});
    // A run that stopped half-way left its plan: the taker carries it on.
    return claimed.progress ? { claim: 'claimed', progress: claimed.progress as unknown as RunProgress } : { claim: 'claimed' };
  }

  async saveProgress(phoneNumberId: string, wamid: string, progress: RunProgress): Promise<void> {
    await this.updateInProgressClaim(phoneNumberId, wamid, { progress });
  }

  async release(phoneNumberId: string, wamid: string, progress?: RunProgress): Promise<void> {
    await this.updateInProgressClaim(phoneNumberId, wamid, { leaseUntilMs: 0, progress });
  }

  /** Sets attributes of a claim that is still in progress (a decided claim is never touched again). */
  private async updateInProgressClaim(phoneNumberId: string, wamid: string, set: Record<string, unknown>): Promise<void> {
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.automationClaim.key({ phoneNumberId, wamid }),
        ...updateExpression(
          { set },
          { expression: 'attribute_exists(pk) AND #status = :inProgress', names: { '#status': 'status' }, values: { ':inProgress': 'in-progress' } },
        ),
      }),
    );
  }

  async complete(phoneNumberId: string, wamid: string, ref: ConversationRef, decision: AutomationDecision): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.automationClaim.key({ phoneNumberId, wamid }),
        ...updateExpression({
          set: {
            type: entities.automationClaim.type,
            status: 'decided',
            decision,
            decidedAt: decision.decidedAt,
            accountId: ref.accountId,
            whatsapp_phno: ref.whatsappPhno,
            contactKey: ref.contactKey,
            claimedAt: ifNotExists(decision.decidedAt),
            expiresAt: ifNotExists(epochSeconds(decision.decidedAt) + CLAIM_RETENTION_SECONDS),
          },
          remove: ['leaseUntilMs', 'progress'],
        }),
      }),
    );
  }

  // ------------------------------------------------------------- locks

  async lock(ref: ConversationRef, owner: string, at: Date, leaseSeconds: number): Promise<boolean> {
    const now = at.getTime();
    const outcome = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.conversationLock.item(parts(ref), {
          owner,
          leaseUntilMs: now + leaseSeconds * 1000,
          at: at.toISOString(),
          expiresAt: epochSeconds(at) + SHORT_RETENTION_SECONDS,
        }),
        ConditionExpression: 'attribute_not_exists(pk) OR leaseUntilMs < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': now, ':owner': owner },
      }),
    );
    return outcome.applied;
  }

  async unlock(ref: ConversationRef, owner: string): Promise<void> {
    // Only our own lock: one whose lease ran out and that another run took is theirs now.
    await writeIf(
      this.doc,
      new DeleteCommand({
        TableName: this.tableName,
        Key: entities.conversationLock.key(parts(ref)),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }

  // ---------------------------------------------------------- sessions

  async getSession(ref: ConversationRef): Promise<ChatbotSession | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.chatbotSession.key(parts(ref)), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const stored = entities.chatbotSession.parse(Item);
    // TTL deletion lags: a session past its expiry is over whether or not the item is gone.
    if (stored.expiresAt <= epochSeconds(this.clock.now())) return undefined;
    const { chatbotId, stepId, retries, startedAt, lastActivityAt, startedBy } = stored;
    return { chatbotId, stepId, retries, startedAt, lastActivityAt, startedBy };
  }

  async startSession(start: StartSession): Promise<'started' | 'replayed' | 'quota-exceeded'> {
    const { ref } = start;
    const change = {
      accountId: ref.accountId,
      // Per number and wamid, like the claim: one wamid delivered to two numbers of the account opens two sessions.
      idempotencyKey: `chatbot:${ref.whatsappPhno}:${start.wamid}`,
      reason: 'chatbot:session',
      whatsappPhno: ref.whatsappPhno,
      refId: start.chatbotId,
      resource: 'chatbotSessions' as const,
      amount: 1,
      period: start.period,
      limit: start.limit,
    };
    const entry = { ...ledgerEntryOf(change, change.resource, -change.amount, start.at), period: start.period };
    const session = entities.chatbotSession.item(parts(ref), {
      chatbotId: start.chatbotId,
      stepId: start.stepId,
      retries: 0,
      startedAt: start.at,
      lastActivityAt: start.at,
      startedBy: start.wamid,
      expiresAt: epochSeconds(start.expiresAt),
    });
    try {
      const outcome = await this.ledger.commit(ref.accountId, entry, [
        periodConsume(this.tableName, change, start.at),
        { item: { Put: { TableName: this.tableName, Item: session } } },
      ]);
      return outcome.replayed ? 'replayed' : 'started';
    } catch (error) {
      if (error instanceof QuotaExceeded) return 'quota-exceeded';
      throw error;
    }
  }

  async updateSession(ref: ConversationRef, from: Pick<ChatbotSession, 'stepId' | 'retries'>, to: Pick<ChatbotSession, 'stepId' | 'retries'>, at: string): Promise<boolean> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.chatbotSession.key(parts(ref)),
        ...updateExpression(
          { set: { stepId: to.stepId, retries: to.retries, lastActivityAt: at, expiresAt: epochSeconds(at) + SESSION_IDLE_SECONDS } },
          {
            expression: 'attribute_exists(pk) AND stepId = :fromStep AND retries = :fromRetries',
            values: { ':fromStep': from.stepId, ':fromRetries': from.retries },
          },
        ),
      }),
    );
    return outcome.applied;
  }

  async endSession(ref: ConversationRef): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: entities.chatbotSession.key(parts(ref)) }));
  }

  // -------------------------------------------------------- safeguards

  async countReply(ref: ConversationRef, bucket: string, max: number): Promise<boolean> {
    if (max < 1) return false;
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.replyBucket.key({ ...parts(ref), bucket }),
        ...updateExpression(
          { set: { count: increment(1), expiresAt: ifNotExists(epochSeconds(bucket) + SHORT_RETENTION_SECONDS) } },
          { expression: 'attribute_not_exists(#count) OR #count < :max', names: { '#count': 'count' }, values: { ':max': max } },
        ),
      }),
    );
    return outcome.applied;
  }

  async claimFallback(ref: ConversationRef, at: string, since: string): Promise<boolean> {
    const outcome = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.fallbackMarker.item(parts(ref), { lastAt: at, expiresAt: epochSeconds(at) + SHORT_RETENTION_SECONDS }),
        ConditionExpression: 'attribute_not_exists(pk) OR lastAt < :since',
        ExpressionAttributeValues: { ':since': since },
      }),
    );
    return outcome.applied;
  }

  async nextMember(accountId: string, routeId: string, members: readonly string[]): Promise<string> {
    if (members.length === 0) throw new InternalError(`Route ${routeId} has no members to hand out`);
    const key = entities.roundRobinCursor.key({ accountId, routeId });
    for (let attempt = 1; ; attempt++) {
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      const position = Item ? entities.roundRobinCursor.parse(Item).position : undefined;
      // Moved only from the position read: two conversations racing for one member get two members.
      const moved = await writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #position = :next',
          ConditionExpression: position === undefined ? 'attribute_not_exists(pk)' : '#position = :read',
          ExpressionAttributeNames: { '#position': 'position' },
          ExpressionAttributeValues: { ':next': (position ?? 0) + 1, ...(position === undefined ? {} : { ':read': position }) },
        }),
      );
      if (moved.applied) return members[(position ?? 0) % members.length]!;
      if (attempt >= 20) throw new StaleRead();
      await backoff(attempt);
    }
  }

  async flagForAgent(ref: ConversationRef, reason: string, at: string): Promise<void> {
    // The conversation's own `needsAgent`, which the inbox shows and an agent's reply clears.
    await this.conversations.flagForAgent(ref, reason, at);
  }

  async firstMessage(ref: ConversationRef, wamid: string, at: string): Promise<boolean> {
    const outcome = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.firstMessageMarker.item(parts(ref), { firstWamid: wamid, at }),
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (outcome.applied) return true;
    return outcome.existing ? entities.firstMessageMarker.parse(outcome.existing).firstWamid === wamid : false;
  }
}

/** The key parts of a conversation's automation items (the chatbot session's, the AI agent's). */
export function parts(ref: ConversationRef) {
  return { accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey };
}
