/**
 * Outgoing webhooks end to end through the local runtime over HTTP: a
 * subscription made with the API to a receiver on 127.0.0.1 (the local
 * guard allows loopback and http), a signed Meta delivery in at /webhook, the
 * bus, the dispatcher, the in-process delivery queue and the delivery
 * function: the default number's message arrives signed (retried after a
 * 500 with the same X-Webhook-Id), the additional number's does not, and
 * after `PUT /v1/numbers/default` the new default's messages flow.
 */
import { createHmac } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let receiver: Server;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
/** Statuses the receiver answers in turn; the last one is repeated. */
const answers: number[] = [200];

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, env: { WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '200' } });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.length > 1 ? answers.shift()! : answers[0]!).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

afterAll(async () => {
  await runtime?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

const client = () => localClient(runtime);

/** Delivers a fixture to /webhook and waits until the bus and the delivery queue are idle. */
async function deliver(raw: string) {
  expect(await client().deliver(raw)).toBe(200);
  await runtime.bus.drain();
  await runtime.webhookQueue.drain();
}

function message(wamid: string, number: { display: string; id: string }) {
  return fixtureText('text-message.json')
    .replace('wamid.IN_TEXT_0001', wamid)
    .replace('"display_phone_number": "15550001001"', `"display_phone_number": "${number.display}"`)
    .replace('"phone_number_id": "110000000000001"', `"phone_number_id": "${number.id}"`);
}

const verify = (secret: string, r: { headers: IncomingHttpHeaders; body: string }) =>
  r.headers['x-signature-256'] === `sha256=${createHmac('sha256', secret).update(`${r.headers['x-webhook-timestamp']}.${r.body}`).digest('hex')}`;

const DEFAULT = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const ADDITIONAL = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const NEXT_DEFAULT = { displayPhoneNumber: '15550001009', phoneNumberId: '110000000000009', wabaId: '210000000000001' };

describe('outgoing webhooks through the local runtime', () => {
  let owner: string;
  let secret: string;
  let subscriptionId: string;

  beforeAll(async () => {
    const support = await client().token({ role: 'support' });
    const created = await client().api('POST', '/v1/admin/accounts', support, { name: 'Hooks', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 0 });
    const accountId = created.body.accountId as string;
    owner = await client().token({ role: 'owner', accountId });
    expect((await client().api('POST', '/v1/addons', owner, { type: 'number', quantity: 1 })).status).toBe(200);
    for (const number of [DEFAULT, ADDITIONAL]) expect((await client().api('POST', '/v1/numbers', owner, { name: number.displayPhoneNumber, ...number })).status).toBe(201);
    const sub = await client().api('POST', '/v1/webhook-subscriptions', owner, { url: receiverUrl, events: ['WhatsApp Message Received'] });
    expect(sub.status).toBe(201);
    ({ secret, id: subscriptionId } = sub.body);
  });

  it("delivers the default number's message signed, retrying a 500 with the same X-Webhook-Id", async () => {
    answers.splice(0, answers.length, 500, 200);
    await deliver(message('wamid.HOOK_E2E_1', { display: DEFAULT.displayPhoneNumber, id: DEFAULT.phoneNumberId }));
    expect(received).toHaveLength(2);
    expect(received.every((r) => verify(secret, r))).toBe(true);
    expect(received[1]!.headers['x-webhook-id']).toBe(received[0]!.headers['x-webhook-id']);
    expect(JSON.parse(received[1]!.body)).toMatchObject({ eventId: 'wamid.HOOK_E2E_1', type: 'WhatsApp Message Received', whatsapp_phno: DEFAULT.displayPhoneNumber });
    const deliveries = await client().api('GET', `/v1/webhook-subscriptions/${subscriptionId}/deliveries`, owner);
    expect(deliveries.body.items).toEqual([expect.objectContaining({ eventId: 'wamid.HOOK_E2E_1', status: 'delivered', attempts: 2 })]);
  });

  it("does not deliver the additional number's message", async () => {
    received.length = 0;
    await deliver(message('wamid.HOOK_E2E_2', { display: ADDITIONAL.displayPhoneNumber, id: ADDITIONAL.phoneNumberId }));
    expect(received).toHaveLength(0);
  });

  it('follows a default replacement', async () => {
    received.length = 0;
    const replaced = await client().api('PUT', '/v1/numbers/default', owner, { name: 'Next', ...NEXT_DEFAULT });
    expect(replaced.status).toBeLessThan(300);
    await deliver(message('wamid.HOOK_E2E_3', { display: NEXT_DEFAULT.displayPhoneNumber, id: NEXT_DEFAULT.phoneNumberId }));
    await deliver(message('wamid.HOOK_E2E_4', { display: ADDITIONAL.displayPhoneNumber, id: ADDITIONAL.phoneNumberId }));
    expect(received.map((r) => JSON.parse(r.body).eventId)).toEqual(['wamid.HOOK_E2E_3']);
  });
});
