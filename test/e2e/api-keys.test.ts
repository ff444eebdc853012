/**
 * API keys end to end through the local runtime over HTTP, as a program
 * would call it: an owner creates a key, the program sends with it on
 * `/api/v1/…` (`x-api-key`) from the default number and out through the
 * Graph API simulator; another number answers 403 `FEATURE_UNAVAILABLE`,
 * a dashboard-only route 403 `FORBIDDEN`; no key 401, an unknown or
 * deleted key 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let owner: string;
let key: string;
let keyId: string;

const DEFAULT = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const VENDAS = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };

const client = () => localClient(runtime);

/** What curl would do: the key in x-api-key, JSON in and out. */
async function withKey(method: string, path: string, apiKey: string | undefined, body?: unknown) {
  const res = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The text-message fixture as if sent just now, to `number`. */
async function inbound(number: typeof DEFAULT, wamid: string) {
  const raw = fixtureText('text-message.json')
    .replace(/"timestamp": "\d+"/g, `"timestamp": "${Math.floor(Date.now() / 1000)}"`)
    .split('wamid.IN_TEXT_0001').join(wamid)
    .split(DEFAULT.phoneNumberId).join(number.phoneNumberId)
    .split(DEFAULT.displayPhoneNumber).join(number.displayPhoneNumber);
  expect(await client().deliver(raw)).toBe(200);
  await runtime.bus.drain();
}

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const support = await client().token({ role: 'support' });
  const created = await client().api('POST', '/v1/admin/accounts', support, { name: 'Acme', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 });
  const accountId = created.body.accountId as string;
  owner = await client().token({ role: 'owner', accountId });
  expect((await client().api('POST', '/v1/addons', owner, { type: 'number', quantity: 1 })).status).toBe(200);
  for (const number of [DEFAULT, VENDAS]) expect((await client().api('POST', '/v1/numbers', owner, { name: number.displayPhoneNumber, ...number })).status).toBe(201);
  await inbound(DEFAULT, 'wamid.IN_KEY_DEFAULT');
  await inbound(VENDAS, 'wamid.IN_KEY_VENDAS');
  const made = await client().api('POST', '/v1/api-keys', owner, { name: 'CRM sync' });
  expect(made.status).toBe(201);
  ({ key, id: keyId } = made.body);
});

afterAll(async () => {
  await runtime?.stop();
});

describe('API keys through the local runtime', () => {
  it('sends from the default number with the key, out through the Graph API', async () => {
    const sent = await withKey('POST', '/api/v1/conversations/15550001001_5511987650001/messages', key, { text: 'Pedido confirmado' });
    expect(sent.status).toBe(202);
    const graph = await client().api('GET', '/local/graph/messages', owner);
    expect(graph.body.items).toContainEqual(expect.objectContaining({ phoneNumberId: DEFAULT.phoneNumberId, text: 'Pedido confirmado', wamid: sent.body.wamid }));
  });

  it('answers 403 FEATURE_UNAVAILABLE for a conversation of an additional number', async () => {
    const refused = await withKey('POST', '/api/v1/conversations/15550001002_5511987650001/messages', key, { text: 'no' });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: '15550001002' });
  });

  it('lists the default number\'s conversations only, and shows the key\'s last use to its owner', async () => {
    const list = await withKey('GET', '/api/v1/conversations', key);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { whatsapp_phno: string }) => c.whatsapp_phno)).toEqual(['15550001001']);
    const keys = await client().api('GET', '/v1/api-keys', owner);
    expect(keys.body.items).toEqual([expect.objectContaining({ id: keyId, name: 'CRM sync', lastUsedAt: expect.any(String) })]);
  });

  it('refuses a dashboard-only route with 403 FORBIDDEN', async () => {
    const res = await withKey('POST', '/api/v1/api-keys', key, { name: 'escalate' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('answers 401 without a key, 403 for an unknown one, and the dashboard token path ignores a key', async () => {
    expect((await withKey('GET', '/api/v1/numbers', undefined)).status).toBe(401);
    expect((await withKey('GET', '/api/v1/numbers', `wak_zzzzzzzz_${'A'.repeat(43)}`)).status).toBe(403);
    expect((await withKey('GET', '/v1/numbers', key)).status).toBe(401);
  });

  it('refuses a deleted key from the next request', async () => {
    const spare = await client().api('POST', '/v1/api-keys', owner, { name: 'spare' });
    expect((await withKey('GET', '/api/v1/numbers', spare.body.key)).status).toBe(200);
    expect((await client().api('DELETE', `/v1/api-keys/${spare.body.id}`, owner)).status).toBe(204);
    const after = await withKey('GET', '/api/v1/numbers', spare.body.key);
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe('FORBIDDEN');
  });
});
