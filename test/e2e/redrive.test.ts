/**
 * The operator tools against the local runtime, over HTTP and as the operator
 * runs them (`npm run redrive`, i.e. `tsx scripts/redrive.ts`, a child
 * process):
 *
 * - redrive (a child process where it matters, `main` in this process for the rest): the integration consumer fails while its receiver is down (a
 *   real consumer, a real failure), the event ends in the bus's dead letters;
 *   the receiver comes back, `redrive bus --rule integrations` moves the dead
 *   letter back to that consumer only, and each record reaches the receiver
 *   once with a 200, nothing left dead, the inbox (which had it) untouched;
 * - archive replay: a window of a conversation (a message in, a keyword reply
 *   out, its statuses back) replayed with `POST /local/bus/replay` reaches
 *   the consumers again (a spy sees `replay-name`) and stores nothing twice,
 *   sends no second reply, counts no second unread.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { main } from '../../scripts/redrive.js';
import { eventually, localClient } from '../support/local-client.js';
import { inboundTexts, messagesDelivery } from '../support/meta-payloads.js';

const MAIN = { displayPhoneNumber: '15550007001', phoneNumberId: '110000000007001', wabaId: '210000000007001' };
const SHOP = { displayPhoneNumber: '15550007002', phoneNumberId: '110000000007002', wabaId: '210000000007002' };
type Number = typeof MAIN;

let runtime: LocalRuntime;
let receiver: Server;
let receiverUrl = '';
/** While true the receiver answers 500: the integration's endpoint is down. */
let receiverDown = true;
const received: { recordId: string; status: number }[] = [];

const client = () => localClient(runtime);

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, bus: { retryDelayMs: 5 } });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = receiverDown ? 500 : 200;
      received.push({ recordId: JSON.parse(Buffer.concat(chunks).toString('utf8')).recordId, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/crm`;
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

async function account(name: string, number: Number) {
  const support = await client().token({ role: 'support' });
  const created = await client().api('POST', '/v1/admin/accounts', support, { name, plan: { users: 3, teams: 1, chatbotSessions: 5, aiResponses: 5 }, creditsMicros: 20_000_000 });
  expect(created.status).toBe(201);
  const accountId = created.body.accountId as string;
  const owner = await client().token({ role: 'owner', accountId });
  expect((await client().api('POST', '/v1/numbers', owner, { name, ...number })).status).toBe(201);
  return { accountId, owner };
}

/** One inbound text, as Meta sends it, stamped now. */
function text(number: Number, from: string, body: string, wamid = `wamid.E2E_${randomUUID()}`) {
  const raw = JSON.stringify(messagesDelivery([number, inboundTexts(from, 'Bea', [{ id: wamid, body }])]));
  return { raw, wamid };
}

/** The conversation as the inbox lists it (there is no single-conversation GET). */
async function conversationOf(owner: string, number: Number, from: string) {
  const list = await client().api('GET', `/v1/conversations?whatsapp_phno=${number.displayPhoneNumber}`, owner);
  expect(list.status).toBe(200);
  return (list.body.items as { conversationId: string; unreadCount: number; lastMessageAt: string }[]).find((c) => c.conversationId === `${number.displayPhoneNumber}_${from}`)!;
}

async function deliver(raw: string) {
  expect(await client().deliver(raw)).toBe(200);
  await runtime.bus.drain();
}

async function local<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${runtime.url}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as T };
}

const deadLetters = async () => (await local<{ items: { rule: string; consumer: string; attempts: number; error: string; event: { detail: { eventId: string } } }[] }>('GET', '/local/bus/dead-letters')).body.items;

/** The same command in this process (`main` of scripts/redrive.ts): for the runs that need no process of their own. */
async function redriveHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** `npm run redrive -- …` as the operator runs it, to its exit. */
function redrive(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/redrive.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run redrive against the local runtime', () => {
  let owner = '';

  beforeAll(async () => {
    const created0 = await account('Redrive', MAIN);
    owner = created0.owner;
    const admin = await client().token({ role: 'admin', accountId: created0.accountId });
    const created = await client().api('POST', '/v1/integrations', admin, { type: 'http', config: { url: receiverUrl } });
    expect(created.status).toBe(201);
  });

  it('a consumer that fails → dead letter → fixed → redriven → processed once, by that consumer only', async () => {
    const from = '5511900007001';
    const message = text(MAIN, from, 'Quero um orçamento');
    await deliver(message.raw);

    // The integration consumer failed on every receive: 3 tries of the first record, all 500.
    const dead = await deadLetters();
    expect(dead).toEqual([expect.objectContaining({ rule: 'integrations', consumer: 'integration', attempts: 3, event: expect.objectContaining({ detail: expect.objectContaining({ eventId: message.wamid }) }) })]);
    const contactId = `contact.upserted:${MAIN.phoneNumberId}:${message.wamid}`;
    const conversationId = `conversation.updated:${MAIN.phoneNumberId}:${message.wamid}`;
    expect(received).toEqual([500, 500, 500].map((status) => ({ recordId: contactId, status })));
    // The inbox had it all along.
    const conversation = `/v1/conversations/${MAIN.displayPhoneNumber}_${from}`;
    const before = await client().api('GET', `${conversation}/messages`, owner);
    expect(before.body.items.map((m: { wamid: string }) => m.wamid)).toEqual([message.wamid]);

    // Fixed, then redriven.
    receiverDown = false;
    received.length = 0;
    const run = await redrive(['bus', '--rule', 'integrations', '--url', runtime.url]);
    expect(run.stderr).not.toMatch(/redrive: /);
    expect(run.stdout).toBe('redrive: 1 dead letter(s) of bus (rule integrations) moved back; 0 left\n');
    expect(run.code).toBe(0);

    expect(received).toEqual([
      { recordId: contactId, status: 200 },
      { recordId: conversationId, status: 200 },
    ]);
    expect(await deadLetters()).toEqual([]);
    const pushed = (await local<{ items: { record: { recordId: string } }[] }>('GET', '/local/integrations/events')).body.items.map((p) => p.record.recordId);
    expect(pushed).toEqual([contactId, conversationId]);
    // Only the consumer that failed got it again: the inbox stored the message once and counted it once.
    const after = await client().api('GET', `${conversation}/messages`, owner);
    expect(after.body.items.map((m: { wamid: string }) => m.wamid)).toEqual([message.wamid]);
    expect((await conversationOf(owner, MAIN, from)).unreadCount).toBe(1);

    // Nothing left: a second redrive moves nothing, and the receiver hears nothing more.
    const again = await redriveHere(['bus', '--url', runtime.url, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ queue: 'bus', redriven: 0, remaining: 0 });
    expect(again.code).toBe(0);
    expect(received).toHaveLength(2);
  });

  it('exits 1 while dead letters are left: the redriven letter fails again and is back', async () => {
    receiverDown = true;
    try {
      const message = text(MAIN, '5511900007002', 'Segundo pedido');
      await deliver(message.raw);
      expect(await deadLetters()).toHaveLength(1);
      const run = await redrive(['bus', '--url', runtime.url]);
      expect(run.stdout).toBe('redrive: 1 dead letter(s) of bus moved back; 1 left\n');
      expect(run.code).toBe(1);
      expect((await deadLetters()).map((d) => d.event.detail.eventId)).toEqual([message.wamid]);
    } finally {
      receiverDown = false;
    }
    const fixed = await redriveHere(['bus', '--url', runtime.url]);
    expect(fixed.stdout).toBe('redrive: 1 dead letter(s) of bus moved back; 0 left\n');
    expect(fixed.code).toBe(0);
  });

  it('redrives the send queue and the webhook delivery queue (empty here) and reports 0 left', async () => {
    for (const queue of ['send-queue', 'webhook-deliveries']) {
      const run = await redriveHere([queue, '--url', runtime.url, '--json']);
      expect(JSON.parse(run.stdout)).toEqual({ queue, redriven: 0, remaining: 0 });
      expect(run.code).toBe(0);
    }
  });

  it('exits 1 with the cause when no runtime answers at --url', async () => {
    // A port nothing listens on: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const run = await redriveHere(['bus', '--url', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^redrive: .*fetch failed.*ECONNREFUSED/);
  });

  it('refuses a bad body on the local endpoints with 400', async () => {
    expect((await local('POST', '/local/bus/dead-letters/redrive', { rule: 7 })).status).toBe(400);
    expect((await local('POST', '/local/bus/dead-letters/redrive', { queue: 'inbox' })).status).toBe(400);
    expect((await local('POST', '/local/bus/replay', { from: 'yesterday', to: new Date().toISOString() })).status).toBe(400);
    const backwards = await local<{ error: { code: string } }>('POST', '/local/bus/replay', { from: '2026-11-27T12:00:00Z', to: '2026-11-27T10:00:00Z' });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('archive replay against the local runtime', () => {
  it('replays a window: the consumers get the events again, nothing is stored twice, no second reply', async () => {
    const { owner } = await account('Replay', SHOP);
    expect((await client().api('POST', '/v1/automations/keywords', owner, { keywords: ['hours'], match: 'contains', action: { type: 'reply', text: 'Open 9 to 18.' } })).status).toBe(201);
    const from = '5511900007101';
    const conversation = `/v1/conversations/${SHOP.displayPhoneNumber}_${from}`;
    const sentToBea = async () => ((await local<{ items: { to: string; text?: string }[] }>('GET', '/local/graph/messages')).body.items).filter((s) => s.to === from);

    const windowStart = new Date(Date.now() - 1).toISOString();
    const message = text(SHOP, from, 'What are your hours?');
    await deliver(message.raw);
    expect((await sentToBea()).map((s) => s.text)).toEqual(['Open 9 to 18.']);
    // The reply's statuses come back from the simulator (sent → delivered → read): wait for them, they are in the window too.
    const settled = await eventually(
      async () => (await client().api('GET', `${conversation}/messages`, owner)).body.items as { wamid: string; direction: 'in' | 'out'; status?: string }[],
      (items) => items.some((m) => m.direction === 'out' && m.status === 'read'),
      15_000,
    );
    await runtime.bus.drain();
    const windowEnd = new Date(Date.now() + 1).toISOString();
    const view = await conversationOf(owner, SHOP, from);
    expect(view.unreadCount).toBe(1);

    // A spy on the inbox rule sees what the replay hands the consumers.
    const replayed: { eventId: string; replayName?: string }[] = [];
    const detach = runtime.bus.register(
      'inbox',
      async (event: SQSEvent) => {
        for (const record of event.Records) {
          const body = JSON.parse(record.body);
          if (body.detail?.whatsapp_phno === SHOP.displayPhoneNumber) replayed.push({ eventId: body.detail.eventId, replayName: body['replay-name'] });
        }
      },
      'replay-spy',
    );
    try {
      const answer = await local<{ replayed: number }>('POST', '/local/bus/replay', { from: windowStart, to: windowEnd, name: 'e2e-replay' });
      expect(answer.status).toBe(200);
      expect(answer.body.replayed).toBeGreaterThanOrEqual(2);
      await runtime.bus.drain();
    } finally {
      detach();
    }

    expect(replayed.map((r) => r.eventId)).toContain(message.wamid);
    expect(replayed.length).toBeGreaterThanOrEqual(2);
    expect(replayed.every((r) => r.replayName === 'e2e-replay')).toBe(true);
    // Idempotent consumers: the same messages, statuses and counts; one reply only; nothing dead.
    const after = (await client().api('GET', `${conversation}/messages`, owner)).body.items as { wamid: string; direction: 'in' | 'out'; status?: string }[];
    expect(after).toEqual(settled);
    expect(new Set(after.map((m) => m.wamid)).size).toBe(after.length);
    expect(await sentToBea()).toHaveLength(1);
    const viewAfter = await conversationOf(owner, SHOP, from);
    expect(viewAfter.unreadCount).toBe(view.unreadCount);
    expect(viewAfter.lastMessageAt).toBe(view.lastMessageAt);
    expect(await deadLetters()).toEqual([]);
  });
});
