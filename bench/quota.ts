/**
 * The shared-quota engine on DynamoDB Local: throughput and latency against
 * concurrency, on one shared counter (every number of an account spending
 * from one pool, the worst case) and spread over 16 accounts (no contention);
 * idempotent replays; a 500-consumer race for 100 units; and the quota and
 * ledger writes of a 1,000-recipient broadcast, counted as
 * test/integration/credits-broadcast.test.ts counts them.
 */
import { performance } from 'node:perf_hooks';
import { createDocumentClient } from '../functions/adapters/dynamo/client.js';
import { createDynamoAdapters } from '../functions/adapters/dynamo/index.js';
import { systemClock, timeOrderedIds } from '../functions/commons/ids.js';
import { createAccount, getAccountView } from '../functions/core/accounts.js';
import { billingPeriod } from '../functions/core/plan.js';
import { ensureTable } from '../local/dynamodb-local.js';
import { newAccount } from '../test/support/accounts.js';
import { approveTemplate, broadcastWorld, connectTestNumber, countingClient, makeBroadcast, recipients, sendAllChunks } from '../test/support/broadcasts.js';
import { type FigureBook, percentile, progress } from './figures.js';

export const CONCURRENCY = [1, 4, 16, 64];
/** Operations per point: enough for a stable rate, few enough that the whole bench stays within 10 minutes. */
const OPERATIONS = 500;

export interface ThroughputPoint {
  concurrency: number;
  sharedCounter: number;
  spread: number;
}

interface Run {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

async function measure(operations: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < operations) {
        const i = next++;
        const t0 = performance.now();
        await op(i).catch(() => failed++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: operations / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), failed };
}

function record(book: FigureBook, name: string, run: Run, what: string): void {
  const failures = run.failed ? `; ${run.failed} failed` : '';
  book.set(`${name}.ops_per_s`, run.opsPerSecond, 'ops/s', `${what}${failures}`);
  book.set(`${name}.p50_ms`, run.p50Ms, 'ms', `${what}: median latency`);
  book.set(`${name}.p99_ms`, run.p99Ms, 'ms', `${what}: 99th percentile latency`);
}

export async function quotaFigures(book: FigureBook, endpoint: string): Promise<ThroughputPoint[]> {
  const tableName = 'bench-quota';
  await ensureTable(endpoint, tableName);
  const doc = createDocumentClient({ tableName, endpoint });
  const deps = { ...createDynamoAdapters(doc, tableName, systemClock), clock: systemClock, ids: timeOrderedIds };
  const plan = { users: 1_000_000, teams: 1_000_000, chatbotSessions: 1_000_000, aiResponses: 1_000_000 };
  const account = () => createAccount(deps, { name: 'bench', plan, creditsMicros: 1_000_000_000_000 }, `bench-${Math.random()}`);
  const period = billingPeriod(new Date().toISOString(), new Date()).key;
  const consume = (accountId: string, key: string, limit = plan.aiResponses) =>
    deps.quotas.consume({ accountId, resource: 'aiResponses', amount: 1, period, limit, idempotencyKey: key, reason: 'bench' });

  // Warm-up: JIT and DynamoDB Local's own start.
  const warm = await account();
  await measure(300, 8, (i) => consume(warm.accountId, `w${i}`));

  const points: ThroughputPoint[] = [];
  for (const concurrency of CONCURRENCY) {
    progress(`quota engine: concurrency ${concurrency}`);
    const shared = await account();
    const one = await measure(OPERATIONS, concurrency, (i) => consume(shared.accountId, `c${i}`));
    record(book, `quota.consume_shared_counter.c${concurrency}`, one, `consume 1 unit of one period quota shared by every number, ${concurrency} at a time`);
    const spread = await Promise.all(Array.from({ length: 16 }, account));
    const many = await measure(OPERATIONS, concurrency, (i) => consume(spread[i % 16]!.accountId, `s${i}`));
    record(book, `quota.consume_16_accounts.c${concurrency}`, many, `the same spread over 16 accounts (no contention), ${concurrency} at a time`);
    points.push({ concurrency, sharedCounter: one.opsPerSecond, spread: many.opsPerSecond });
  }
  {
    const a = await account();
    record(book, 'quota.debit_one_pool.c1', await measure(OPERATIONS, 1, (i) => deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 7_000, idempotencyKey: `e${i}`, reason: 'bench', whatsappPhno: '15550001001' })), 'debit credits from one pool, one at a time');
    record(book, 'quota.debit_one_pool.c64', await measure(OPERATIONS, 64, (i) => deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 7_000, idempotencyKey: `d${i}`, reason: 'bench', whatsappPhno: '15550001001' })), 'debit credits from one pool, 64 at a time');
    await deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 1, idempotencyKey: 'replayed', reason: 'bench' });
    record(book, 'quota.replay.c16', await measure(OPERATIONS, 16, () => deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 1, idempotencyKey: 'replayed', reason: 'bench' })), 'replay of one idempotency key (transaction cancelled on the ledger item + one consistent read), 16 at a time');
  }

  progress('quota engine: 500 concurrent consumers racing for 100 units');
  {
    const limit = 100;
    const a = await createAccount(deps, { name: 'race', plan: { ...plan, aiResponses: limit }, creditsMicros: 0 }, `race-${Math.random()}`);
    const settled = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => consume(a.accountId, `race${i}`, limit)));
    const granted = settled.filter((s) => s.status === 'fulfilled').length;
    const used = (await getAccountView(deps, a.accountId)).usage.aiResponses;
    book.set('quota.race.overspend', Math.max(0, used - limit, granted - limit), 'units', `500 concurrent consumers of 1 unit against a limit of ${limit}: ${granted} granted, counter at ${used}`);
  }

  progress('quota engine: quota and ledger writes of a 1,000-recipient broadcast');
  {
    const table = { endpoint, tableName, doc };
    const counting = countingClient(doc);
    const world = broadcastWorld(table, { doc: counting.doc, settings: { creditsLowThresholdMicros: 5_000_000 } });
    const owner = await newAccount(world.deps, {}, 10_000_000);
    const number = await connectTestNumber(world, owner.accountId);
    await approveTemplate(world, owner.accountId, number);
    const { broadcastId } = await makeBroadcast(world, owner.accountId, number.whatsapp_phno, recipients(1_000));
    const before = counting.quotaWrites();
    await sendAllChunks(world, owner.accountId, broadcastId);
    book.set('quota.writes_per_1000_recipients', counting.quotaWrites() - before, 'writes', `credit, quota, ledger and spend writes while sending a 1,000-recipient broadcast (${world.messaging.sends.length} sends; chunks of 250 reserve once and settle once)`);
  }
  doc.destroy();
  return points;
}
