/**
 * Outgoing webhooks on DynamoDB Local, through the router the Lambda runs, the
 * dispatcher's record parser and the delivery use case, POSTing through the
 * real guard to a receiver on 127.0.0.1: subscriptions (create, list, delete,
 * validation naming the field, the limit under a concurrent race, the
 * additional number, idempotent retries), dispatch (default number only, also
 * after a default replacement; one delivery for a redelivered bus event),
 * delivery (retries after a 500 with the same id and body, signed each time;
 * a down endpoint failing after N attempts, listed as failed, redelivered
 * once for concurrent clicks) and DNS rebinding refused at delivery.
 */
import { createHmac } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoWebhookSubscriptionStore } from '../../functions/adapters/dynamo/webhook-subscription-store.js';
import { type ResolvedAddress, SafeHttpTransport } from '../../functions/adapters/http/safe-http.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { connectNumber, replaceDefaultNumber } from '../../functions/core/numbers.js';
import { type WebhookDeliveryDeps, deliverWebhook, dispatchWebhookEvent, subscriptionSecret, webhookDeliveryId } from '../../functions/core/outgoing-webhooks.js';
import { parseWebhookDispatchRecord } from '../../functions/webhook-dispatch/events.js';
import type { WebhookDeliveryMessage } from '../../schemas/webhook-subscriptions.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { adaptersFor, newAccount, race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, RecordingSender, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

const SIGNING_KEY = 'test-master-signing-key';
const PUBLIC_IP = '93.184.216.34';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;
let api: ReturnType<typeof createApi>;
let store: DynamoWebhookSubscriptionStore;
let server: Server;
let port: number;

/** What the test DNS answers: a name not listed resolves as the system does. */
const dns = new Map<string, string>();
const transport = new SafeHttpTransport({
  allowLoopback: true,
  allowHttp: true,
  timeoutMs: 2_000,
  resolve: async (hostname): Promise<ResolvedAddress[]> => {
    const address = dns.get(hostname) ?? (hostname === 'localhost' ? '127.0.0.1' : undefined);
    return address ? [{ address, family: 4 }] : [];
  },
});

/** The delivery queue: messages kept with their delay, run by `runQueue`. */
const queued: { message: WebhookDeliveryMessage; delayMs: number }[] = [];
const deadLetters: { message: WebhookDeliveryMessage; reason: string }[] = [];
const queue = {
  enqueue: async (message: WebhookDeliveryMessage, delayMs: number) => void queued.push({ message, delayMs }),
  deadLetter: async (message: WebhookDeliveryMessage, reason: string) => void deadLetters.push({ message, reason }),
};

/** What the receiver got, and how each path answers (a list of statuses, the last repeated). */
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
const answers = new Map<string, number[]>();

beforeAll(async () => {
  table = await createTestTable('outgoing-webhooks');
  deps = adaptersFor(table);
  store = new DynamoWebhookSubscriptionStore(table.doc, table.tableName);
  const base = createApiDeps(table.doc, table.tableName, {
    events: new RecordingPublisher(),
    messaging: new RecordingSender(),
    webhookQueue: queue,
    webhookTransport: transport,
    webhookSigningKey: async () => SIGNING_KEY,
  });
  api = createApi(base, { onUnexpectedError: (error) => console.error('UNEXPECTED', error) });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const statuses = answers.get(path) ?? [200];
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0]!;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  queued.length = 0;
  deadLetters.length = 0;
});

const send = (request: ApiRequest) => call(api, request);
const admin = (accountId: string) => ({ role: 'admin' as const, accountId });
const paths = (body: { error: { issues: { path: (string | number)[] }[] } }) => body.error.issues.map((issue) => issue.path.join('.'));
const hook = (path: string) => `http://127.0.0.1:${port}${path}`;

const settings = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 900_000, claimLeaseMs: 60_000 };
const deliveryDeps = (): WebhookDeliveryDeps => ({
  webhookSubscriptions: store,
  webhookDeliveries: store,
  webhookQueue: queue,
  deadLetters: queue,
  webhookTransport: transport,
  webhookSigningKey: async () => SIGNING_KEY,
  settings,
  clock: deps.clock,
  random: () => 0.999,
});
const dispatchDeps = () => ({ webhookSubscriptions: store, webhookDeliveries: store, webhookQueue: queue, numbers: deps.numbers, clock: deps.clock });

/** Runs the queued messages (delays skipped) until none is left; answers the outcomes in order. */
async function runQueue(): Promise<string[]> {
  const outcomes: string[] = [];
  while (queued.length > 0) outcomes.push(await deliverWebhook(deliveryDeps(), queued.shift()!.message));
  return outcomes;
}

let numberSeq = 0;
function fixtureNumber(): FixtureNumber {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;
  return { whatsapp_phno: `1557${n}`, phoneNumberId: `5${n}01`, wabaId: `6${n}01` };
}

/** An account with its default number and one additional number. */
async function account() {
  const { accountId } = await newAccount(deps);
  const main = fixtureNumber();
  await connectNumber(deps, accountId, { name: 'Main', ...main }, `connect-${main.whatsapp_phno}`);
  await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
  const other = fixtureNumber();
  await connectNumber(deps, accountId, { name: 'Other', ...other }, `connect-${other.whatsapp_phno}`);
  return { accountId, main, other };
}

async function subscribe(accountId: string, url: string, events = ['WhatsApp Message Received']) {
  const res = await send({ method: 'POST', path: '/v1/webhook-subscriptions', as: admin(accountId), body: { url, events } });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; url: string; events: string[] };
}

/** A received message on `number`, as the dispatcher's queue hands it over. */
function inbound(accountId: string, number: FixtureNumber, isDefaultNumber: boolean, wamid?: string) {
  const event = textEvent(accountId, { number, from: '5511987650001', ...(wamid ? { wamid } : {}) }) as { detail: Record<string, unknown> };
  event.detail.isDefaultNumber = isDefaultNumber;
  const parsed = parseWebhookDispatchRecord(JSON.stringify(event));
  if (parsed.kind === 'ignored') throw new Error('not a public event');
  return { type: parsed.kind, detail: parsed.detail };
}

function verify(secret: string, request: { headers: IncomingHttpHeaders; body: string }): boolean {
  const timestamp = request.headers['x-webhook-timestamp'] as string;
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
  return request.headers['x-signature-256'] === expected;
}

describe('subscriptions API', () => {
  it('creates with a secret shown once, lists without it, deletes', async () => {
    const { accountId } = await account();
    const created = await subscribe(accountId, hook('/a'), ['WhatsApp Message Received', 'WhatsApp Message Status Updated']);
    expect(created.secret).toBe(subscriptionSecret(SIGNING_KEY, created.id));
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const list = await send({ method: 'GET', path: '/v1/webhook-subscriptions', as: admin(accountId) });
    expect(list.body.items).toEqual([{ id: created.id, url: hook('/a'), events: created.events, createdAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    expect((await send({ method: 'DELETE', path: `/v1/webhook-subscriptions/${created.id}`, as: admin(accountId) })).status).toBe(204);
    expect((await send({ method: 'GET', path: '/v1/webhook-subscriptions', as: admin(accountId) })).body.items).toEqual([]);
    expect((await send({ method: 'DELETE', path: `/v1/webhook-subscriptions/${created.id}`, as: admin(accountId) })).status).toBe(404);
  });

  it('stores no secret in the table', async () => {
    const { accountId } = await account();
    const created = await subscribe(accountId, hook('/stored'));
    const stored = await table.doc.send(new (await import('@aws-sdk/lib-dynamodb')).ScanCommand({ TableName: table.tableName }));
    expect(JSON.stringify(stored.Items)).not.toContain(created.secret);
  });

  it('answers 400 naming body.url for a bad or private URL, body.events[i] for an unknown type', async () => {
    const { accountId } = await account();
    const post = (body: unknown) => send({ method: 'POST', path: '/v1/webhook-subscriptions', as: admin(accountId), body });
    const bad = await post({ url: 'not a url', events: ['WhatsApp Message Received'] });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(['body.url']);
    const privateUrl = await post({ url: 'https://10.1.2.3/hook', events: ['WhatsApp Message Received'] });
    expect(privateUrl.status).toBe(400);
    expect(paths(privateUrl.body)).toEqual(['body.url']);
    expect(privateUrl.body.error.message).toContain('private');
    dns.set('metadata.example.test', '169.254.169.254');
    const metadata = await post({ url: 'https://metadata.example.test/', events: ['WhatsApp Message Received'] });
    expect(paths(metadata.body)).toEqual(['body.url']);
    const unknown = await post({ url: hook('/x'), events: ['WhatsApp Message Received', 'Broadcast Requested'] });
    expect(unknown.status).toBe(400);
    expect(paths(unknown.body)).toEqual(['body.events.1']);
  });

  it('is for admins and owners, not agents', async () => {
    const { accountId } = await account();
    const res = await send({ method: 'POST', path: '/v1/webhook-subscriptions', as: { role: 'agent', accountId }, body: { url: hook('/x'), events: ['WhatsApp Message Received'] } });
    expect(res.status).toBe(403);
  });

  it('refuses an additional number with FEATURE_UNAVAILABLE and takes the default one', async () => {
    const { accountId, main, other } = await account();
    const post = (phno: string) =>
      send({ method: 'POST', path: '/v1/webhook-subscriptions', as: admin(accountId), body: { url: hook('/n'), events: ['WhatsApp Message Received'], whatsapp_phno: phno } });
    const refused = await post(other.whatsapp_phno);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: other.whatsapp_phno });
    expect((await post(main.whatsapp_phno)).status).toBe(201);
  });

  it('holds at most 10 under concurrent creates', async () => {
    const { accountId } = await account();
    const { ok } = await race(
      Array.from({ length: 14 }, (_, i) => () => send({ method: 'POST', path: '/v1/webhook-subscriptions', as: admin(accountId), body: { url: hook(`/race${i}`), events: ['WhatsApp Message Received'] } })),
    );
    expect(ok.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = ok.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.body.error.code).toBe('QUOTA_EXCEEDED');
    const list = await send({ method: 'GET', path: '/v1/webhook-subscriptions', as: admin(accountId), query: { limit: '100' } });
    expect(list.body.items).toHaveLength(10);
    // A deletion frees a slot.
    await send({ method: 'DELETE', path: `/v1/webhook-subscriptions/${list.body.items[0].id}`, as: admin(accountId) });
    await subscribe(accountId, hook('/after-delete'));
  });

  it('answers the same subscription to a retried Idempotency-Key', async () => {
    const { accountId } = await account();
    const request = { method: 'POST', path: '/v1/webhook-subscriptions', as: admin(accountId), headers: { 'Idempotency-Key': 'create-hook-1' }, body: { url: hook('/idem'), events: ['WhatsApp Message Received'] } };
    const first = await send(request);
    const second = await send(request);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body).toEqual(first.body);
    const other = await send({ ...request, body: { url: hook('/elsewhere'), events: ['WhatsApp Message Received'] } });
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('dispatch', () => {
  it("delivers the default number's events, signed, and not the additional number's", async () => {
    const { accountId, main, other } = await account();
    const sub = await subscribe(accountId, hook('/default-only'));
    expect(await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, other, false))).toEqual({ outcome: 'not-default', deliveries: 0 });
    const event = inbound(accountId, main, true);
    expect((await dispatchWebhookEvent(dispatchDeps(), event)).deliveries).toBe(1);
    // The dispatcher made no HTTP call: a slow or down subscriber cannot hold ingestion up.
    expect(received.filter((r) => r.path === '/default-only')).toHaveLength(0);
    expect(await runQueue()).toEqual(['delivered']);
    const got = received.filter((r) => r.path === '/default-only');
    expect(got).toHaveLength(1);
    expect(verify(sub.secret, got[0]!)).toBe(true);
    expect(got[0]!.headers['x-webhook-id']).toBe(webhookDeliveryId(sub.id, event.detail.eventId));
    expect(JSON.parse(got[0]!.body)).toMatchObject({ eventId: event.detail.eventId, type: 'WhatsApp Message Received', whatsapp_phno: main.whatsapp_phno, accountId, data: { message: { type: 'text' } } });
  });

  it('makes one delivery and one POST of a bus event received twice', async () => {
    const { accountId, main } = await account();
    await subscribe(accountId, hook('/twice'));
    const event = inbound(accountId, main, true);
    await Promise.all([dispatchWebhookEvent(dispatchDeps(), event), dispatchWebhookEvent(dispatchDeps(), event)]);
    await dispatchWebhookEvent(dispatchDeps(), event);
    const outcomes = await runQueue();
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(1);
    expect(received.filter((r) => r.path === '/twice')).toHaveLength(1);
  });

  it('follows the default number when it is replaced', async () => {
    const { accountId, main } = await account();
    await subscribe(accountId, hook('/replaced'));
    const next = fixtureNumber();
    await replaceDefaultNumber(deps, accountId, { name: 'New default', ...next }, `replace-${accountId}`);
    // The old default's events stop at once, even flagged default by a route the webhook still caches.
    expect((await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, main, true))).outcome).toBe('not-default');
    expect((await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, next, true))).deliveries).toBe(1);
    await runQueue();
    const got = received.filter((r) => r.path === '/replaced');
    expect(got.map((r) => JSON.parse(r.body).whatsapp_phno)).toEqual([next.whatsapp_phno]);
    // Subscribing still works on the new default.
    await subscribe(accountId, hook('/replaced-2'));
  });
});

describe('delivery', () => {
  it('retries after a 500 with the same X-Webhook-Id, eventId and body, signed each time', async () => {
    const { accountId, main } = await account();
    const sub = await subscribe(accountId, hook('/flaky'));
    answers.set('/flaky', [500, 200]);
    await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, main, true));
    expect(await deliverWebhook(deliveryDeps(), queued.shift()!.message)).toBe('retry-scheduled');
    // Full jitter under the ceiling: attempt 1 waits at most the base.
    expect(queued[0]!.delayMs).toBeLessThanOrEqual(settings.baseDelayMs);
    expect(queued[0]!.message.attempt).toBe(2);
    expect(await runQueue()).toEqual(['delivered']);
    const got = received.filter((r) => r.path === '/flaky');
    expect(got).toHaveLength(2);
    expect(got[1]!.headers['x-webhook-id']).toBe(got[0]!.headers['x-webhook-id']);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect(got.every((r) => verify(sub.secret, r))).toBe(true);
    const list = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { status: 'delivered' } });
    expect(list.body.items).toEqual([expect.objectContaining({ id: got[0]!.headers['x-webhook-id'], status: 'delivered', attempts: 2, lastStatus: 200, lastError: null })]);
  });

  it('fails a down endpoint after N attempts, lists it as failed, and redelivers once for concurrent clicks', async () => {
    const { accountId, main } = await account();
    const sub = await subscribe(accountId, hook('/down'));
    answers.set('/down', [503]);
    await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, main, true));
    expect(await runQueue()).toEqual(['retry-scheduled', 'retry-scheduled', 'failed']);
    expect(deadLetters.map((d) => d.reason)).toEqual(['http_503']);
    const failed = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { status: 'failed' } });
    expect(failed.body.items).toEqual([expect.objectContaining({ status: 'failed', attempts: 3, lastStatus: 503, lastError: 'http_503', failedAt: expect.any(String) })]);
    const delivery = failed.body.items[0];
    expect((await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { status: 'pending' } })).body.items).toEqual([]);

    answers.set('/down', [200]);
    const redeliver = () => send({ method: 'POST', path: `/v1/webhook-subscriptions/${sub.id}/deliveries/${delivery.id}/redeliver`, as: admin(accountId) });
    const clicks = await Promise.all([redeliver(), redeliver(), redeliver()]);
    expect(clicks.map((c) => c.status)).toEqual([202, 202, 202]);
    expect(queued).toHaveLength(1);
    expect(await runQueue()).toEqual(['delivered']);
    const got = received.filter((r) => r.path === '/down');
    expect(got).toHaveLength(4);
    expect(new Set(got.map((r) => r.headers['x-webhook-id']))).toEqual(new Set([delivery.id]));
    expect(new Set(got.map((r) => JSON.parse(r.body).eventId))).toEqual(new Set([delivery.eventId]));
    const all = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId) });
    expect(all.body.items).toEqual([expect.objectContaining({ id: delivery.id, status: 'delivered', attempts: 1 })]);
  });

  it('lists deliveries newest first, a page at a time', async () => {
    const { accountId, main } = await account();
    const sub = await subscribe(accountId, hook('/paged'));
    const first = inbound(accountId, main, true);
    await dispatchWebhookEvent(dispatchDeps(), first);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = inbound(accountId, main, true);
    await dispatchWebhookEvent(dispatchDeps(), second);
    const page1 = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { limit: '1' } });
    expect(page1.body.items.map((d: { eventId: string }) => d.eventId)).toEqual([second.detail.eventId]);
    const page2 = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { limit: '1', cursor: page1.body.nextCursor } });
    expect(page2.body.items.map((d: { eventId: string }) => d.eventId)).toEqual([first.detail.eventId]);
  });

  it('refuses at delivery a name that resolved public at subscription and private now (DNS rebinding)', async () => {
    const { accountId, main } = await account();
    dns.set('rebind.example.test', PUBLIC_IP);
    const sub = await subscribe(accountId, `http://rebind.example.test:${port}/rebind`);
    dns.set('rebind.example.test', '10.0.0.7');
    await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, main, true));
    expect(await runQueue()).toEqual(['failed']);
    expect(received.filter((r) => r.path === '/rebind')).toHaveLength(0);
    const failed = await send({ method: 'GET', path: `/v1/webhook-subscriptions/${sub.id}/deliveries`, as: admin(accountId), query: { status: 'failed' } });
    expect(failed.body.items).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, lastError: 'private', lastStatus: null })]);
    expect(deadLetters.map((d) => d.reason)).toEqual(['private']);
  });

  it('ends a queued delivery of a deleted subscription without a POST', async () => {
    const { accountId, main } = await account();
    const sub = await subscribe(accountId, hook('/deleted'));
    await dispatchWebhookEvent(dispatchDeps(), inbound(accountId, main, true));
    await send({ method: 'DELETE', path: `/v1/webhook-subscriptions/${sub.id}`, as: admin(accountId) });
    expect(await runQueue()).toEqual(['subscription-deleted']);
    expect(received.filter((r) => r.path === '/deleted')).toHaveLength(0);
  });
});
