/**
 * The team inbox end to end through the local runtime over HTTP: signed Meta
 * fixtures in at /webhook, the bus, the inbox consumer, the API, a reply out
 * through the Graph API simulator, and its statuses back in through /webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { eventually, localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let support: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  support = await token({ role: 'support' });
});

afterAll(async () => {
  await runtime?.stop();
});


/** Posts bytes to the webhook signed as Meta signs them, and waits until the bus has delivered every event. */
async function deliver(raw: string) {
  const status = await localClient(runtime).deliver(raw);
  await runtime.bus.drain();
  return status;
}

const token = (body: { role: string; accountId?: string; userId?: string }) => localClient(runtime).token(body);
const api = (method: string, path: string, bearer: string, body?: unknown) => localClient(runtime).api(method, path, bearer, body);

/** The fixture as if sent just now (its own timestamp is long outside the 24-hour window). */
function fresh(fixture: string, replace: Record<string, string> = {}) {
  let raw = fixtureText(fixture).replace(/"timestamp": "\d+"/g, `"timestamp": "${Math.floor(Date.now() / 1000)}"`);
  for (const [from, to] of Object.entries(replace)) raw = raw.split(from).join(to);
  return raw;
}

/** A new account with the fixture numbers connected (the first is the default). */
async function accountWith(numbers: { displayPhoneNumber: string; phoneNumberId: string; wabaId: string }[]) {
  const created = await api('POST', '/v1/admin/accounts', support, {
    name: 'Acme',
    plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 },
    creditsMicros: 50_000_000,
  });
  expect(created.status).toBe(201);
  const accountId = created.body.accountId as string;
  const owner = await token({ role: 'owner', accountId });
  if (numbers.length > 1) expect((await api('POST', '/v1/addons', owner, { type: 'number', quantity: numbers.length - 1 })).status).toBe(200);
  for (const [i, number] of numbers.entries()) {
    const connected = await api('POST', '/v1/numbers', owner, { name: `Number ${i + 1}`, ...number });
    expect(connected.status).toBe(201);
  }
  // An agent sees the numbers their teams cover: a seat in a team covering every number.
  const seat = await api('POST', '/v1/users', owner, { email: 'ana@example.com', role: 'agent' });
  const team = await api('POST', '/v1/teams', owner, { name: 'Support' });
  expect((await api('PUT', `/v1/teams/${team.body.teamId}/members`, owner, { userIds: [seat.body.userId] })).status).toBe(200);
  return { accountId, agent: await token({ role: 'agent', accountId, userId: seat.body.userId }) };
}


const DEFAULT = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const VENDAS = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const CAMPINAS = { displayPhoneNumber: '5511900001003', phoneNumberId: '110000000000003', wabaId: '210000000000002' };

// Numbers are unique platform-wide, so the flows below share one account and its numbers.
describe('team inbox through the local runtime', () => {
  let agent: string;

  beforeAll(async () => {
    ({ agent } = await accountWith([DEFAULT, VENDAS, CAMPINAS]));
  });

  it('refuses a free-form reply to the fixture message as it is: its timestamp is outside the 24-hour window', async () => {
    expect(await deliver(fixtureText('text-message.json'))).toBe(200);
    const reply = await api('POST', '/v1/conversations/15550001001_5511987650001/messages', agent, { text: 'Olá!' });
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe('WINDOW_CLOSED');
  });

  it('lists the conversation, replies from its number, and watches sent → delivered → read arrive', async () => {
    expect(await deliver(fresh('text-message.json', { 'wamid.IN_TEXT_0001': 'wamid.IN_TEXT_FRESH' }))).toBe(200);
    const listed = await api('GET', '/v1/conversations?whatsapp_phno=15550001001', agent);
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({
      conversationId: '15550001001_5511987650001',
      whatsapp_phno: '15550001001',
      waId: '5511987650001',
      contactName: 'Maria Souza',
      lastMessagePreview: 'Oi! Vocês entregam em Campinas?',
    });

    const reply = await api('POST', '/v1/conversations/15550001001_5511987650001/messages', agent, { text: 'Sim, entregamos!' });
    expect(reply.status).toBe(202);
    const sent = await api('GET', '/local/graph/messages', agent);
    expect(sent.body.items).toContainEqual({ phoneNumberId: '110000000000001', to: '5511987650001', type: 'text', text: 'Sim, entregamos!', wamid: reply.body.wamid });

    const outbound = await eventually(
      async () => (await api('GET', '/v1/conversations/15550001001_5511987650001/messages', agent)).body.items.find((m: any) => m.wamid === reply.body.wamid),
      (message) => message?.status === 'read',
    );
    expect(outbound).toMatchObject({ direction: 'out', type: 'text', text: 'Sim, entregamos!', status: 'read' });
  });

  it('stores a message once and counts it unread once when Meta delivers it five times at once', async () => {
    const raw = fresh('text-message.json', { 'wamid.IN_TEXT_0001': 'wamid.IN_TEXT_FIVE', '5511987650001': '5511987650077' });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => deliver(raw)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const messages = await api('GET', '/v1/conversations/15550001001_5511987650077/messages', agent);
    expect(messages.body.items.map((m: any) => m.wamid)).toEqual(['wamid.IN_TEXT_FIVE']);
    const conversations = await api('GET', '/v1/conversations?whatsapp_phno=15550001001', agent);
    expect(conversations.body.items.find((c: any) => c.waId === '5511987650077').unreadCount).toBe(1);
  });

  it('stores every number\'s messages of one delivery, one contact per number', async () => {
    expect(await deliver(fixtureText('two-numbers-one-delivery.json'))).toBe(200);
    const contacts = await api('GET', '/v1/contacts', agent);
    const pairs = contacts.body.items.map((c: any) => `${c.attributes.whatsapp_phno}:${c.waId}`);
    expect(pairs).toEqual(expect.arrayContaining(['15550001001:16505550002', '15550001002:16505550002', '5511900001003:5511987650001']));
    const vendas = await api('GET', '/v1/conversations?whatsapp_phno=15550001002', agent);
    expect(vendas.body.items.map((c: any) => c.lastMessagePreview)).toEqual(['price list please']);
  });

  it('reports failed with Meta\'s error when the simulator cannot deliver (recipient 999…)', async () => {
    expect(await deliver(fresh('text-message.json', { 'wamid.IN_TEXT_0001': 'wamid.IN_TEXT_999', '5511987650001': '9995550001' }))).toBe(200);
    const reply = await api('POST', '/v1/conversations/15550001001_9995550001/messages', agent, { text: 'Olá?' });
    expect(reply.status).toBe(202);
    const outbound = await eventually(
      async () => (await api('GET', '/v1/conversations/15550001001_9995550001/messages', agent)).body.items.find((m: any) => m.wamid === reply.body.wamid),
      (message) => message?.status === 'failed',
    );
    expect(outbound).toMatchObject({ status: 'failed', error: { code: 131026, title: 'Message undeliverable' } });
  });

  it('shows another account nothing of this account\'s inbox', async () => {
    const created = await api('POST', '/v1/admin/accounts', support, { name: 'Other', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 }, creditsMicros: 0 });
    const stranger = await token({ role: 'owner', accountId: created.body.accountId });
    expect((await api('GET', '/v1/conversations', stranger)).body.items).toEqual([]);
    expect((await api('GET', '/v1/contacts', stranger)).body.items).toEqual([]);
    expect((await api('GET', '/v1/conversations/15550001001_5511987650001/messages', stranger)).status).toBe(404);
  });
});
