/**
 * Live updates end to end through the local runtime: WebSocket clients on
 * ws://…/ws?token=JWT, signed Meta deliveries in at /webhook, a reply out
 * through the Graph simulator (its statuses come back), an assignment via
 * the API. The one timed assertion is the issue's: a new inbound message
 * reaches an agent's socket within one second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let support: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  support = await localClient(runtime).token({ role: 'support' });
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await runtime?.stop();
});

const client = () => localClient(runtime);
let keys = 0;
async function api(method: string, path: string, bearer: string, body?: unknown) {
  const res = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': `live-${++keys}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const A1 = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const A2 = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const B1 = { displayPhoneNumber: '5511900001003', phoneNumberId: '110000000000003', wabaId: '210000000000002' };

async function accountWith(numbers: (typeof A1)[]) {
  const created = await api('POST', '/v1/admin/accounts', support, { name: 'Acme', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 });
  expect(created.status).toBe(201);
  const accountId = created.body.accountId as string;
  const owner = await client().token({ role: 'owner', accountId });
  if (numbers.length > 1) expect((await api('POST', '/v1/addons', owner, { type: 'number', quantity: numbers.length - 1 })).status).toBe(200);
  for (const [i, number] of numbers.entries()) expect((await api('POST', '/v1/numbers', owner, { name: `Number ${i + 1}`, ...number })).status).toBe(201);
  return { accountId, owner };
}

/** An agent seat in a new team, optionally limited to some numbers, and its token. */
async function agentOf(accountId: string, owner: string, email: string, numbers: string[] | null) {
  const user = await api('POST', '/v1/users', owner, { email, role: 'agent' });
  expect(user.status).toBe(201);
  const team = await api('POST', '/v1/teams', owner, { name: `Team ${email}` });
  expect(team.status).toBe(201);
  const teamId = team.body.teamId as string;
  expect((await api('PUT', `/v1/teams/${teamId}/members`, owner, { userIds: [user.body.userId] })).status).toBe(200);
  if (numbers) expect((await api('PUT', `/v1/teams/${teamId}/numbers`, owner, { whatsapp_phnos: numbers })).status).toBe(200);
  const res = await fetch(`${runtime.url}/local/token`, { method: 'POST', body: JSON.stringify({ role: 'agent', accountId, userId: user.body.userId }) });
  return { token: ((await res.json()) as { token: string }).token, teamId, userId: user.body.userId as string };
}

interface Listener {
  received: { at: number; message: any }[];
  next(match: (message: any) => boolean, timeoutMs?: number): Promise<{ at: number; message: any }>;
}

/** Opens a socket and waits for its `connected` message. */
async function listen(token: string, query = ''): Promise<Listener & { connected: any }> {
  const socket = new WebSocket(`${runtime.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}${query}`);
  sockets.push(socket);
  const received: { at: number; message: any }[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (v: { at: number; message: any }) => void }[] = [];
  socket.on('message', (data) => {
    const entry = { at: Date.now(), message: JSON.parse(String(data)) };
    received.push(entry);
    for (const waiter of [...waiters]) if (waiter.match(entry.message)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(entry);
    }
  });
  const next = (match: (m: any) => boolean, timeoutMs = 10_000) =>
    new Promise<{ at: number; message: any }>((resolve, reject) => {
      const found = received.find((entry) => match(entry.message));
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error('no such live update arrived')), timeoutMs);
      waiters.push({ match, resolve: (v) => (clearTimeout(timer), resolve(v)) });
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const connected = (await next((m) => m.type === 'connected')).message;
  return { received, next, connected };
}

/** The upgrade's HTTP answer when the server refuses it. */
function refusal(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => reject(new Error('the socket was accepted')));
    socket.once('error', () => undefined);
  });
}

function inbound(number: typeof A1, wamid: string, from: string, text = 'Oi!') {
  return fixtureText('text-message.json')
    .replace(/"timestamp": "\d+"/g, `"timestamp": "${Math.floor(Date.now() / 1000)}"`)
    .split('wamid.IN_TEXT_0001').join(wamid)
    .split('5511987650001').join(from)
    .split('Oi! Vocês entregam em Campinas?').join(text)
    .split('110000000000001').join(number.phoneNumberId)
    .split('15550001001').join(number.displayPhoneNumber)
    .split('210000000000001').join(number.wabaId);
}

describe('live updates over ws://…/ws', () => {
  let a: { accountId: string; owner: string };
  let b: { accountId: string; owner: string };

  beforeAll(async () => {
    a = await accountWith([A1, A2]);
    b = await accountWith([B1]);
  });

  it('refuses a missing or bad token with 401, and support staff naming no account with 403', async () => {
    const ws = runtime.url.replace('http', 'ws');
    expect(await refusal(`${ws}/ws`)).toBe(401);
    expect(await refusal(`${ws}/ws?token=not-a-jwt`)).toBe(401);
    expect(await refusal(`${ws}/ws?token=${support}`)).toBe(403);
  });

  it('pushes a new inbound message to an agent within one second, its status changes and an assignment; nothing to another account', async () => {
    const agent = await agentOf(a.accountId, a.owner, 'agent-all@example.com', null);
    const listener = await listen(agent.token);
    expect(listener.connected).toEqual({ type: 'connected', accountId: a.accountId, whatsapp_phnos: 'all' });
    const other = await listen(b.owner);
    expect(other.connected).toMatchObject({ type: 'connected', accountId: b.accountId });

    const sentAt = Date.now();
    expect(await client().deliver(inbound(A1, 'wamid.LIVE_A_0001', '5511987650101', 'Olá, live!'))).toBe(200);
    const created = await listener.next((m) => m.type === 'message.created' && m.message.wamid === 'wamid.LIVE_A_0001');
    expect(created.at - sentAt).toBeLessThan(1000);
    expect(created.message).toMatchObject({
      accountId: a.accountId,
      whatsapp_phno: '15550001001',
      conversationId: '15550001001_5511987650101',
      message: { wamid: 'wamid.LIVE_A_0001', direction: 'in', text: 'Olá, live!', status: 'received' },
    });
    await listener.next((m) => m.type === 'conversation.updated' && m.conversationId === '15550001001_5511987650101' && m.conversation.lastMessagePreview === 'Olá, live!');

    // A reply: the simulator reports sent, delivered, read back through /webhook.
    const reply = await api('POST', '/v1/conversations/15550001001_5511987650101/messages', agent.token, { text: 'Oi, tudo bem?' });
    expect(reply.status).toBe(202);
    await listener.next((m) => m.type === 'message.created' && m.message.wamid === reply.body.wamid);
    const read = await listener.next((m) => m.type === 'message.updated' && m.message.wamid === reply.body.wamid && m.message.status === 'read');
    expect(read.message.message).toMatchObject({ direction: 'out', text: 'Oi, tudo bem?' });

    const assigned = await api('POST', '/v1/conversations/15550001001_5511987650101/assign', a.owner, { teamId: agent.teamId, userId: agent.userId });
    expect(assigned.status).toBe(200);
    const update = await listener.next((m) => m.type === 'conversation.updated' && m.conversation.assignedUserId === agent.userId);
    expect(update.message.conversation).toMatchObject({ conversationId: '15550001001_5511987650101', assignedTeamId: agent.teamId });

    // The other account's barrier: its own message arrives, and nothing of account A came before (or at all).
    expect(await client().deliver(inbound(B1, 'wamid.LIVE_B_0001', '5511987650202'))).toBe(200);
    await other.next((m) => m.type === 'message.created' && m.message.wamid === 'wamid.LIVE_B_0001');
    expect(other.received.filter((entry) => entry.message.type !== 'connected').every((entry) => entry.message.accountId === b.accountId)).toBe(true);
    expect(other.received.some((entry) => JSON.stringify(entry.message).includes('LIVE_A_0001'))).toBe(false);
  });

  it('sends an agent limited to one number nothing of another number', async () => {
    const limited = await agentOf(a.accountId, a.owner, 'agent-one@example.com', ['15550001002']);
    const listener = await listen(limited.token);
    expect(listener.connected).toEqual({ type: 'connected', accountId: a.accountId, whatsapp_phnos: ['15550001002'] });

    expect(await client().deliver(inbound(A1, 'wamid.LIVE_A_0002', '5511987650103'))).toBe(200);
    // The barrier: a later message of the agent's own number.
    expect(await client().deliver(inbound(A2, 'wamid.LIVE_A_0003', '5511987650104'))).toBe(200);
    await listener.next((m) => m.type === 'message.created' && m.message.wamid === 'wamid.LIVE_A_0003');
    await runtime.bus.drain();
    const updates = listener.received.filter((entry) => entry.message.type !== 'connected');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((entry) => entry.message.whatsapp_phno === '15550001002')).toBe(true);
  });

  it('lets support staff listen to the account they name', async () => {
    const listener = await listen(support, `&accountId=${b.accountId}`);
    expect(listener.connected).toEqual({ type: 'connected', accountId: b.accountId, whatsapp_phnos: 'all' });
  });
});
