/**
 * A broadcast end to end through the local runtime over HTTP: a template
 * submitted to the Graph API simulator and approved by its signed webhook,
 * a broadcast to a few recipients (one `999…`, which Meta fails), the bus,
 * the broadcast consumer, the send queue, the sender, the statuses back in
 * through /webhook, and the counts, balance and ledger by number at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { eventually, localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let owner: string;
let accountId: string;

const NUMBER = { name: 'Marketing', displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const TEMPLATE = { name: 'spring_sale', language: 'en_US', category: 'MARKETING', components: [{ type: 'BODY', text: 'Spring sale: 20% off this week.' }] };
/** US recipients (25,000 micros a marketing message on the example rate card) and one Meta fails. */
const RECIPIENTS = ['+1 650 555 0101', '16505550102', '16505550103', '16505550104', '99955500001'];
const US_PRICE = 25_000;
const CREDITS = 50_000_000;

const token = (body: { role: string; accountId?: string }) => localClient(runtime).token(body);
const api = (method: string, path: string, bearer: string, body?: unknown) => localClient(runtime).api(method, path, bearer, body);


beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const support = await token({ role: 'support' });
  const created = await api('POST', '/v1/admin/accounts', support, {
    name: 'Acme',
    plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 },
    creditsMicros: CREDITS,
  });
  accountId = created.body.accountId;
  owner = await token({ role: 'owner', accountId });
  expect((await api('POST', '/v1/numbers', owner, NUMBER)).status).toBe(201);
});

afterAll(async () => {
  await runtime?.stop();
});

type Broadcast = { status: string; counts: Record<string, number>; creditsSpentMicros: number; failedReasons: Record<string, number> };

describe('a broadcast through the local runtime', () => {
  let broadcastId: string;

  it('gets its template approved by the simulator', async () => {
    expect((await api('POST', '/v1/templates', owner, TEMPLATE)).status).toBe(202);
    const templates = await eventually(
      () => api('GET', '/v1/templates', owner),
      (res) => res.body.items[0]?.numbers[0]?.status === 'APPROVED',
    );
    expect(templates.body.items).toEqual([
      { name: 'spring_sale', language: 'en_US', category: 'MARKETING', numbers: [{ whatsapp_phno: NUMBER.displayPhoneNumber, status: 'APPROVED' }] },
    ]);
  });

  it('ends completed with the 999… recipient failed and the others read', async () => {
    const accepted = await api('POST', '/v1/broadcasts', owner, {
      whatsapp_phno: NUMBER.displayPhoneNumber,
      template: { name: TEMPLATE.name, language: TEMPLATE.language },
      recipients: RECIPIENTS,
    });
    expect(accepted.status).toBe(202);
    broadcastId = accepted.body.broadcastId;
    const done = await eventually(
      () => api('GET', `/v1/broadcasts/${broadcastId}`, owner),
      (res) => res.body.status === 'completed' && res.body.counts.read === 4 && res.body.counts.failed === 1,
    );
    const view = done.body as Broadcast;
    expect(view.status).toBe('completed');
    expect(view.counts).toEqual({ recipients: 5, sent: 4, delivered: 4, read: 4, failed: 1, replied: 0, skippedOptOut: 0, deferred: 0 });
    expect(view.failedReasons).toEqual({ meta_failed: 1 });
    expect(view.creditsSpentMicros).toBe(4 * US_PRICE);
  });

  it('sent each recipient once from the number, marked with the broadcast', async () => {
    const sent = (await (await fetch(`${runtime.url}/local/graph/messages`)).json()) as { items: { to: string; phoneNumberId: string; bizOpaqueCallbackData?: string }[] };
    const ours = sent.items.filter((m) => m.bizOpaqueCallbackData === `bc:${broadcastId}`);
    expect(ours.map((m) => m.to).sort()).toEqual(['16505550101', '16505550102', '16505550103', '16505550104', '99955500001']);
    expect(new Set(ours.map((m) => m.phoneNumberId))).toEqual(new Set([NUMBER.phoneNumberId]));
  });

  it('charged the pool for the four delivered messages only', async () => {
    const account = await api('GET', '/v1/account', owner);
    expect(account.body.credits.balanceMicros).toBe(CREDITS - 4 * US_PRICE);
    expect(account.body.spendByNumber).toEqual([{ whatsapp_phno: NUMBER.displayPhoneNumber, spentMicros: 4 * US_PRICE }]);
  });

  it("shows the number's reservation, settlement and refund in its ledger", async () => {
    const ledger = await api('GET', `/v1/credits/ledger?whatsapp_phno=${NUMBER.displayPhoneNumber}`, owner);
    const reasons = ledger.body.items.map((e: { reason: string }) => e.reason).sort();
    expect(reasons).toEqual(['broadcast:refund', 'broadcast:reserve', 'broadcast:settle']);
    expect(ledger.body.items.reduce((sum: number, e: { amount: number }) => sum + e.amount, 0)).toBe(-4 * US_PRICE);
  });

  it('counts a reply quoting a broadcast message', async () => {
    const sent = (await (await fetch(`${runtime.url}/local/graph/messages`)).json()) as { items: { to: string; wamid: string; bizOpaqueCallbackData?: string }[] };
    const quoted = sent.items.find((m) => m.bizOpaqueCallbackData === `bc:${broadcastId}` && m.to === '16505550102')!;
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: NUMBER.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: NUMBER.displayPhoneNumber, phone_number_id: NUMBER.phoneNumberId },
                contacts: [{ profile: { name: 'John' }, wa_id: '16505550102' }],
                messages: [
                  { from: '16505550102', id: 'wamid.reply.e2e.1', timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'Yes!' }, context: { from: NUMBER.displayPhoneNumber, id: quoted.wamid } },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(await localClient(runtime).deliver(raw)).toBe(200);
    const view = await eventually(
      () => api('GET', `/v1/broadcasts/${broadcastId}`, owner),
      (r) => r.body.counts.replied === 1,
    );
    expect(view.body.counts.replied).toBe(1);
  });

  it('lists the broadcast under its number', async () => {
    const list = await api('GET', `/v1/broadcasts?whatsapp_phno=${NUMBER.displayPhoneNumber}`, owner);
    expect(list.body.items.map((b: { broadcastId: string }) => b.broadcastId)).toEqual([broadcastId]);
  });
});
