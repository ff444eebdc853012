/**
 * `npm run bench`: figures, not pass/fail. Starts its own DynamoDB Local,
 * measures the shared-quota engine, prints a table and writes
 * bench/results.json. DynamoDB Local is far slower than DynamoDB and shares
 * this machine's cores with the benchmark: compare runs on one machine, and
 * read the figures as relative (contention cost, writes per operation).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { NumberRoute } from '../functions/core/ingestion.js';
import { receiveDelivery } from '../functions/webhook/delivery.js';
import { cpus } from 'node:os';
import { createDocumentClient } from '../functions/adapters/dynamo/client.js';
import { createDynamoAdapters } from '../functions/adapters/dynamo/index.js';
import { createAccount } from '../functions/core/accounts.js';
import { billingPeriod } from '../functions/core/plan.js';
import { systemClock, timeOrderedIds } from '../functions/commons/ids.js';
import { ensureTable, startDynamoDbLocal } from '../local/dynamodb-local.js';

interface Figure {
  name: string;
  operations: number;
  concurrency: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  note?: string;
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(name: string, operations: number, concurrency: number, op: (i: number) => Promise<unknown>, note?: string): Promise<Figure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < operations) {
        const i = next++;
        const t0 = performance.now();
        await op(i).catch(() => undefined);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { name, operations, concurrency, seconds: round(seconds), opsPerSecond: round(operations / seconds), p50Ms: round(percentile(latencies, 50)), p95Ms: round(percentile(latencies, 95)), p99Ms: round(percentile(latencies, 99)), note };
}

const engine = await startDynamoDbLocal();
try {
  const tableName = 'bench';
  await ensureTable(engine.endpoint, tableName);
  const doc = createDocumentClient({ tableName, endpoint: engine.endpoint });
  const adapters = createDynamoAdapters(doc, tableName, systemClock);
  const deps = { ...adapters, clock: systemClock, ids: timeOrderedIds };
  const plan = { users: 1_000_000, teams: 1_000_000, chatbotSessions: 1_000_000, aiResponses: 1_000_000 };
  const account = () => createAccount(deps, { name: 'bench', plan, creditsMicros: 1_000_000_000_000 }, `bench-${Math.random()}`);
  const period = billingPeriod(new Date().toISOString(), new Date()).key;

  // Warm-up: JIT and DynamoDB Local's own start.
  const warm = await account();
  await measure('warm-up', 200, 8, (i) => deps.quotas.debitCredits({ accountId: warm.accountId, amountMicros: 1, idempotencyKey: `w${i}`, reason: 'bench' }));

  const figures: Figure[] = [];
  for (const concurrency of [1, 16, 64]) {
    const a = await account();
    figures.push(
      await measure(`consume period quota (one shared counter)`, 1000, concurrency, (i) =>
        deps.quotas.consume({ accountId: a.accountId, resource: 'aiResponses', amount: 1, period, limit: plan.aiResponses, idempotencyKey: `c${i}`, reason: 'bench' }),
      ),
    );
  }
  for (const concurrency of [1, 64]) {
    const a = await account();
    figures.push(
      await measure('debit credits (one pool)', 1000, concurrency, (i) =>
        deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 7_000, idempotencyKey: `d${i}`, reason: 'bench', whatsappPhno: '15550001001' }),
      ),
    );
  }
  {
    const accounts = await Promise.all(Array.from({ length: 16 }, account));
    figures.push(
      await measure('debit credits (16 accounts, no contention)', 1000, 64, (i) =>
        deps.quotas.debitCredits({ accountId: accounts[i % 16]!.accountId, amountMicros: 7_000, idempotencyKey: `d${i}`, reason: 'bench' }),
      ),
    );
  }
  {
    const a = await account();
    await deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 1, idempotencyKey: 'replayed', reason: 'bench' });
    figures.push(
      await measure('replay of one idempotency key', 500, 16, () =>
        deps.quotas.debitCredits({ accountId: a.accountId, amountMicros: 1, idempotencyKey: 'replayed', reason: 'bench' }),
        'transaction cancelled on the ledger item + one consistent read',
      ),
    );
  }

  figures.push(...(await webhookFigures()));

  const results = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    store: 'DynamoDB Local (in memory)',
    figures,
  };
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.table(figures.map(({ note: _note, ...f }) => f));
  for (const f of figures.filter((f) => f.note)) console.log(`${f.name}: ${f.note}`);
  console.log('written to bench/results.json');
} finally {
  await engine.stop();
}

/**
 * The webhook's own work on Meta's largest deliveries: verify the signature
 * over ~3 MB, parse, route (routes in memory, as the container cache holds
 * them) and split into events. Publishing is a no-op here: PutEvents is
 * measured in AWS, not on this machine.
 */
async function webhookFigures(): Promise<Figure[]> {
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/meta-webhooks/status-delivered.json', import.meta.url), 'utf8'));
  const change = fixture.entry[0].changes[0];
  const status = change.value.statuses[0];
  const items = 10_000; // ~3 MB, the size of Meta's largest batches
  change.value.statuses = Array.from({ length: items }, (_, i) => ({ ...status, id: `wamid.BENCH_${i}` }));
  const body = Buffer.from(JSON.stringify(fixture));
  const secret = 'bench-secret';
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const route: NumberRoute = { accountId: 'acc_bench', whatsapp_phno: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001', isDefault: false, name: 'Vendas' };
  let published = 0;
  const deps = {
    appSecret: async () => secret,
    routes: { byPhoneNumberId: async () => route, byWaba: async () => [route] },
    publisher: { publish: async (events: unknown[]) => void (published += events.length) },
    channelStatus: { apply: async () => 'applied' as const },
    clock: systemClock,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'bench', serviceName: 'bench' }),
  };
  const request = { body: body.toString('utf8'), isBase64Encoded: false, headers: { 'x-hub-signature-256': signature } };
  const run = async () => {
    const response = await receiveDelivery(request, deps);
    if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}`);
  };
  await run();
  published = 0;
  const figure = await measure(`webhook: ${(body.length / 1e6).toFixed(1)} MB delivery of ${items} statuses`, 20, 1, run);
  return [{ ...figure, note: `${Math.round((published / figure.seconds))} events/s split and routed (publishing excluded)` }];
}
