/**
 * A marketing opt-out end to end through the local runtime over HTTP, as the
 * README's broadcast walkthrough shows it: Meta's signed `user_preferences`
 * delivery (our fixture) in through /webhook, the bus, the broadcast
 * consumer keeping it, then a MARKETING broadcast from that number skipping
 * the user, and a UTILITY one still reaching them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { eventually, localClient } from '../support/local-client.js';
import { fixtureBytes, sign } from '../support/webhook.js';

let runtime: LocalRuntime;
let owner: string;

/** The fixture's number: Maria (5511987650001) stops marketing messages from it. */
const VENDAS = { name: 'Vendas', displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const MARIA = '5511987650001';
const OTHERS = ['16505550001', '16505550002'];

const api = (method: string, path: string, bearer: string, body?: unknown) => localClient(runtime).api(method, path, bearer, body);

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const client = localClient(runtime);
  const support = await client.token({ role: 'support' });
  const created = await api('POST', '/v1/admin/accounts', support, { name: 'Acme', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 });
  owner = await client.token({ role: 'owner', accountId: created.body.accountId });
  expect((await api('POST', '/v1/numbers', owner, VENDAS)).status).toBe(201);
  for (const [name, category] of [['spring_sale', 'MARKETING'], ['order_update', 'UTILITY']]) {
    expect((await api('POST', '/v1/templates', owner, { name, language: 'en_US', category, components: [{ type: 'BODY', text: 'Hello' }] })).status).toBe(202);
  }
  await eventually(
    () => api('GET', '/v1/templates', owner),
    (res) => res.body.items.length === 2 && res.body.items.every((t: { numbers: { status: string }[] }) => t.numbers[0]?.status === 'APPROVED'),
  );
});

afterAll(async () => {
  await runtime?.stop();
});

async function broadcast(template: string) {
  const accepted = await api('POST', '/v1/broadcasts', owner, { whatsapp_phno: VENDAS.displayPhoneNumber, template: { name: template, language: 'en_US' }, recipients: [MARIA, ...OTHERS] });
  expect(accepted.status).toBe(202);
  const done = await eventually(
    () => api('GET', `/v1/broadcasts/${accepted.body.broadcastId}`, owner),
    (res) => res.body.status === 'completed',
  );
  return done.body as { counts: Record<string, number>; creditsSpentMicros: number };
}

describe('a user who stopped marketing messages', () => {
  it('is skipped by a MARKETING broadcast from that number, never sent nor charged', async () => {
    const body = fixtureBytes('user-preferences.json');
    const delivered = await fetch(`${runtime.url}/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': sign(body) }, body });
    expect(delivered.status).toBe(200);
    // The bus delivers to the broadcast consumer asynchronously: wait until every delivery under way is over.
    const drained = (await (await fetch(`${runtime.url}/local/bus/drain`, { method: 'POST' })).json()) as { deadLetters: number };
    expect(drained.deadLetters).toBe(0);
    const view = await broadcast('spring_sale');
    expect(view.counts).toMatchObject({ recipients: 3, sent: 2, skippedOptOut: 1, failed: 0 });
    expect(view.creditsSpentMicros).toBe(2 * 25_000);
    const sent = (await (await fetch(`${runtime.url}/local/graph/messages`)).json()) as { items: { to: string }[] };
    expect(sent.items.map((m) => m.to).sort()).toEqual([...OTHERS].sort());
  });

  it('still gets a UTILITY template', async () => {
    const view = await broadcast('order_update');
    expect(view.counts).toMatchObject({ recipients: 3, sent: 3, skippedOptOut: 0 });
  });
});
