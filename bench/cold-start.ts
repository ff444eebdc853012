/**
 * Cold starts: each bundle in a fresh `node` process (Lambda's environment as
 * the CDK sets it, the network stubbed on loopback), from process start to
 * the first handler call answered. Processes run one at a time, the bundles
 * interleaved round by round, so every bundle sees the same machine; the
 * figure is the median.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EVENT_CONTRACTS } from '../schemas/events.js';
import { ingestDelivery } from '../functions/core/ingestion.js';
import { signatureFor } from '../functions/webhook/signature.js';
import type { Bundle } from './bundles.js';
import { FUNCTIONS } from './bundles.js';
import { type FigureBook, median, progress } from './figures.js';
import { STUB_ROUTE, STUB_SECRET, type NetworkStub, startNetworkStub } from './network-stub.js';

export const COLD_START_ROUNDS = 15;

const root = fileURLToPath(new URL('..', import.meta.url));

/** What the stack sets on every function (lib/app-function.ts) plus what Lambda itself sets. */
function lambdaEnv(name: string, stub: NetworkStub): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_OPTIONS: '--enable-source-maps',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_ENDPOINT_URL: stub.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: 'WhatsAppMultiNumber',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    TABLE_NAME: 'bench',
    IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
    EVENT_BUS_NAME: 'bench-bus',
    SEND_QUEUE_URL: `${stub.url}/123456789012/bench-send`,
    MEDIA_BUCKET_NAME: 'bench-media',
    DEFERRED_SENDS_GROUP: 'bench-deferred',
    DEFERRED_SENDS_ROLE_ARN: 'arn:aws:iam::123456789012:role/bench-deferred',
    DEFERRED_SENDS_TARGET_ARN: 'arn:aws:sqs:us-east-1:123456789012:bench-send',
    DEFERRED_SENDS_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:bench-deferred-dlq',
    GRAPH_API_BASE_URL: stub.url,
    WHATSAPP_APP_SECRET_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app',
    WHATSAPP_VERIFY_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:verify',
    WHATSAPP_ACCESS_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token',
    WEBHOOK_SIGNING_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing',
  };
}

/** A signed Meta delivery of one text message, as API Gateway hands it to the webhook. */
export function webhookEvent(body: Buffer, secret = STUB_SECRET) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhook',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureFor(body, secret) },
    body: body.toString('utf8'),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'facebookexternalua' },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '27/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795773600000,
    },
  };
}

function sqsEvent(bodies: unknown[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `bench-${i}`,
      receiptHandle: 'bench',
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'bench', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench',
      awsRegion: 'us-east-1',
    })),
  };
}

/** The first event each bundle is called with: what it would get in production. */
async function firstEvents(): Promise<Record<string, unknown>> {
  const delivery = readFileSync(join(root, 'test/fixtures/meta-webhooks/text-message.json'));
  const route = { ...STUB_ROUTE, phoneNumberId: '110000000000001' };
  const ingestion = await ingestDelivery(JSON.parse(delivery.toString('utf8')).entry, { byPhoneNumberId: async () => route, byWaba: async () => [route] }, new Date().toISOString());
  const envelope = (event: (typeof ingestion.events)[number]) => ({ version: '0', id: 'bench', account: '123456789012', region: 'us-east-1', time: new Date().toISOString(), resources: [], ...event });
  const status = {
    source: EVENT_CONTRACTS.messageStatusUpdated.source,
    'detail-type': EVENT_CONTRACTS.messageStatusUpdated.detailType,
    detail: { ...ingestion.events[0]!.detail, eventId: 'wamid.OUT:delivered', broadcastId: 'brd_bench0001', status: { id: 'wamid.OUT', status: 'delivered', timestamp: '1764230400' } },
  };
  const webhook = webhookEvent(delivery);
  return {
    webhook,
    peer: webhook,
    sdk_floor: webhook,
    bare: webhook,
    api: {
      ...webhook,
      rawPath: '/v1/account',
      headers: {},
      body: undefined,
      requestContext: { ...webhook.requestContext, http: { ...webhook.requestContext.http, method: 'GET', path: '/v1/account' }, authorizer: { jwt: { claims: { sub: 'bench', 'custom:role': 'owner', 'custom:accountId': STUB_ROUTE.accountId }, scopes: [] } } },
    },
    inbox: sqsEvent([envelope(ingestion.events[0]!)]),
    automation: sqsEvent([envelope(ingestion.events[0]!)]),
    broadcast: sqsEvent([envelope(status as (typeof ingestion.events)[number])]),
    sender: sqsEvent([{ accountId: STUB_ROUTE.accountId, broadcastId: 'brd_bench0001', chunk: 0 }]),
  };
}

interface Probe {
  beforeImportMs: number;
  importMs: number;
  firstCallMs: number;
  totalMs: number;
  outcome: string | number;
}

function runProbe(probe: string, bundle: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [probe, bundle, eventFile, '3'], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let report = '';
    let stderr = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => (report += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 || !report) reject(new Error(`cold start of ${bundle} failed (${code}): ${stderr}`));
      else resolve(JSON.parse(report) as Probe);
    });
  });
}

export async function coldStartFigures(bundles: Record<string, Bundle>, book: FigureBook): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'whatsapp-bench-init-'));
  const probe = join(dir, 'probe.mjs');
  await build({ entryPoints: [join(root, 'bench/cold-start-probe.ts')], outfile: probe, format: 'esm', platform: 'node', target: 'node20', logLevel: 'error' });
  const events = await firstEvents();
  const names = [...FUNCTIONS, 'sdk_floor', 'bare', 'peer'];
  const eventFiles = Object.fromEntries(
    names.map((name) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(events[name]));
      return [name, file];
    }),
  );
  const stub = await startNetworkStub();
  const runs: Record<string, Probe[]> = Object.fromEntries(names.map((name) => [name, []]));
  try {
    for (let round = 0; round < COLD_START_ROUNDS; round++) {
      // A different order each round, so no bundle always follows the same one.
      const order = [...names].sort(() => Math.random() - 0.5);
      for (const name of order) runs[name]!.push(await runProbe(probe, bundles[name]!.file, eventFiles[name]!, lambdaEnv(name, stub)));
      if ((round + 1) % 5 === 0) progress(`cold starts: ${round + 1}/${COLD_START_ROUNDS} rounds of ${names.length} bundles`);
    }
  } finally {
    await stub.stop();
  }
  const total = (name: string) => median(runs[name]!.map((r) => r.totalMs));
  const bare = total('bare');
  const floor = total('sdk_floor');
  const processes = `median of ${COLD_START_ROUNDS} fresh node processes`;
  book.set('init.bare.ms', bare, 'ms', `empty handler: Node start + import + first call, ${processes}`);
  book.set('init.sdk_floor.ms', floor, 'ms', `the webhook's SDK clients alone, making the webhook's first calls (secret, route read, PutEvents), ${processes}`);
  for (const name of [...FUNCTIONS, 'peer'] as const) {
    const ms = total(name);
    const importMs = median(runs[name]!.map((r) => r.importMs));
    const callMs = median(runs[name]!.map((r) => r.firstCallMs));
    const outcome = runs[name]![0]!.outcome;
    const prefix = name === 'peer' ? 'peer.init' : `init.${name}`;
    book.set(`${prefix}.ms`, ms, 'ms', `Node start + import (${importMs.toFixed(1)} ms) + first handler call (${callMs.toFixed(1)} ms, answered ${outcome}) with the network stubbed, ${processes}`);
    book.set(`${prefix}.ratio_to_bare`, ms / bare, 'x', `init.${name === 'peer' ? 'peer' : name}.ms ÷ init.bare.ms`);
  }
  // Without the first call: Node's start and the import alone, where the SDK's first request (credentials, endpoint, signing, connection) is not yet made.
  const loaded = (name: string) => median(runs[name]!.map((r) => r.beforeImportMs + r.importMs));
  book.set('init.webhook.import_ratio_to_bare', loaded('webhook') / loaded('bare'), 'x', `Node start + import only, no handler call: webhook ${loaded('webhook').toFixed(0)} ms ÷ empty handler ${loaded('bare').toFixed(0)} ms`);
  book.set('init.webhook.import_ratio_to_sdk_floor', loaded('webhook') / loaded('sdk_floor'), 'x', `Node start + import only: webhook ÷ SDK floor ${loaded('sdk_floor').toFixed(0)} ms`);
  book.set('init.sdk_floor.ratio_to_bare', floor / bare, 'x', 'init.sdk_floor.ms ÷ init.bare.ms: what the SDK clients alone cost over an empty handler (a lower bound of init.webhook.ratio_to_bare)');
  book.set('init.webhook.ratio_to_sdk_floor', total('webhook') / floor, 'x', 'init.webhook.ms ÷ init.sdk_floor.ms: what our code and its other dependencies add to the SDK clients\' own cold start');
}
