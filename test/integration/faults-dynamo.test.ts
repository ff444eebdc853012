/**
 * Fault injection on the quota and credit paths, on DynamoDB Local. The
 * adapters under test (`DynamoQuotaStore`: ledger, counters, credit pool,
 * reservations) run on a real document client made as in production
 * (`createDocumentClient`: the SDK's standard retries, 5 attempts) with one
 * middleware added inside the SDK's retry loop that, on the requests it is
 * told to, answers as DynamoDB does when it refuses:
 *
 * - `throttle`: `ProvisionedThroughputExceededException` before the request
 *   reaches the table (the SDK retries it, with its throttling backoff);
 * - `conflict` / `tx-throttle`: `TransactionCanceledException` with a
 *   `TransactionConflict` / `ThrottlingError` reason (nothing written;
 *   `transact` retries it);
 * - `no-answer`: a `TimeoutError` before the request reaches the table;
 * - `lost-answer`: the request reaches DynamoDB Local and is applied, then the
 *   client sees a `TimeoutError` (the SDK retries the same request, same
 *   `ClientRequestToken`; once its attempts are spent the caller sees the error
 *   and retries the operation with the same idempotency key, as an API client
 *   after a 5xx or SQS after a failed record does).
 *
 * After the retries, money and counters are exact: each change charged once,
 * one ledger entry per idempotency key, a counter never over its limit and
 * equal to what the ledger says.
 */
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { makeInboxHandler } from '../../functions/inbox/app.js';
import { createInboxConsumerDeps } from '../../functions/inbox/deps.js';
import { logger } from '../../functions/commons/observability.js';
import { DynamoQuotaStore } from '../../functions/adapters/dynamo/quota-store.js';
import { systemClock } from '../../functions/commons/ids.js';
import { getAccountView } from '../../functions/core/accounts.js';
import { AppError, QuotaExceeded, ServiceBusy } from '../../functions/core/errors.js';
import { billingPeriod } from '../../functions/core/plan.js';
import { adaptersFor, allLedger, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, putNumber, sqsBatch, textEvent } from '../support/inbox.js';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  // Failed records are logged at error by the consumer shell, on purpose here.
  logger.setLogLevel('SILENT');
  table = await createTestTable('faults-dynamo');
  deps = adaptersFor(table);
});

// ---------------------------------------------------------------------------------------------
// The fault-injecting client.
// ---------------------------------------------------------------------------------------------

type Fault = 'throttle' | 'conflict' | 'tx-throttle' | 'no-answer' | 'lost-answer';
type Command = 'TransactWriteItemsCommand' | 'UpdateItemCommand' | 'GetItemCommand' | 'PutItemCommand' | 'QueryCommand' | 'BatchGetItemCommand';

/** A small seeded PRNG, so a storm is the same storm on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class FaultyDynamo {
  readonly doc: DynamoDBDocumentClient;
  readonly quotas: DynamoQuotaStore;
  /** Every fault injected, in order. */
  readonly injected: { command: string; fault: Fault }[] = [];
  /** Requests that reached DynamoDB Local, by command. */
  readonly reached = new Map<string, number>();
  private readonly scripted = new Map<string, Fault[]>();
  private storm?: { rate: number; faults: Fault[]; random: () => number; commands: Set<string> };

  constructor(target: TestTable) {
    this.doc = createDocumentClient({ tableName: target.tableName, endpoint: target.endpoint });
    // finalizeRequest / low: after the SDK's retry middleware, so each attempt passes here.
    this.doc.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName as string;
        const fault = this.pick(command);
        if (fault) this.injected.push({ command, fault });
        if (fault === 'throttle') {
          throw new ProvisionedThroughputExceededException({ message: 'injected: throughput exceeded', $metadata: { httpStatusCode: 400 } });
        }
        if (fault === 'conflict' || fault === 'tx-throttle') {
          const items = transactItemCount((args.request as { body?: unknown }).body);
          const code = fault === 'conflict' ? 'TransactionConflict' : 'ThrottlingError';
          throw new TransactionCanceledException({
            message: `injected: Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: Array.from({ length: items }, (_, i) => ({ Code: i === items - 1 ? code : 'None' })),
          });
        }
        // A timeout before the request reached the table: nothing written.
        if (fault === 'no-answer') throw Object.assign(new Error('injected: connect timeout'), { name: 'TimeoutError', $metadata: {} });
        const result = await next(args);
        this.reached.set(command, (this.reached.get(command) ?? 0) + 1);
        if (fault === 'lost-answer') throw Object.assign(new Error('injected: socket timed out after the write'), { name: 'TimeoutError', $metadata: {} });
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'faultInjector' },
    );
    this.quotas = new DynamoQuotaStore(this.doc, target.tableName, systemClock);
  }

  /** The next requests of `command` get these faults, one each, in order. */
  script(command: Command, ...faults: Fault[]): this {
    this.scripted.set(command, [...(this.scripted.get(command) ?? []), ...faults]);
    return this;
  }

  /** From now on, each request of these commands gets one of `faults` with probability `rate`. */
  stormOn(commands: Command[], rate: number, faults: Fault[], seed: number): this {
    this.storm = { rate, faults, random: seeded(seed), commands: new Set(commands) };
    return this;
  }

  calm(): this {
    this.storm = undefined;
    this.scripted.clear();
    return this;
  }

  count(fault: Fault): number {
    return this.injected.filter((i) => i.fault === fault).length;
  }

  private pick(command: string): Fault | undefined {
    const queue = this.scripted.get(command);
    if (queue?.length) return queue.shift();
    const storm = this.storm;
    if (!storm || !storm.commands.has(command) || storm.random() >= storm.rate) return undefined;
    return storm.faults[Math.floor(storm.random() * storm.faults.length)];
  }
}

function transactItemCount(body: unknown): number {
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '{}';
  try {
    return (JSON.parse(text) as { TransactItems?: unknown[] }).TransactItems?.length || 1;
  } catch {
    return 1;
  }
}

const SDK_ATTEMPTS = 5;
const lostEveryAttempt = (): Fault[] => Array.from({ length: SDK_ATTEMPTS }, () => 'lost-answer' as const);

/** Failures a caller retries (the API answers 5xx, the consumer fails the record): never a refusal. */
function isRetryable(error: unknown): boolean {
  if (error instanceof AppError) return error.retryable === true;
  const name = (error as Error)?.name;
  return name === 'TimeoutError' || name === 'ProvisionedThroughputExceededException' || name === 'ThrottlingException';
}

/** The caller's retries of one operation, same idempotency key each time. */
async function retried<T>(operation: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
    }
  }
}

const ledger = (accountId: string, resource: 'credits' | 'chatbotSessions' | 'users') => allLedger(deps, accountId, resource);

const M = 1_000_000;

// ---------------------------------------------------------------------------------------------

describe('credits: one debit under each fault', () => {
  it('throttled twice: the SDK retries, the debit lands once', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', 'throttle', 'throttle');
    const outcome = await faulty.quotas.debitCredits({ accountId, amountMicros: 3 * M, idempotencyKey: 'debit-throttled', reason: 'test:debit' });
    expect(outcome.replayed).toBe(false);
    expect(faulty.count('throttle')).toBe(2);
    expect(faulty.reached.get('TransactWriteItemsCommand')).toBe(1);
    expect(await deps.quotas.balance(accountId)).toBe(7 * M);
    expect((await ledger(accountId, 'credits')).filter((e) => e.idempotencyKey === 'debit-throttled')).toHaveLength(1);
  });

  it('written but the answer lost: the SDK resends the same request (same ClientRequestToken) and it is not applied twice', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', 'lost-answer');
    const outcome = await faulty.quotas.debitCredits({ accountId, amountMicros: 3 * M, idempotencyKey: 'debit-lost-once', reason: 'test:debit' });
    expect(outcome.replayed).toBe(false);
    // Both attempts reached the table; DynamoDB answered the second from the first.
    expect(faulty.reached.get('TransactWriteItemsCommand')).toBe(2);
    expect(await deps.quotas.balance(accountId)).toBe(7 * M);
    expect((await ledger(accountId, 'credits')).filter((e) => e.idempotencyKey === 'debit-lost-once')).toHaveLength(1);
  });

  it('written, and every SDK attempt’s answer lost: the caller sees the timeout; its retry with the same key is a replay, charged once', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', ...lostEveryAttempt());
    const change = { accountId, amountMicros: 3 * M, idempotencyKey: 'debit-lost-always', reason: 'test:debit' };
    await expect(faulty.quotas.debitCredits(change)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(faulty.reached.get('TransactWriteItemsCommand')).toBe(SDK_ATTEMPTS);
    // The caller could not know: the money moved once.
    expect(await deps.quotas.balance(accountId)).toBe(7 * M);

    const retry = await faulty.quotas.debitCredits(change);
    expect(retry.replayed).toBe(true);
    expect(retry.entry).toMatchObject({ idempotencyKey: 'debit-lost-always', amount: -3 * M, resource: 'credits' });
    expect(await deps.quotas.balance(accountId)).toBe(7 * M);
    expect((await ledger(accountId, 'credits')).filter((e) => e.idempotencyKey === 'debit-lost-always')).toHaveLength(1);
  });

  it('a timeout before the request reached the table, then a throttled transaction (ThrottlingError reason): retried, the debit lands once', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', 'no-answer', 'tx-throttle');
    const outcome = await faulty.quotas.debitCredits({ accountId, amountMicros: 1 * M, idempotencyKey: 'debit-no-answer', reason: 'test:debit' });
    expect(outcome.replayed).toBe(false);
    expect(faulty.injected.map((i) => i.fault)).toEqual(['no-answer', 'tx-throttle']);
    expect(faulty.reached.get('TransactWriteItemsCommand')).toBe(1);
    expect(await deps.quotas.balance(accountId)).toBe(9 * M);
  });

  it('TransactionConflict three times: transact retries, the debit lands once', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', 'conflict', 'conflict', 'conflict');
    const outcome = await faulty.quotas.debitCredits({ accountId, amountMicros: 2 * M, idempotencyKey: 'debit-conflict', reason: 'test:debit' });
    expect(outcome.replayed).toBe(false);
    expect(faulty.count('conflict')).toBe(3);
    expect(await deps.quotas.balance(accountId)).toBe(8 * M);
  });

  it('endless TransactionConflict: 503 ServiceBusy with nothing written; the retry later lands once', async () => {
    const { accountId } = await newAccount(deps, {}, 10 * M);
    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', ...Array.from({ length: 25 }, () => 'conflict' as const));
    const change = { accountId, amountMicros: 2 * M, idempotencyKey: 'debit-busy', reason: 'test:debit' };
    const error = await faulty.quotas.debitCredits(change).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceBusy);
    expect((error as ServiceBusy).statusCode).toBe(503);
    expect(await deps.quotas.balance(accountId)).toBe(10 * M);
    expect(await ledger(accountId, 'credits')).toHaveLength(1); // the account's opening credit only

    expect((await faulty.quotas.debitCredits(change)).replayed).toBe(false);
    expect(await deps.quotas.balance(accountId)).toBe(8 * M);
  });
});

describe('reservations (broadcast rounds) with lost answers', () => {
  it('reserve and settle, each answer lost on every SDK attempt and retried: the pool and the number’s spend are exact', async () => {
    const { accountId } = await newAccount(deps, {}, 20 * M);
    const period = billingPeriod((await deps.accounts.get(accountId))!.billingAnchor, new Date()).key;
    const phno = '15550001001';
    const faulty = new FaultyDynamo(table);
    const reservationId = `rsv_fault_${accountId}`;
    const reserve = {
      accountId,
      reservationId,
      amountMicros: 6 * M,
      whatsappPhno: phno,
      spend: { period, capMicros: 10 * M },
      idempotencyKey: `reserve:${reservationId}`,
      reason: 'broadcast:reserve',
    };
    faulty.script('TransactWriteItemsCommand', ...lostEveryAttempt());
    await expect(faulty.quotas.reserveCredits(reserve)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await retried(() => faulty.quotas.reserveCredits(reserve))).replayed).toBe(true);
    expect(await deps.quotas.balance(accountId)).toBe(14 * M);
    expect(await deps.quotas.numberSpend(accountId, period, phno)).toBe(6 * M);

    const settle = { accountId, reservationId, usedMicros: 4 * M, whatsappPhno: phno, idempotencyKey: `settle:${reservationId}`, reason: 'broadcast:settle' };
    faulty.script('TransactWriteItemsCommand', ...lostEveryAttempt());
    await expect(faulty.quotas.settleReservation(settle)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await retried(() => faulty.quotas.settleReservation(settle))).replayed).toBe(true);

    // 6 held, 4 used: 2 back, once.
    expect(await deps.quotas.balance(accountId)).toBe(16 * M);
    expect(await deps.quotas.numberSpend(accountId, period, phno)).toBe(4 * M);
    expect(await deps.quotas.reservation(accountId, reservationId)).toMatchObject({ status: 'settled', usedMicros: 4 * M, amountMicros: 6 * M });
    const entries = (await ledger(accountId, 'credits')).filter((e) => e.refId === reservationId);
    expect(entries.map((e) => e.amount).sort((a, b) => a - b)).toEqual([-6 * M, 2 * M]);
  });
});

describe('the Credits Low flag after a top-up whose answer was lost', () => {
  it('is re-armed by the retried top-up, so the next fall under the threshold is told again', async () => {
    const { accountId } = await newAccount(deps, {}, 5 * M);
    const threshold = 10 * M;
    expect((await deps.quotas.markCreditsLow(accountId, threshold, new Date().toISOString())).flagged).toBe(true);

    const faulty = new FaultyDynamo(table).script('TransactWriteItemsCommand', ...lostEveryAttempt());
    const topUp = { accountId, amountMicros: 20 * M, idempotencyKey: 'topup-lost', reason: 'topup' };
    await expect(faulty.quotas.addCredits(topUp)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await faulty.quotas.addCredits(topUp)).replayed).toBe(true);
    expect(await deps.quotas.balance(accountId)).toBe(25 * M);

    // The balance is back over the threshold: the flag is gone, and a fall under it flags (and tells) again.
    await deps.quotas.debitCredits({ accountId, amountMicros: 20 * M, idempotencyKey: 'spend-after-topup', reason: 'test:debit' });
    expect((await deps.quotas.markCreditsLow(accountId, threshold, new Date().toISOString())).flagged).toBe(true);
  });
});

describe('storms: many callers, random faults, exact counters', () => {
  const FAULTS: Fault[] = ['throttle', 'conflict', 'tx-throttle', 'no-answer', 'lost-answer'];

  it('60 callers for a period quota of 20 (chatbot sessions), 30% of the writes faulted: exactly 20 taken, the counter 20, 20 ledger entries', async () => {
    const account = await newAccount(deps, { chatbotSessions: 20 });
    const period = billingPeriod((await deps.accounts.get(account.accountId))!.billingAnchor, new Date()).key;
    const faulty = new FaultyDynamo(table).stormOn(['TransactWriteItemsCommand'], 0.3, FAULTS, 19);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        retried(() =>
          faulty.quotas.consume({ accountId: account.accountId, resource: 'chatbotSessions', amount: 1, period, limit: 20, idempotencyKey: `session-${i}`, reason: 'chatbot:start' }),
        ),
      ),
    );
    faulty.calm();
    const taken = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.every((r) => r.reason instanceof QuotaExceeded)).toBe(true);
    expect(taken).toHaveLength(20);
    expect(faulty.injected.length).toBeGreaterThan(5);
    expect(faulty.count('lost-answer')).toBeGreaterThan(0);

    expect((await getAccountView(deps, account.accountId)).usage.chatbotSessions).toBe(20);
    const entries = await ledger(account.accountId, 'chatbotSessions');
    expect(entries).toHaveLength(20);
    // The ledger names exactly the callers that were told "taken".
    const takenKeys = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`session-${i}`] : []));
    expect(entries.map((e) => e.idempotencyKey).sort()).toEqual(takenKeys.sort());
  });

  it('40 callers debiting $1 each from a $25 pool, 30% of the writes faulted: 25 charged once each, the balance 0', async () => {
    const { accountId } = await newAccount(deps, {}, 25 * M);
    const faulty = new FaultyDynamo(table).stormOn(['TransactWriteItemsCommand'], 0.3, FAULTS, 7);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => retried(() => faulty.quotas.debitCredits({ accountId, amountMicros: M, idempotencyKey: `msg-${i}`, reason: 'test:debit' }))),
    );
    faulty.calm();
    expect(results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').every((r) => r.reason instanceof QuotaExceeded)).toBe(true);
    const charged = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`msg-${i}`] : []));
    expect(charged).toHaveLength(25);
    expect(await deps.quotas.balance(accountId)).toBe(0);
    const debits = (await ledger(accountId, 'credits')).filter((e) => e.amount < 0);
    expect(debits.map((e) => e.idempotencyKey).sort()).toEqual(charged.sort());
  });

  it('seats taken and given back under faults: the users gauge ends exact and never over its limit', async () => {
    const account = await newAccount(deps, { users: 10 });
    const before = (await getAccountView(deps, account.accountId)).usage.users;
    const faulty = new FaultyDynamo(table).stormOn(['TransactWriteItemsCommand'], 0.3, FAULTS, 3);
    const acquire = (i: number) => retried(() => faulty.quotas.acquire({ accountId: account.accountId, resource: 'users', amount: 1, idempotencyKey: `seat-${i}`, reason: 'test' }));
    // 8 seats taken first, then 6 given back while 12 more try to take one.
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => acquire(i)));
    expect(first).toHaveLength(8);
    const results = await Promise.allSettled([
      ...Array.from({ length: 6 }, (_, i) =>
        retried(() => faulty.quotas.release({ accountId: account.accountId, resource: 'users', amount: 1, idempotencyKey: `unseat-${i}`, reason: 'test' })),
      ),
      ...Array.from({ length: 12 }, (_, i) => acquire(100 + i)),
    ]);
    faulty.calm();
    expect(results.slice(0, 6).every((r) => r.status === 'fulfilled')).toBe(true);
    const later = results.slice(6);
    expect(later.filter((r): r is PromiseRejectedResult => r.status === 'rejected').every((r) => r.reason instanceof QuotaExceeded)).toBe(true);
    const acquired = 8 + later.filter((r) => r.status === 'fulfilled').length;
    expect(acquired).toBeGreaterThan(8);
    const used = (await getAccountView(deps, account.accountId)).usage.users;
    const moved = (await ledger(account.accountId, 'users')).filter((e) => e.idempotencyKey.startsWith('seat-') || e.idempotencyKey.startsWith('unseat-'));
    expect(moved.filter((e) => e.amount < 0)).toHaveLength(acquired);
    expect(moved.filter((e) => e.amount > 0)).toHaveLength(6);
    expect(used).toBe(before + acquired - 6);
    expect(used).toBeLessThanOrEqual(10);
  });
});

describe('the inbox consumer, DynamoDB failing mid-batch', () => {
  it('reports only the records it could not finish; their redeliveries store each message once and count it once', async () => {
    const accountId = `acc_faultinbox${Date.now().toString(36)}`;
    await putNumber(table, accountId, NUMBERS.default);
    const people = ['5511900000101', '5511900000102', '5511900000103'];
    const base = Math.floor(Date.now() / 1000) - 100;
    const events = Array.from({ length: 18 }, (_, i) =>
      textEvent(accountId, { from: people[i % 3]!, wamid: `wamid.FAULTINBOX_${accountId}_${i}`, text: `m${i}`, timestamp: base + i }),
    );
    // A quarter of the consumer's requests faulted: its writes and reads, every kind but throttling's long backoffs.
    const faulty = new FaultyDynamo(table).stormOn(['TransactWriteItemsCommand', 'PutItemCommand', 'UpdateItemCommand', 'GetItemCommand', 'QueryCommand'], 0.25, ['conflict', 'tx-throttle', 'no-answer', 'lost-answer'], 11);
    const handler = makeInboxHandler(createInboxConsumerDeps(faulty.doc, table.tableName));
    const repo = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
    const stored = async (person: string) => {
      const { Items } = await table.doc.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': entities.message.partition({ accountId, whatsappPhno: NUMBERS.default.whatsapp_phno, contactKey: person }) },
          ConsistentRead: true,
        }),
      );
      return (Items ?? []).map((item) => item.wamid as string);
    };

    let pending = events;
    let reported = 0;
    for (let round = 0; pending.length > 0 && round < 12; round++) {
      if (round === 8) faulty.calm();
      const retry: typeof events = [];
      for (let i = 0; i < pending.length; i += 10) {
        const slice = pending.slice(i, i + 10);
        const batch = sqsBatch(slice);
        const { batchItemFailures } = await handler(batch, {} as Context);
        const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
        reported += failed.size;
        slice.forEach((event, j) => failed.has(batch.Records[j]!.messageId) && retry.push(event));
        // Every record not reported failed is done: its message is stored.
        const done = slice.filter((_, j) => !failed.has(batch.Records[j]!.messageId));
        const all = new Set((await Promise.all(people.map(stored))).flat());
        for (const event of done) expect(all.has(event.detail.eventId as string)).toBe(true);
      }
      pending = retry;
    }
    expect(pending).toEqual([]);
    expect(reported).toBeGreaterThan(0);
    expect(faulty.count('lost-answer')).toBeGreaterThan(0);

    for (const [index, person] of people.entries()) {
      const mine = events.filter((_, i) => i % 3 === index).map((e) => e.detail.eventId as string);
      expect((await stored(person)).sort()).toEqual(mine.sort());
      const conversation = await repo.getConversation({ accountId, whatsappPhno: NUMBERS.default.whatsapp_phno, contactKey: person });
      expect(conversation?.unreadCount).toBe(6);
    }
  });
});
