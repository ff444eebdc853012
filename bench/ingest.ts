/**
 * CPU per delivery of the webhook's own work (signature, parse, route from a
 * warm cache, event building; the bus publisher a no-op), side by side with
 * its floor (HMAC-SHA256 + JSON.parse of the same bytes) and with the peer
 * (middy + Powertools parser + idempotency + a credit debit per message, on
 * DynamoDB Local). CPU is this process's user + system time
 * (`process.cpuUsage`), measured in alternating blocks so the three see the
 * same machine.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../functions/adapters/dynamo/client.js';
import { CachedRouteLookup } from '../functions/adapters/dynamo/route-reader.js';
import { systemClock } from '../functions/commons/ids.js';
import type { NumberRoute } from '../functions/core/ingestion.js';
import { receiveDelivery } from '../functions/webhook/delivery.js';
import { signatureFor } from '../functions/webhook/signature.js';
import { ensureTable, localClient } from '../local/dynamodb-local.js';
import { webhookEvent } from './cold-start.js';
import { countDynamoRequests } from './dynamo-requests.js';
import { type FigureBook, progress } from './figures.js';
import { createPeerHandler } from './peer/ingest.js';

const SECRET = 'bench-secret';
const ROUTE: NumberRoute = { accountId: 'acc_bench00001', whatsapp_phno: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001', isDefault: true, name: 'Support' };
const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/meta-webhooks/${name}`, import.meta.url));

/** Meta's largest batches: ~3 MB, 10,000 statuses of one number. */
export function batchDelivery(items = 10_000): Buffer {
  const json = JSON.parse(fixture('status-delivered.json').toString('utf8'));
  const change = json.entry[0].changes[0];
  change.value.metadata.phone_number_id = ROUTE.phoneNumberId;
  const status = change.value.statuses[0];
  change.value.statuses = Array.from({ length: items }, (_, i) => ({ ...status, id: `wamid.BENCH_${i}` }));
  return Buffer.from(JSON.stringify(json));
}

/** The text-message fixture with its own wamid (the peer's idempotency would answer a repeat from its table). */
function textDelivery(wamid?: string): Buffer {
  if (!wamid) return fixture('text-message.json');
  const json = JSON.parse(fixture('text-message.json').toString('utf8'));
  json.entry[0].changes[0].value.messages[0].id = wamid;
  return Buffer.from(JSON.stringify(json));
}

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Our handler's work on one delivery, with its real logger, metrics and route cache (warm). */
function ourWebhook() {
  let published = 0;
  const reader = { byPhoneNumberId: async () => ROUTE, byWaba: async () => [ROUTE] };
  const deps = {
    appSecret: async () => SECRET,
    routes: new CachedRouteLookup(reader, { ttlMs: 3_600_000, missTtlMs: 3_600_000 }),
    publisher: { publish: async (events: unknown[]) => void (published += events.length) },
    channelStatus: { apply: async () => 'applied' as const },
    clock: systemClock,
    logger: new Logger({ serviceName: 'webhook', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'bench', serviceName: 'webhook' }),
  };
  return {
    published: () => published,
    async deliver(event: ReturnType<typeof webhookEvent>) {
      const response = await receiveDelivery(event, deps);
      if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
      // Lambda flushes metrics once per invocation; here they are dropped, not printed.
      deps.metrics.clearMetrics();
    },
  };
}

function floor(body: Buffer): void {
  createHmac('sha256', SECRET).update(body).digest();
  JSON.parse(body.toString('utf8'));
}

/** Alternates blocks of each contender; returns CPU µs per call of each. */
async function sideBySide(contenders: Record<string, (i: number) => unknown>, rounds: number, perBlock: number): Promise<Record<string, number>> {
  const spent: Record<string, number> = Object.fromEntries(Object.keys(contenders).map((name) => [name, 0]));
  let call = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const before = cpuMicros();
      for (let i = 0; i < perBlock; i++) await run(call++);
      spent[name]! += cpuMicros() - before;
    }
  }
  return Object.fromEntries(Object.entries(spent).map(([name, micros]) => [name, micros / (rounds * perBlock)]));
}

export async function ingestFigures(book: FigureBook, dynamoEndpoint: string): Promise<void> {
  const ours = ourWebhook();
  const one = textDelivery();
  const oneEvent = webhookEvent(one, SECRET);
  const batch = batchDelivery();
  const batchEvent = webhookEvent(batch, SECRET);
  // Warm-up: JIT, the route cache, the secret.
  for (let i = 0; i < 500; i++) await ours.deliver(oneEvent);
  await ours.deliver(batchEvent);

  progress('ingest: 1-message delivery, ours vs HMAC + JSON.parse');
  const single = await sideBySide({ floor: () => floor(one), ours: () => ours.deliver(oneEvent) }, 10, 2_000);
  book.set('ingest.floor_us.one_message', single.floor!, 'µs CPU', `HMAC-SHA256 + JSON.parse of the ${one.length}-byte text-message fixture`);
  book.set('ingest.cpu_us.one_message', single.ours!, 'µs CPU', 'receiveDelivery on the same bytes: signature, parse, route (warm cache), events; publisher a no-op');
  book.set('ingest.ratio_to_floor.one_message', single.ours! / single.floor!, 'x', 'ingest.cpu_us.one_message ÷ ingest.floor_us.one_message');
  book.set('ingest.deliveries_per_s', 1e6 / single.ours!, 'deliveries/s', 'one core, 1-message deliveries: 1 s ÷ ingest.cpu_us.one_message');

  progress(`ingest: ${(batch.length / 1e6).toFixed(1)} MB batch of 10,000 statuses, ours vs HMAC + JSON.parse`);
  const published = ours.published();
  const big = await sideBySide({ floor: () => floor(batch), ours: () => ours.deliver(batchEvent) }, 5, 2);
  const events = (ours.published() - published) / 10;
  book.set('ingest.floor_ms.batch_3mb', big.floor! / 1000, 'ms CPU', `HMAC-SHA256 + JSON.parse of a ${(batch.length / 1e6).toFixed(1)} MB delivery of 10,000 statuses`);
  book.set('ingest.cpu_ms.batch_3mb', big.ours! / 1000, 'ms CPU', 'receiveDelivery on the same bytes (10,000 events built)');
  book.set('ingest.ratio_to_floor.batch_3mb', big.ours! / big.floor!, 'x', 'ingest.cpu_ms.batch_3mb ÷ ingest.floor_ms.batch_3mb');
  book.set('ingest.ratio_to_floor', Math.max(single.ours! / single.floor!, big.ours! / big.floor!), 'x', 'the worse of the 1-message and the 3 MB ratio to the floor');
  book.set('ingest.batch_3mb.events_per_s', (events * 1e6) / big.ours!, 'events/s', 'statuses split, routed and built per CPU second on the 3 MB batch (was "webhook: 3 MB delivery")');

  progress('ingest: the peer (middy + Powertools parser + idempotency + credit debit) on DynamoDB Local');
  await peerFigures(book, dynamoEndpoint, ours, single.ours!);
}

async function peerFigures(book: FigureBook, endpoint: string, ours: ReturnType<typeof ourWebhook>, oursOneMessage: number): Promise<void> {
  const tableName = 'bench-peer';
  const idempotencyTableName = 'bench-peer-idempotency';
  await ensureTable(endpoint, tableName);
  const admin = localClient(endpoint);
  await admin
    .send(new CreateTableCommand({ TableName: idempotencyTableName, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }] }))
    .catch((error: Error) => {
      if (error.name !== 'ResourceInUseException') throw error;
    });
  admin.destroy();
  const doc = createDocumentClient({ tableName, endpoint });
  const client = localClient(endpoint);
  await doc.send(new PutCommand({ TableName: tableName, Item: { pk: `A#${ROUTE.accountId}`, sk: 'CREDITS', balanceMicros: 1e12 } }));
  const peer = createPeerHandler({
    appSecret: SECRET,
    client,
    doc,
    tableName,
    idempotencyTableName,
    route: async () => ROUTE,
    publish: async () => undefined,
  });
  const context = { functionName: 'peer', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  const deliveries = Array.from({ length: 1_200 }, (_, i) => webhookEvent(textDelivery(`wamid.PEER_${i}`), SECRET));
  const deliverPeer = async (i: number) => {
    const response = await peer(deliveries[i]! as never, context);
    if (response.statusCode !== 200) throw new Error(`peer answered ${response.statusCode}: ${response.body}`);
  };
  for (let i = 0; i < 100; i++) await deliverPeer(i);

  const counter = countDynamoRequests(endpoint);
  let next = 100;
  const measured = await sideBySide({ peer: () => deliverPeer(next++), ours: (i) => ours.deliver(deliveries[i % deliveries.length]!) }, 10, 100);
  const counts = counter.take();
  counter.stop();
  const messages = next - 100;
  const peerWrites = counts.writes / messages;
  book.set('peer.cpu_us.one_message', measured.peer!, 'µs CPU', 'the peer on a 1-message delivery, its DynamoDB calls to DynamoDB Local included (this process\'s CPU only)');
  book.set('peer.ddb_writes_per_message', peerWrites, 'writes', `per inbound message at ingest: ${Object.entries(counts.byOperation).map(([op, n]) => `${op} ${(n / messages).toFixed(2)}`).join(', ')}`);
  book.set('peer.ddb_reads_per_message', counts.reads / messages, 'reads', 'per inbound message at ingest');
  book.set('ingest.cpu_us.one_message_beside_peer', measured.ours!, 'µs CPU', 'ours on the same deliveries, measured in the blocks between the peer\'s');
  book.set('ingest.ratio_to_peer', measured.ours! / measured.peer!, 'x', `our CPU per 1-message delivery ÷ the peer's (the peer's ingest also writes ${peerWrites.toFixed(0)} times; ours writes nothing at ingest); earlier block: ${oursOneMessage.toFixed(1)} µs`);
  doc.destroy();
  client.destroy();
}
