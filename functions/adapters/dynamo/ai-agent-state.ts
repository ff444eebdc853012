/**
 * The AI agent's per-conversation state on DynamoDB (`AiAgentState`,
 * docs/automations.md "AI agents"): one item per conversation
 * (`entities.aiAgentConversation`), every change one conditional write, and
 * the `aiResponses` unit of each answer one ledger transaction.
 *
 * - `addToTurn`: first an atomic append to the open turn (`list_append`,
 *   conditioned on the turn being open, the agent active and not lapsed, and
 *   the wamid not in it yet: a burst of messages joins without a read or a
 *   retry). When that condition fails, the item it returned decides: the
 *   wamid is already in (nothing changes), or the whole item is written anew
 *   (a new agent, a new turn) under an optimistic `version` condition, and a
 *   lost race is tried again from the start.
 * - `claimTurn`, `completeTurn`, `handOff`: updates of the stored item under
 *   conditions on `turn.lastWamid`, the turn's status and lease.
 * - `takeUnit`: ledger entry `ai:{whatsapp_phno}:{wamid}` (`attribute_not_exists`: a replay
 *   takes nothing) and the period counter (`remaining >= 1`, else
 *   `QuotaExceeded`) in one `TransactWriteItems` (`DynamoLedger.commit`).
 * - `releaseUnit`: ledger entry `ai:{whatsapp_phno}:{wamid}:release`, a condition that
 *   `ai:{whatsapp_phno}:{wamid}` exists (in that period), and the counter given back, in one
 *   transaction: once, and nothing when no unit was taken.
 *
 * An item past its `expiresAt` is treated as absent (TTL deletion lags).
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AddToTurn, AiAgentState, AiConversation, AiTurn, AiUnit, TurnClaim } from '../../core/ai-ports.js';
import { QuotaExceeded, StaleRead } from '../../core/errors.js';
import type { ConversationRef } from '../../core/inbox-ports.js';
import type { Clock } from '../../core/ports.js';
import { epochSeconds, parts } from './automation-state.js';
import { writeIf } from './conditional-write.js';
import * as entities from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { backoff } from './transact.js';
import { periodConsume, periodGiveBack } from './transaction-parts.js';

/** Optimistic rewrites racing on one conversation: each round has a winner, so this covers bursts of this many messages. */
const MAX_ATTEMPTS = 30;

type Stored = ReturnType<typeof entities.aiAgentConversation.parse>;

/** A `releaseUnit` whose `ai:{whatsapp_phno}:{wamid}` entry does not exist: there is nothing to give back. */
class NoUnitTaken extends Error {}

export class DynamoAiAgentState implements AiAgentState {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  async get(ref: ConversationRef): Promise<AiConversation | undefined> {
    const stored = await this.read(ref);
    return stored && live(stored, this.clock.now()) ? toConversation(stored) : undefined;
  }

  async addToTurn(add: AddToTurn): Promise<AiConversation> {
    const key = entities.aiAgentConversation.key(parts(add.ref));
    const expiresAt = epochSeconds(add.expiresAt);
    for (let attempt = 1; ; attempt++) {
      // The common case, one write: the message joins the open turn of the active agent.
      const appended = await writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET #turn.#wamids = list_append(#turn.#wamids, :wamidList), #turn.#texts = list_append(#turn.#texts, :textList), ' +
            '#turn.#lastWamid = :wamid, #turn.#lastAt = :at, lastMessageAt = :at, expiresAt = :expiresAt, #version = #version + :one',
          ConditionExpression:
            'expiresAt > :now AND #status = :active AND #turn.#status = :open AND NOT contains(#turn.#wamids, :wamid)',
          ExpressionAttributeNames: {
            '#turn': 'turn',
            '#wamids': 'wamids',
            '#texts': 'texts',
            '#lastWamid': 'lastWamid',
            '#lastAt': 'lastAt',
            '#status': 'status',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':wamidList': [add.wamid],
            ':textList': [add.text],
            ':wamid': add.wamid,
            ':at': add.at,
            ':expiresAt': expiresAt,
            ':one': 1,
            ':now': epochSeconds(add.at),
            ':active': 'active',
            ':open': 'open',
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (appended.applied) return toConversation(entities.aiAgentConversation.parse(appended.attributes ?? {}));

      const existing = appended.existing ? entities.aiAgentConversation.parse(appended.existing) : undefined;
      const current = existing && live(existing, new Date(add.at)) ? existing : undefined;
      // A redelivery of a message already in the turn changes nothing.
      if (current?.turn?.wamids.includes(add.wamid)) return toConversation(current);

      const next = nextState(current, add, expiresAt, (existing?.version ?? 0) + 1);
      const written = await writeIf(
        this.doc,
        new PutCommand({
          TableName: this.tableName,
          Item: entities.aiAgentConversation.item(parts(add.ref), next),
          ...(existing
            ? { ConditionExpression: '#version = :read', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':read': existing.version } }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      if (written.applied) return toConversation(next);
      if (attempt >= MAX_ATTEMPTS) throw new StaleRead();
      await backoff(attempt);
    }
  }

  async claimTurn(ref: ConversationRef, wamid: string, at: Date, leaseSeconds: number): Promise<TurnClaim> {
    const now = at.getTime();
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.aiAgentConversation.key(parts(ref)),
        UpdateExpression: 'SET #turn.#status = :answering, #turn.#lease = :until, #version = #version + :one',
        ConditionExpression:
          'expiresAt > :nowSeconds AND #status = :active AND #turn.#lastWamid = :wamid AND ' +
          '(#turn.#status = :open OR (#turn.#status = :answering AND (attribute_not_exists(#turn.#lease) OR #turn.#lease < :now)))',
        ExpressionAttributeNames: { '#turn': 'turn', '#status': 'status', '#lease': 'leaseUntilMs', '#lastWamid': 'lastWamid', '#version': 'version' },
        ExpressionAttributeValues: {
          ':answering': 'answering',
          ':open': 'open',
          ':active': 'active',
          ':until': now + leaseSeconds * 1000,
          ':now': now,
          ':nowSeconds': epochSeconds(at),
          ':wamid': wamid,
          ':one': 1,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (outcome.applied) return 'claimed';
    const existing = outcome.existing ? entities.aiAgentConversation.parse(outcome.existing) : undefined;
    // Lapsed, or people took over: the agent has no turn to answer.
    if (!existing || !live(existing, at) || existing.status !== 'active' || !existing.turn) return 'missing';
    if (existing.turn.lastWamid !== wamid) return 'superseded';
    return existing.turn.status === 'answered' ? 'answered' : 'in-progress';
  }

  async takeUnit(unit: AiUnit): Promise<'taken' | 'replayed' | 'quota-exceeded'> {
    const change = { ...unitChange(unit, unitKey(unit), 'ai:answer'), limit: unit.limit };
    const entry = { ...ledgerEntryOf(change, change.resource, -change.amount, unit.at), period: unit.period };
    try {
      const outcome = await this.ledger.commit(unit.ref.accountId, entry, [periodConsume(this.tableName, change, unit.at)]);
      return outcome.replayed ? 'replayed' : 'taken';
    } catch (error) {
      if (error instanceof QuotaExceeded) return 'quota-exceeded';
      throw error;
    }
  }

  async releaseUnit(unit: AiUnit): Promise<void> {
    const taken = unitKey(unit);
    const change = unitChange(unit, `${taken}:release`, 'ai:release');
    const entry = { ...ledgerEntryOf(change, change.resource, change.amount, unit.at), period: unit.period };
    const takenInPeriod = {
      item: {
        ConditionCheck: {
          TableName: this.tableName,
          Key: entities.ledgerEntry.key({ accountId: unit.ref.accountId, idempotencyKey: taken }),
          ConditionExpression: 'attribute_exists(pk) AND #period = :period',
          ExpressionAttributeNames: { '#period': 'period' },
          ExpressionAttributeValues: { ':period': unit.period },
        },
      },
      onConditionFailed: () => new NoUnitTaken(),
    };
    try {
      // A replayed release (its entry exists) answers the first one and gives nothing back again.
      await this.ledger.commit(unit.ref.accountId, entry, [takenInPeriod, periodGiveBack(this.tableName, change, unit.at)]);
    } catch (error) {
      if (error instanceof NoUnitTaken) return;
      throw error;
    }
  }

  async completeTurn(ref: ConversationRef, wamid: string, result: { outcome: string; answerWamid?: string }, at: string): Promise<void> {
    const answer = result.answerWamid === undefined ? '' : ', #turn.#answerWamid = :answerWamid';
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.aiAgentConversation.key(parts(ref)),
        UpdateExpression: `SET #turn.#status = :answered, #turn.#outcome = :outcome, #turn.#answeredAt = :at${answer}, #version = #version + :one REMOVE #turn.#lease`,
        ConditionExpression: '#turn.#lastWamid = :wamid',
        ExpressionAttributeNames: {
          '#turn': 'turn',
          '#status': 'status',
          '#outcome': 'outcome',
          '#answeredAt': 'answeredAt',
          '#lease': 'leaseUntilMs',
          '#lastWamid': 'lastWamid',
          '#version': 'version',
          ...(result.answerWamid === undefined ? {} : { '#answerWamid': 'answerWamid' }),
        },
        ExpressionAttributeValues: {
          ':answered': 'answered',
          ':outcome': result.outcome,
          ':at': at,
          ':wamid': wamid,
          ':one': 1,
          ...(result.answerWamid === undefined ? {} : { ':answerWamid': result.answerWamid }),
        },
      }),
    );
  }

  async handOff(ref: ConversationRef, reason: string, at: string): Promise<void> {
    // The first handoff stands; a lapsed or absent agent has nothing to hand off.
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.aiAgentConversation.key(parts(ref)),
        UpdateExpression: 'SET #status = :handedOff, handedOffAt = :at, handoffReason = :reason, #version = #version + :one',
        ConditionExpression: '#status = :active AND expiresAt > :now',
        ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
        ExpressionAttributeValues: { ':handedOff': 'handedOff', ':active': 'active', ':at': at, ':reason': reason, ':one': 1, ':now': epochSeconds(at) },
      }),
    );
  }

  async end(ref: ConversationRef): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: entities.aiAgentConversation.key(parts(ref)) }));
  }

  private async read(ref: ConversationRef): Promise<Stored | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.aiAgentConversation.key(parts(ref)), ConsistentRead: true }),
    );
    return Item ? entities.aiAgentConversation.parse(Item) : undefined;
  }
}

/**
 * The item after a message the atomic append could not take: a new agent
 * (none, or it lapsed), a new turn (the last one is no longer open), or, when
 * people have the conversation, only its clock moved on (the agent stays
 * handed off until the conversation closes). An active agent stays the one
 * it is: another agent id does not replace it.
 */
function nextState(current: Stored | undefined, add: AddToTurn, expiresAt: number, version: number): Stored {
  const turn: AiTurn = { id: add.wamid, wamids: [add.wamid], texts: [add.text], lastWamid: add.wamid, lastAt: add.at, status: 'open' };
  if (!current) {
    return { aiAgentId: add.aiAgentId, status: 'active', startedAt: add.at, startedBy: add.wamid, lastMessageAt: add.at, turn, version, expiresAt };
  }
  if (current.status === 'handedOff') return { ...current, lastMessageAt: add.at, expiresAt, version };
  if (current.turn?.status === 'open') {
    const open = current.turn;
    return {
      ...current,
      turn: { ...open, wamids: [...open.wamids, add.wamid], texts: [...open.texts, add.text], lastWamid: add.wamid, lastAt: add.at },
      lastMessageAt: add.at,
      expiresAt,
      version,
    };
  }
  return { ...current, turn, lastMessageAt: add.at, expiresAt, version };
}

function live(stored: Stored, at: Date): boolean {
  return stored.expiresAt > epochSeconds(at);
}

function toConversation(stored: Stored): AiConversation {
  const { aiAgentId, status, startedAt, startedBy, lastMessageAt, handedOffAt, handoffReason, turn } = stored;
  return {
    aiAgentId,
    status,
    startedAt,
    startedBy,
    lastMessageAt,
    ...(handedOffAt ? { handedOffAt } : {}),
    ...(handoffReason ? { handoffReason } : {}),
    ...(turn ? { turn: toTurn(turn) } : {}),
  };
}

function toTurn(turn: NonNullable<Stored['turn']>): AiTurn {
  const { id, wamids, texts, lastWamid, lastAt, status, leaseUntilMs, outcome, answerWamid } = turn;
  return {
    id,
    wamids,
    texts,
    lastWamid,
    lastAt,
    status,
    ...(leaseUntilMs !== undefined ? { leaseUntilMs } : {}),
    ...(outcome !== undefined ? { outcome } : {}),
    ...(answerWamid !== undefined ? { answerWamid } : {}),
  };
}

/** The unit's ledger key: per number and wamid, like the automation claim (one wamid on two numbers is two turns). */
function unitKey(unit: AiUnit): string {
  return `ai:${unit.ref.whatsappPhno}:${unit.wamid}`;
}

/** The period change of one unit, under a ledger key. */
function unitChange(unit: AiUnit, idempotencyKey: string, reason: string) {
  return {
    accountId: unit.ref.accountId,
    idempotencyKey,
    reason,
    whatsappPhno: unit.ref.whatsappPhno,
    refId: unit.aiAgentId,
    resource: 'aiResponses' as const,
    amount: 1,
    period: unit.period,
  };
}
