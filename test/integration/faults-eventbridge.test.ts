/**
 * Fault injection on the webhook → bus hop: the real webhook (`receiveDelivery`
 * with its DynamoDB route reader on DynamoDB Local) publishing through the real
 * `EventBridgePublisher`, whose `EventBridgeClient` is mocked
 * (aws-sdk-client-mock) only to make `PutEvents` fail: entries refused
 * (`FailedEntryCount` > 0), whole requests throttled, a request the bus took
 * although the client saw a timeout, an entry refused for good.
 *
 * Every event the bus accepted is then delivered, as SQS would, to the real
 * inbox consumer (Lambda handler on the same table), duplicates included and
 * in shuffled order. What must hold after each fault and Meta's redelivery of
 * the same signed bytes: every message is on the bus at least once (no loss),
 * the inbox stores each exactly once and counts it once (no double), and the
 * webhook answered 5xx whenever something was still unpublished, so Meta
 * redelivers.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { EventBridgePublisher, type PublishProblem } from '../../functions/adapters/eventbridge/publisher.js';
import { systemClock } from '../../functions/commons/ids.js';
import { receiveDelivery } from '../../functions/webhook/delivery.js';
import { createWebhookDeps } from '../../functions/webhook/deps.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { putNumber, sqsBatch } from '../support/inbox.js';
import { inboundTexts, messagesDelivery } from '../support/meta-payloads.js';
import { APP_SECRET, sign } from '../support/webhook.js';

const client = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
// Only this client instance is mocked: DynamoDB Local stays real.
const eventBridge = mockClient(client);
afterAll(() => eventBridge.restore());

let table: TestTable;
let inbox: DynamoInboxRepository;
let consumeInbox: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let seq = 0;

beforeAll(async () => {
  table = await createTestTable('faults-eventbridge');
  inbox = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
  // The inbox handler reads its table at import, as at a Lambda cold start.
  process.env.TABLE_NAME = table.tableName;
  process.env.DYNAMODB_ENDPOINT = table.endpoint;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  consumeInbox = (await import('../../functions/inbox/handler.js')).handler as typeof consumeInbox;
});

// ---------------------------------------------------------------------------------------------
// The bus: what EventBridge accepted, and the faults it is told to show.
// ---------------------------------------------------------------------------------------------

type EntryFault = (entry: PutEventsRequestEntry, call: number) => string | undefined;
interface BusFaults {
  /** An ErrorCode for an entry (refused), or undefined (accepted). */
  entry?: EntryFault;
  /** The whole request fails before the bus takes anything (throttling). */
  reject?: (call: number) => Error | undefined;
  /** The bus takes the request, then the client sees this error (a timeout after the write). */
  lostAnswer?: (call: number) => Error | undefined;
}

let accepted: PutEventsRequestEntry[];
let calls: number;
let faults: BusFaults;
let problems: PublishProblem[];
let metrics: { name: string; value: number }[];

beforeEach(() => {
  eventBridge.reset();
  accepted = [];
  calls = 0;
  faults = {};
  problems = [];
  metrics = [];
  eventBridge.on(PutEventsCommand).callsFake(({ Entries }: { Entries: PutEventsRequestEntry[] }) => {
    const call = ++calls;
    const refused = faults.reject?.(call);
    if (refused) throw refused;
    const results: PutEventsResultEntry[] = Entries.map((entry) => {
      const code = faults.entry?.(entry, call);
      if (code) return { ErrorCode: code, ErrorMessage: `injected ${code}` };
      accepted.push(entry);
      return { EventId: randomUUID() };
    });
    const lost = faults.lostAnswer?.(call);
    if (lost) throw lost;
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  });
});

const throttled = () =>
  new EventBridgeServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
/** What the SDK's HTTP handler throws when no answer came in time. */
const timedOut = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });

const eventIdOf = (entry: PutEventsRequestEntry) => (JSON.parse(entry.Detail!) as { eventId: string }).eventId;
const acceptedIds = () => accepted.map(eventIdOf);

// ---------------------------------------------------------------------------------------------
// The webhook, wired as in AWS but for the mocked client and no real sleeps.
// ---------------------------------------------------------------------------------------------

function webhook() {
  const publisher = new EventBridgePublisher(client, 'whatsapp-test', {
    sleep: async () => undefined,
    onProblem: (problem) => problems.push(problem),
  });
  const deps = createWebhookDeps(table.doc, table.tableName, {
    publisher,
    appSecret: async () => APP_SECRET,
    verifyToken: async () => 'verify',
    routeCache: { ROUTE_CACHE_TTL_SECONDS: 0, ROUTE_CACHE_MISS_TTL_SECONDS: 0 },
  });
  const recorder = { addMetric: (name: string, _unit: unknown, value: number) => void metrics.push({ name, value }) } as unknown as Metrics;
  return { ...deps, logger: new Logger({ logLevel: 'SILENT' }), metrics: recorder };
}

interface World {
  accountId: string;
  phno: string;
  contact: string;
  wamids: string[];
  body: Buffer;
}

/** A fresh account and number, and one signed delivery of `n` texts from one person. */
async function world(n: number): Promise<World> {
  const id = `${Date.now() % 1_000_000}${String(++seq).padStart(3, '0')}`;
  const accountId = `acc_fault${id}`;
  const phno = `1555${id.padStart(9, '0')}`.slice(0, 13);
  const number = { whatsapp_phno: phno, phoneNumberId: `19${id.padStart(13, '0')}`, wabaId: `29${id.padStart(13, '0')}` };
  await putNumber(table, accountId, number);
  const contact = `55119${id.padStart(8, '0')}`;
  const now = Math.floor(Date.now() / 1000);
  const wamids = Array.from({ length: n }, (_, i) => `wamid.FAULT_${id}_${i}`);
  const texts = wamids.map((wamid, i) => ({ id: wamid, body: `message ${i}`, timestamp: String(now - n + i) }));
  const payload = messagesDelivery([{ displayPhoneNumber: phno, ...number }, inboundTexts(contact, 'Maria Souza', texts)]);
  return { accountId, phno, contact, wamids, body: Buffer.from(JSON.stringify(payload)) };
}

/** Meta posting the same signed bytes (a first delivery or a redelivery). */
async function post(w: World) {
  const response = await receiveDelivery({ body: w.body.toString('utf8'), isBase64Encoded: false, headers: { 'x-hub-signature-256': sign(w.body) } }, webhook());
  return { status: response.statusCode, body: JSON.parse(response.body as string) as Record<string, unknown> };
}

/**
 * SQS delivering every accepted event to the inbox consumer (shuffled, in
 * batches of 10 as the event source mapping does), and again whatever a batch
 * reported failed, until nothing fails.
 */
async function drainToInbox() {
  let bodies = accepted
    .map((entry) => ({ source: entry.Source!, 'detail-type': entry.DetailType!, detail: JSON.parse(entry.Detail!), id: randomUUID(), time: new Date().toISOString() }))
    .sort(() => Math.random() - 0.5);
  for (let round = 0; bodies.length && round < 10; round++) {
    const retry: typeof bodies = [];
    for (let i = 0; i < bodies.length; i += 10) {
      const batch = sqsBatch(bodies.slice(i, i + 10));
      const { batchItemFailures } = await consumeInbox(batch, {} as Context);
      const failedIds = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      batch.Records.forEach((record, j) => failedIds.has(record.messageId) && retry.push(bodies[i + j]!));
    }
    bodies = retry;
  }
  expect(bodies).toEqual([]);
}

async function storedMessages(w: World) {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': entities.message.partition({ accountId: w.accountId, whatsappPhno: w.phno, contactKey: w.contact }) },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((item) => item.wamid as string).sort();
}

/** The end state every fault must reach: each message once in the inbox, counted once. */
async function expectEachMessageOnce(w: World) {
  expect(new Set(acceptedIds())).toEqual(new Set(w.wamids));
  await drainToInbox();
  expect(await storedMessages(w)).toEqual([...w.wamids].sort());
  const conversation = await inbox.getConversation({ accountId: w.accountId, whatsappPhno: w.phno, contactKey: w.contact });
  expect(conversation?.unreadCount).toBe(w.wamids.length);
}

const count = (ids: string[], id: string) => ids.filter((x) => x === id).length;
const metric = (name: string) => metrics.filter((m) => m.name === name).reduce((sum, m) => sum + m.value, 0);

// ---------------------------------------------------------------------------------------------

describe('PutEvents partial failures (FailedEntryCount > 0)', () => {
  it('retries only the refused entries: the delivery answers 200 and every event is on the bus exactly once', async () => {
    const w = await world(25);
    // Every third entry is refused the first time the bus sees it (throttled or failed internally).
    const refusedOnce = new Set(w.wamids.filter((_, i) => i % 3 === 0));
    const seen = new Set<string>();
    faults.entry = (entry, call) => {
      const id = eventIdOf(entry);
      if (!refusedOnce.has(id) || seen.has(id)) return undefined;
      seen.add(id);
      return call % 2 ? 'ThrottlingException' : 'InternalFailure';
    };

    const response = await post(w);
    expect(response).toEqual({ status: 200, body: { published: 25, unrouted: 0, invalid: 0 } });
    expect([...acceptedIds()].sort()).toEqual([...w.wamids].sort());
    expect(problems.filter((p) => p.kind === 'entry-failed').map((p) => p.eventId).sort()).toEqual([...refusedOnce].sort());
    expect(problems.every((p) => p.kind === 'entry-failed' && !p.final)).toBe(true);
    expect(metric('PublishFailures')).toBe(0);
    expect(metric('EventsPublished')).toBe(25);
    await expectEachMessageOnce(w);
  });

  it('answers 500 while an entry keeps failing; Meta’s redelivery publishes it, and the duplicates of the others change nothing', async () => {
    const w = await world(12);
    const stubborn = w.wamids[7]!;
    let busHealthy = false;
    faults.entry = (entry) => (!busHealthy && eventIdOf(entry) === stubborn ? 'InternalFailure' : undefined);

    const first = await post(w);
    expect(first.status).toBe(500);
    expect(count(acceptedIds(), stubborn)).toBe(0);
    expect(new Set(acceptedIds()).size).toBe(11);
    // Five attempts for the stubborn entry, the last one final: the operator's PublishFailures alarm and log line.
    expect(problems.filter((p) => p.kind === 'entry-failed' && p.eventId === stubborn).map((p) => p.kind === 'entry-failed' && p.final)).toEqual([false, false, false, false, true]);
    expect(metric('PublishFailures')).toBe(1);

    busHealthy = true;
    const redelivery = await post(w);
    expect(redelivery).toEqual({ status: 200, body: { published: 12, unrouted: 0, invalid: 0 } });
    // No loss: the stubborn event is on the bus now; the others are there twice, with the same ids.
    expect(count(acceptedIds(), stubborn)).toBe(1);
    for (const wamid of w.wamids.filter((id) => id !== stubborn)) expect(count(acceptedIds(), wamid)).toBe(2);
    await expectEachMessageOnce(w);
  });

  it('answers 500 for an entry refused for good, still publishing every other event of the delivery', async () => {
    const w = await world(5);
    const malformed = w.wamids[2]!;
    faults.entry = (entry) => (eventIdOf(entry) === malformed ? 'MalformedDetail' : undefined);

    const response = await post(w);
    expect(response.status).toBe(500);
    // Not retried (another attempt cannot fix it): one refusal, final.
    expect(problems).toEqual([expect.objectContaining({ kind: 'entry-failed', eventId: malformed, errorCode: 'MalformedDetail', attempt: 1, final: true })]);
    expect(calls).toBe(1);
    expect([...acceptedIds()].sort()).toEqual(w.wamids.filter((id) => id !== malformed).sort());
    expect(metric('PublishFailures')).toBe(1);
  });
});

describe('PutEvents throttling and lost answers', () => {
  it('retries a throttled request whole: 200, each event once on the bus', async () => {
    const w = await world(15);
    faults.reject = (call) => (call <= 3 ? throttled() : undefined);

    expect((await post(w)).status).toBe(200);
    expect([...acceptedIds()].sort()).toEqual([...w.wamids].sort());
    expect(problems.filter((p) => p.kind === 'request-failed')).toHaveLength(3);
    await expectEachMessageOnce(w);
  });

  it('answers 500 when throttling outlasts the attempts (nothing published), and the redelivery publishes everything once', async () => {
    const w = await world(8);
    let throttling = true;
    faults.reject = () => (throttling ? throttled() : undefined);

    const first = await post(w);
    expect(first.status).toBe(500);
    expect(accepted).toEqual([]);
    expect(calls).toBe(5);
    expect(problems.at(-1)).toMatchObject({ kind: 'request-failed', entries: 8, error: 'ThrottlingException', attempt: 5, final: true });
    expect(metric('PublishFailures')).toBe(1);

    throttling = false;
    expect((await post(w)).status).toBe(200);
    expect([...acceptedIds()].sort()).toEqual([...w.wamids].sort());
    await expectEachMessageOnce(w);
  });

  it('a request the bus took but whose answer was lost is sent again: duplicates on the bus, each message once in the inbox', async () => {
    const w = await world(6);
    faults.lostAnswer = (call) => (call === 1 ? timedOut() : undefined);

    expect((await post(w)).status).toBe(200);
    for (const wamid of w.wamids) expect(count(acceptedIds(), wamid)).toBe(2);
    expect(problems).toEqual([expect.objectContaining({ kind: 'request-failed', error: 'TimeoutError', attempt: 1, final: false })]);
    await expectEachMessageOnce(w);
  });

  it('mixed faults over several redeliveries end with every message stored exactly once', async () => {
    const w = await world(20);
    // Calls 1–3 throttled, then half the entries refused on each call until the 12th, then a lost answer on call 13.
    faults.reject = (call) => (call <= 3 ? throttled() : undefined);
    faults.entry = (entry, call) => (call < 12 && (Number(eventIdOf(entry).split('_').at(-1)) + call) % 2 === 0 ? 'ThrottlingException' : undefined);
    faults.lostAnswer = (call) => (call === 13 ? timedOut() : undefined);

    const statuses: number[] = [];
    for (let delivery = 0; delivery < 6; delivery++) {
      const { status } = await post(w);
      statuses.push(status);
      if (status === 200) break;
    }
    expect(statuses.at(-1)).toBe(200);
    // Every refusal before the 200 was answered 500 (Meta redelivers); none was answered 200 with an event missing.
    expect(statuses.slice(0, -1).every((status) => status === 500)).toBe(true);
    await expectEachMessageOnce(w);
  });
});
