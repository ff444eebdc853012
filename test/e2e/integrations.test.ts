/**
 * Integrations end to end through the local runtime over HTTP: an admin
 * creates the account's integration (a receiver on 127.0.0.1), a signed Meta
 * delivery on the default number comes in at /webhook, and its contact and
 * conversation records show at `/local/integrations/events` and reach the
 * receiver signed with the secret shown at creation; a message on an
 * additional number shows nowhere; after `PUT /v1/numbers/default` the new
 * default's records flow.
 */
import { createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { eventually, localClient } from '../support/local-client.js';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let runtime: LocalRuntime;
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/crm/inbound`;
});

afterAll(async () => {
  await runtime?.stop();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

const client = () => localClient(runtime);
const api = (method: string, path: string, bearer: string, body?: unknown) => client().api(method, path, bearer, body);

async function deliver(raw: string) {
  const status = await client().deliver(raw);
  await runtime.bus.drain();
  return status;
}

async function localEvents(): Promise<{ integrationId: string; accountId: string; record: { recordId: string; kind: string; contact?: { waId: string; whatsapp_phno: string }; conversation?: { id: string; whatsapp_phno: string; lastMessagePreview: string } } }[]> {
  const res = await fetch(`${runtime.url}/local/integrations/events`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: never[] }).items;
}

/** A text message from Maria on one number, stamped now, with its own wamid. */
function textOn(number: { displayPhoneNumber: string; phoneNumberId: string; wabaId: string }, wamid: string, text: string) {
  return fixtureText('text-message.json')
    .replace(/"timestamp": "\d+"/, `"timestamp": "${Math.floor(Date.now() / 1000)}"`)
    .replace('"display_phone_number": "15550001001"', `"display_phone_number": "${number.displayPhoneNumber}"`)
    .replace('"phone_number_id": "110000000000001"', `"phone_number_id": "${number.phoneNumberId}"`)
    .replace('"id": "210000000000001"', `"id": "${number.wabaId}"`)
    .replace('wamid.IN_TEXT_0001', wamid)
    .replace('Oi! Vocês entregam em Campinas?', text);
}

const MAIN = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const VENDAS = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const NEW_MAIN = { displayPhoneNumber: '15550001009', phoneNumberId: '110000000000009', wabaId: '210000000000001' };

describe('integrations through the local runtime', () => {
  let accountId = '';
  let owner = '';
  let admin = '';
  let integration: { id: string; secret: string; whatsapp_phno: string };

  beforeAll(async () => {
    const support = await client().token({ role: 'support' });
    const created = await api('POST', '/v1/admin/accounts', support, { name: 'Acme', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 0 });
    accountId = created.body.accountId;
    owner = await client().token({ role: 'owner', accountId });
    admin = await client().token({ role: 'admin', accountId });
    expect((await api('POST', '/v1/addons', owner, { type: 'number', quantity: 1 })).status).toBe(200);
    expect((await api('POST', '/v1/numbers', owner, { name: 'Main', ...MAIN })).status).toBe(201);
    expect((await api('POST', '/v1/numbers', owner, { name: 'Vendas', ...VENDAS })).status).toBe(201);
  });

  it('creates the integration on the default number; an additional number cannot have it', async () => {
    const refused = await api('POST', '/v1/integrations', admin, { type: 'http', config: { url: receiverUrl }, whatsapp_phno: VENDAS.displayPhoneNumber });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'integrations' });
    const res = await api('POST', '/v1/integrations', admin, { type: 'http', config: { url: receiverUrl } });
    expect(res.status).toBe(201);
    expect(res.body.whatsapp_phno).toBe(MAIN.displayPhoneNumber);
    integration = res.body;
    expect((await api('POST', '/v1/integrations', admin, { type: 'http', config: { url: receiverUrl } })).status).toBe(409);
  });

  it("shows the default number's contact and conversation records, and POSTs them to the receiver, signed", async () => {
    expect(await deliver(textOn(MAIN, 'wamid.E2E_INT_MAIN_1', 'Quero um orçamento'))).toBe(200);
    const events = await eventually(localEvents, (items) => items.length >= 2, 10_000);
    expect(events.map((e) => e.record.kind)).toEqual(['contact.upserted', 'conversation.updated']);
    expect(events.every((e) => e.integrationId === integration.id && e.accountId === accountId)).toBe(true);
    expect(events[0]!.record.contact).toMatchObject({ waId: '5511987650001', whatsapp_phno: MAIN.displayPhoneNumber });
    expect(events[1]!.record.conversation).toMatchObject({ id: '15550001001_5511987650001', lastMessagePreview: 'Quero um orçamento' });

    expect(received.map((r) => JSON.parse(r.body).recordId)).toEqual(events.map((e) => e.record.recordId));
    for (const { headers, body } of received) {
      const timestamp = headers['x-webhook-timestamp'] as string;
      const expected = `sha256=${createHmac('sha256', integration.secret).update(`${timestamp}.${body}`).digest('hex')}`;
      expect(headers['x-signature-256']).toBe(expected);
      expect(headers['x-webhook-id']).toBe(JSON.parse(body).recordId);
    }
  });

  it('shows nothing for a message on the additional number', async () => {
    const before = (await localEvents()).length;
    expect(await deliver(textOn(VENDAS, 'wamid.E2E_INT_VENDAS_1', 'Oi Vendas'))).toBe(200);
    // The inbox got it: the message went through the whole pipeline, the integration only skipped it.
    const conversations = await api('GET', `/v1/conversations?whatsapp_phno=${VENDAS.displayPhoneNumber}`, admin);
    expect(conversations.body.items.map((c: { lastMessagePreview: string }) => c.lastMessagePreview)).toContain('Oi Vendas');
    expect((await localEvents()).length).toBe(before);
  });

  it("follows a default replacement: the new default's records flow", async () => {
    const replaced = await api('PUT', '/v1/numbers/default', owner, { name: 'New main', ...NEW_MAIN });
    expect(replaced.status).toBe(200);
    expect((await api('GET', '/v1/integrations', admin)).body.items[0].whatsapp_phno).toBe(NEW_MAIN.displayPhoneNumber);
    const before = (await localEvents()).length;
    expect(await deliver(textOn(NEW_MAIN, 'wamid.E2E_INT_NEW_1', 'Olá número novo'))).toBe(200);
    const events = await eventually(localEvents, (items) => items.length >= before + 2, 10_000);
    const latest = events.slice(before);
    expect(latest.map((e) => e.record.kind)).toEqual(['contact.upserted', 'conversation.updated']);
    expect(latest[1]!.record.conversation).toMatchObject({ whatsapp_phno: NEW_MAIN.displayPhoneNumber, lastMessagePreview: 'Olá número novo' });
  });

  it('deletes the integration (204): nothing more is pushed', async () => {
    expect((await api('DELETE', `/v1/integrations/${integration.id}`, admin)).status).toBe(204);
    const before = (await localEvents()).length;
    expect(await deliver(textOn(NEW_MAIN, 'wamid.E2E_INT_NEW_2', 'Ainda aí?'))).toBe(200);
    expect((await localEvents()).length).toBe(before);
  });
});
