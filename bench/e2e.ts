/**
 * End to end through the local runtime (`startLocalRuntime`, the very
 * handlers, the in-process bus, DynamoDB Local): DynamoDB requests per
 * inbound message and per status, counted below every client
 * (`dynamo-requests.ts`), and the time from a signed delivery to the message
 * being visible through the API, for 1,000 deliveries at a steady rate.
 */
import { performance } from 'node:perf_hooks';
import { type LocalRuntime, startLocalRuntime } from '../local/runtime.js';
import { localClient } from '../test/support/local-client.js';
import { type DynamoCounts, countDynamoRequests } from './dynamo-requests.js';
import { type FigureBook, percentile, progress } from './figures.js';

export const E2E_DELIVERIES = 1_000;
export const E2E_RATE_PER_SECOND = 5;
/** A delivery not visible by then counts as this long (and is named in the note). */
const GIVE_UP_MS = 30_000;

const NUMBER = { name: 'Main', displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const PHNO = '15550001001';

function messagesChange(value: Record<string, unknown>) {
  const change = { field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: PHNO, phone_number_id: NUMBER.phoneNumberId }, ...value } };
  return JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: NUMBER.wabaId, changes: [change] }] });
}

/** A text message from `waId`, sent just now. */
function inboundText(wamid: string, waId: string): string {
  return messagesChange({
    contacts: [{ profile: { name: `Contact ${waId}` }, wa_id: waId }],
    messages: [{ from: waId, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'Oi! Vocês entregam em Campinas?' } }],
  });
}

function statusOf(wamid: string, status: string, waId: string): string {
  return messagesChange({
    statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: waId, pricing: { pricing_model: 'PMP', category: 'service', type: 'free_customer_service' } }],
  });
}

const describeCounts = (counts: DynamoCounts, per: number) =>
  Object.entries(counts.byOperation)
    .sort()
    .map(([op, n]) => `${op} ${(n / per).toFixed(2)}`)
    .join(', ');

export interface E2eResult {
  latenciesMs: number[];
  inbound: DynamoCounts & { messages: number };
  status: DynamoCounts & { statuses: number };
}

export async function e2eFigures(book: FigureBook): Promise<E2eResult> {
  // Routes cached as in AWS (the local default re-reads them on every delivery).
  const runtime: LocalRuntime = await startLocalRuntime({
    port: 0,
    env: { ROUTE_CACHE_TTL_SECONDS: '60', ROUTE_CACHE_MISS_TTL_SECONDS: '5', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
  });
  const client = localClient(runtime);
  const counter = countDynamoRequests(runtime.dynamoEndpoint);
  try {
    const support = await client.token({ role: 'support' });
    const created = await client.api('POST', '/v1/admin/accounts', support, {
      name: 'Bench',
      plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 },
      creditsMicros: 50_000_000,
    });
    if (created.status !== 201) throw new Error(`account not created: ${JSON.stringify(created.body)}`);
    const owner = await client.token({ role: 'owner', accountId: created.body.accountId });
    const connected = await client.api('POST', '/v1/numbers', owner, NUMBER);
    if (connected.status !== 201) throw new Error(`number not connected: ${JSON.stringify(connected.body)}`);
    const deliver = async (raw: string) => {
      const status = await client.deliver(raw);
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    };

    progress('end to end: DynamoDB requests per inbound message and per status');
    // Warm: the route is cached after the first delivery, as in a warm Lambda container.
    for (let i = 0; i < 5; i++) await deliver(inboundText(`wamid.WARM_${i}`, `55119000000${i}`));
    await runtime.bus.drain();
    const messages = 50;
    counter.reset();
    for (let i = 0; i < messages; i++) {
      await deliver(inboundText(`wamid.COUNT_${i}`, `55119100${String(i).padStart(5, '0')}`));
      await runtime.bus.drain();
    }
    const inbound = { ...counter.take(), messages };
    counter.reset();
    for (let i = 0; i < messages; i++) {
      await deliver(inboundText(`wamid.AGAIN_${i}`, `55119100${String(i).padStart(5, '0')}`));
      await runtime.bus.drain();
    }
    const again = counter.take();
    book.set('ddb.writes_per_inbound_message', inbound.writes / messages, 'writes', `a text message from a new contact, the webhook and every consumer of it (inbox, automation, integrations, outgoing webhooks): ${describeCounts(inbound, messages)}`);
    book.set('ddb.reads_per_inbound_message', inbound.reads / messages, 'reads', 'the same messages (the webhook\'s route read is cached per container, as in AWS)');
    book.set('ddb.write_units_per_inbound_message', inbound.writeUnits / messages, 'WRU', 'on-demand write units of those writes (2 per transactional item, items under 1 KB; GSI writes not included)');
    book.set('ddb.read_units_per_inbound_message', inbound.readUnits / messages, 'RRU', 'on-demand read units of those reads (strongly consistent, items under 4 KB)');
    book.set('ddb.writes_per_inbound_message.existing_conversation', again.writes / messages, 'writes', `a second message in each conversation: ${describeCounts(again, messages)}`);

    // Statuses of replies: recipients 998… get no statuses from the simulator, the bench sends them.
    const replies: { wamid: string; waId: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const waId = `998${String(i).padStart(8, '0')}`;
      await deliver(inboundText(`wamid.ASK_${i}`, waId));
      await runtime.bus.drain();
      const reply = await client.api('POST', `/v1/conversations/${PHNO}_${waId}/messages`, owner, { text: 'Sim, entregamos!' });
      if (reply.status !== 202) throw new Error(`reply refused: ${JSON.stringify(reply.body)}`);
      replies.push({ wamid: reply.body.wamid, waId });
    }
    await runtime.bus.drain();
    counter.reset();
    for (const { wamid, waId } of replies) {
      for (const status of ['sent', 'delivered', 'read']) {
        await deliver(statusOf(wamid, status, waId));
        await runtime.bus.drain();
      }
    }
    const statuses = replies.length * 3;
    const status = { ...counter.take(), statuses };
    book.set('ddb.writes_per_status_update', status.writes / statuses, 'writes', `sent, delivered and read of a reply, the webhook and every consumer: ${describeCounts(status, statuses)}`);
    book.set('ddb.reads_per_status_update', status.reads / statuses, 'reads', 'the same statuses');

    progress(`end to end: ${E2E_DELIVERIES} deliveries at ${E2E_RATE_PER_SECOND}/s, each until visible through the API`);
    counter.stop();
    const latenciesMs = await steadyDeliveries(runtime, owner);
    const sorted = [...latenciesMs].sort((a, b) => a - b);
    const what = `${E2E_DELIVERIES} signed deliveries of one text message each (a new contact each) at ${E2E_RATE_PER_SECOND}/s, POST /webhook until GET /v1/conversations/{id}/messages lists it (polled every 10 ms)`;
    book.set('e2e.webhook_to_inbox.p50_ms', percentile(sorted, 50), 'ms', what);
    const late = sorted.filter((ms) => ms >= GIVE_UP_MS).length;
    book.set('e2e.webhook_to_inbox.p99_ms', percentile(sorted, 99), 'ms', `${what}; max ${sorted.at(-1)!.toFixed(0)} ms${late ? `; ${late} not visible within ${GIVE_UP_MS / 1000} s, counted as ${GIVE_UP_MS / 1000} s` : ''}`);
    return { latenciesMs, inbound, status };
  } finally {
    counter.stop();
    await runtime.stop();
  }
}

async function steadyDeliveries(runtime: LocalRuntime, owner: string): Promise<number[]> {
  const client = localClient(runtime);
  const started = performance.now();
  const intervalMs = 1000 / E2E_RATE_PER_SECOND;
  const one = async (i: number): Promise<number> => {
    // Open loop: delivery i leaves at its slot whatever the earlier ones are doing.
    const slot = started + i * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot - performance.now())));
    const waId = `55119200${String(i).padStart(5, '0')}`;
    const wamid = `wamid.E2E_${i}`;
    const t0 = performance.now();
    const status = await client.deliver(inboundText(wamid, waId));
    if (status !== 200) throw new Error(`webhook answered ${status}`);
    const deadline = t0 + GIVE_UP_MS;
    while (performance.now() < deadline) {
      const listed = await client.api('GET', `/v1/conversations/${PHNO}_${waId}/messages`, owner);
      if (listed.status === 200 && (listed.body.items as { wamid: string }[]).some((m) => m.wamid === wamid)) return performance.now() - t0;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return GIVE_UP_MS;
  };
  const all: Promise<number>[] = [];
  for (let i = 0; i < E2E_DELIVERIES; i++) {
    all.push(one(i));
    if ((i + 1) % 250 === 0) all[i]!.then(() => progress(`end to end: delivery ${i + 1}/${E2E_DELIVERIES} visible`), () => undefined);
  }
  return Promise.all(all);
}
