/**
 * Every Meta fixture, signed as Meta signs it, posted over HTTP to the local
 * runtime (`startLocalRuntime`), produces exactly the right bus events: one
 * per item, tagged with its number, routed to the right rules. Channel-status
 * fixtures also update the number item.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../schemas/events.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { createDocumentClient } from '../../functions/adapters/dynamo/client.js';
import type { RecordedEvent } from '../../functions/adapters/local/event-bus.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { FIXTURE_ACCOUNT, FIXTURE_ROUTES, fixtureBytes, fixtureNames, seedNumberItem, seedRoute, sign } from '../support/webhook.js';

let runtime: LocalRuntime;
let doc: ReturnType<typeof createDocumentClient>;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  doc = createDocumentClient({ tableName: runtime.tableName, endpoint: runtime.dynamoEndpoint });
  for (const route of Object.values(FIXTURE_ROUTES)) {
    await seedRoute(doc, runtime.tableName, route);
    await seedNumberItem(doc, runtime.tableName, route);
  }
});

afterAll(async () => {
  doc?.destroy();
  await runtime?.stop();
});

const { messageReceived: RECEIVED, messageStatusUpdated: STATUS, templateStatusUpdated: TEMPLATE, numberUpdated: NUMBER, messageRecorded: RECORDED, userPreferencesUpdated: PREFERENCES } = DETAIL_TYPES;
const DEFAULT = FIXTURE_ROUTES.default.whatsapp_phno;
const VENDAS = FIXTURE_ROUTES.vendas.whatsapp_phno;
const SECOND = FIXTURE_ROUTES.secondWaba.whatsapp_phno;

interface Expected {
  detailType: string;
  eventId: string | RegExp;
  phno: string;
  rules: string[];
  /** More of the detail that must be there. */
  detail?: Record<string, unknown>;
  /** Fields of the detail that must not be there. */
  absent?: string[];
}

const received = (eventId: string, phno: string, detail: Record<string, unknown> = {}, rules = ['inbox', 'automation', 'integrations', 'outgoingWebhooks']): Expected => ({ detailType: RECEIVED, eventId, phno, rules, detail });
const status = (eventId: string, phno: string, detail: Record<string, unknown> = {}, rules = ['inbox', 'outgoingWebhooks', 'broadcast']): Expected => ({ detailType: STATUS, eventId, phno, rules, detail });

/** An echo or history message: to the inbox only (no automation, integration, outgoing webhook or broadcast). */
const recorded = (wamid: string, phno: string, detail: Record<string, unknown>): Expected => ({ detailType: RECORDED, eventId: `rec:${wamid}`, phno, rules: ['inbox'], detail });
const GROUP_ID = 'Y2FwaV9ncm91cDoxNTU1MDAwMTAwMToxMjAzNjMwMDAwMDAwMDE';

/** What each fixture must produce, in order. A fixture missing here fails its test. */
const EXPECTED: Record<string, Expected[]> = {
  'account-update.json': [
    { detailType: NUMBER, eventId: /^upd:account_update:ACCOUNT_UPDATE:1764230900:[0-9a-f]+:15550001002$/, phno: VENDAS, rules: ['outgoingWebhooks'], detail: { field: 'account_update' } },
  ],
  // The portfolio's limit reaches every number of the WABA (both share the account's portfolio).
  'business-capability-update.json': [
    { detailType: NUMBER, eventId: /^upd:business_capability_update:-:1764230600:[0-9a-f]+:15550001001$/, phno: DEFAULT, rules: ['outgoingWebhooks'], detail: { field: 'business_capability_update' } },
    { detailType: NUMBER, eventId: /^upd:business_capability_update:-:1764230600:[0-9a-f]+:15550001002$/, phno: VENDAS, rules: ['outgoingWebhooks'], detail: { field: 'business_capability_update' } },
  ],
  // A call permission reply quotes the business's request (context.id), so the broadcasts see it like any reply.
  'call-permission-reply.json': [
    received(
      'wamid.IN_CALLPERM_0001',
      DEFAULT,
      { message: expect.objectContaining({ interactive: expect.objectContaining({ type: 'call_permission_reply', call_permission_reply: expect.objectContaining({ response: 'accept' }) }) }) },
      ['inbox', 'automation', 'integrations', 'outgoingWebhooks', 'broadcast'],
    ),
  ],
  // The contacts entry names another user: the message's `from` is the sender and the event carries no contact.
  'contact-mismatch.json': [{ ...received('wamid.IN_MISMATCH_0001', DEFAULT, { message: expect.objectContaining({ from: '5511987650005' }) }), absent: ['contact'] }],
  'ctwa-referral-additional-number.json': [received('wamid.IN_REFERRAL_0002', VENDAS, { message: expect.objectContaining({ referral: expect.objectContaining({ source_id: '120200000000002' }) }) })],
  'ctwa-referral.json': [received('wamid.IN_REFERRAL_0001', DEFAULT, { message: expect.objectContaining({ referral: expect.objectContaining({ ctwa_clid: expect.any(String) }) }) })],
  'group-message.json': [received('wamid.IN_GROUP_0001', DEFAULT, { message: expect.objectContaining({ from: '5511987650004', group_id: GROUP_ID }), contact: expect.objectContaining({ wa_id: '5511987650004' }) })],
  // The group's id stays raw in recipient_id, with Meta's recipient_type: never read as a phone number.
  'group-status.json': [status('wamid.OUT_GROUP_0001:read', DEFAULT, { status: expect.objectContaining({ recipient_id: GROUP_ID, recipient_type: 'group', recipient_participant_id: '5511987650004' }) }, ['inbox', 'outgoingWebhooks'])],
  // One event per history message, in thread order; `out` when the business number wrote it.
  'history-threads.json': [
    recorded('wamid.HIST_0001', DEFAULT, { source: 'history', direction: 'out', contact: { waId: '5511987650002' }, threadId: '5511987650002', occurredAt: '2025-11-26T06:53:20.000Z' }),
    recorded('wamid.HIST_0002', DEFAULT, { source: 'history', direction: 'in', contact: { waId: '5511987650002' }, threadId: '5511987650002' }),
    recorded('wamid.HIST_0003', DEFAULT, { source: 'history', direction: 'out', message: expect.objectContaining({ original_type: 'media_placeholder', history_context: { status: 'PLAYED' } }) }),
    recorded('wamid.HIST_0004', DEFAULT, { source: 'history', direction: 'out', contact: { waId: '5511987650003' }, threadId: '5511987650003' }),
  ],
  'image-message.json': [received('wamid.IN_IMAGE_0001', VENDAS, { message: expect.objectContaining({ type: 'image', image: expect.objectContaining({ id: '1470000000000001' }) }) }, ['inbox', 'automation', 'integrations', 'outgoingWebhooks', 'media'])],
  'interactive-button-reply.json': [
    received('wamid.IN_INTERACTIVE_0001', DEFAULT, { message: expect.objectContaining({ interactive: expect.objectContaining({ type: 'button_reply' }) }) }, ['inbox', 'automation', 'integrations', 'outgoingWebhooks', 'broadcast']),
  ],
  'location-message.json': [received('wamid.IN_LOCATION_0001', SECOND, { wabaId: '210000000000002', message: expect.objectContaining({ location: expect.objectContaining({ name: 'Loja Centro' }) }) })],
  'message-edit.json': [received('wamid.IN_EDIT_0001', DEFAULT, { message: expect.objectContaining({ type: 'edit', edit: expect.objectContaining({ original_message_id: 'wamid.IN_TEXT_0001' }) }) })],
  'message-revoke.json': [received('wamid.IN_REVOKE_0001', DEFAULT, { message: expect.objectContaining({ type: 'revoke', revoke: { original_message_id: 'wamid.IN_TEXT_0001' } }) })],
  'order-message.json': [received('wamid.IN_ORDER_0001', DEFAULT, { message: expect.objectContaining({ order: expect.objectContaining({ catalog_id: '900000000000001' }) }) })],
  'phone-number-quality-update.json': [
    { detailType: NUMBER, eventId: /^upd:phone_number_quality_update:UPGRADE:1764230800:[0-9a-f]+:15550001002$/, phno: VENDAS, rules: ['outgoingWebhooks'], detail: { field: 'phone_number_quality_update' } },
  ],
  'reaction-message.json': [received('wamid.IN_REACTION_0001', DEFAULT, { message: expect.objectContaining({ reaction: { message_id: 'wamid.OUT_0001', emoji: '👍' } }) })],
  'smb-message-echo.json': [
    recorded('wamid.ECHO_0001', DEFAULT, { source: 'business_app', direction: 'out', contact: { waId: '5511987650001' }, message: expect.objectContaining({ from: '15550001001', to: '5511987650001', type: 'text' }) }),
  ],
  'status-delivered.json': [status('wamid.OUT_BROADCAST_0001:delivered', VENDAS, { broadcastId: 'brd_0001' })],
  'status-failed.json': [status('wamid.OUT_BROADCAST_0002:failed', VENDAS, { broadcastId: 'brd_0001', status: expect.objectContaining({ errors: [expect.objectContaining({ code: 131049 })] }) })],
  'status-read.json': [status('wamid.OUT_BROADCAST_0001:read', VENDAS, { broadcastId: 'brd_0001' })],
  'status-sent.json': [status('wamid.OUT_BROADCAST_0001:sent', VENDAS, { broadcastId: 'brd_0001' })],
  'statuses-out-of-order.json': [
    status('wamid.OUT_0001:read', DEFAULT, {}, ['inbox', 'outgoingWebhooks']),
    status('wamid.OUT_0001:delivered', DEFAULT, {}, ['inbox', 'outgoingWebhooks']),
    status('wamid.OUT_0001:sent', DEFAULT, {}, ['inbox', 'outgoingWebhooks']),
  ],
  'template-quick-reply.json': [
    received('wamid.IN_BUTTON_0001', VENDAS, { message: expect.objectContaining({ button: expect.objectContaining({ payload: 'STOP_PROMOS' }) }) }, ['inbox', 'automation', 'integrations', 'outgoingWebhooks', 'broadcast']),
  ],
  'template-status-update.json': [
    { detailType: TEMPLATE, eventId: 'tpl:880000000000001:APPROVED:1764230700:15550001001', phno: DEFAULT, rules: ['outgoingWebhooks', 'broadcast'], detail: { update: expect.objectContaining({ message_template_name: 'black_friday_2026' }) } },
    { detailType: TEMPLATE, eventId: 'tpl:880000000000001:APPROVED:1764230700:15550001002', phno: VENDAS, rules: ['outgoingWebhooks', 'broadcast'], detail: { update: expect.objectContaining({ event: 'APPROVED' }) } },
  ],
  'text-message.json': [received('wamid.IN_TEXT_0001', DEFAULT, { contact: { wa_id: '5511987650001', profile: { name: 'Maria Souza' } } })],
  'two-numbers-one-delivery.json': [received('wamid.IN_TEXT_0002', DEFAULT), received('wamid.IN_TEXT_0003', VENDAS), received('wamid.IN_TEXT_0004', SECOND)],
  'unknown-number.json': [],
  // The matching contacts entry adds the BSUID; opt-outs go to the broadcasts only.
  'user-preferences.json': [
    { detailType: PREFERENCES, eventId: 'pref:5511987650001:marketing_messages:stop:1764231600', phno: VENDAS, rules: ['broadcast'], detail: { contact: { waId: '5511987650001', userId: 'BR.1502576394655843' }, category: 'marketing_messages', value: 'stop', at: '2025-11-27T08:20:00.000Z' } },
    { detailType: PREFERENCES, eventId: 'pref:5511987650002:marketing_messages:resume:1764231660', phno: VENDAS, rules: ['broadcast'], detail: { contact: { waId: '5511987650002' }, value: 'resume' } },
  ],
  'unsupported-message.json': [received('wamid.IN_UNSUPPORTED_0001', DEFAULT, { message: expect.objectContaining({ type: 'unsupported', errors: [expect.objectContaining({ code: 131051 })] }) })],
};

async function busEvents(): Promise<RecordedEvent[]> {
  return ((await (await fetch(`${runtime.url}/local/bus/events`)).json()) as { items: RecordedEvent[] }).items;
}

/** Posts the fixture's exact bytes, signed, and returns the answer and the events it put on the bus. */
async function deliver(name: string) {
  const before = (await busEvents()).length;
  const body = fixtureBytes(name);
  const res = await fetch(`${runtime.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, runtime.env.WHATSAPP_APP_SECRET) },
    body,
  });
  return { status: res.status, events: (await busEvents()).slice(before) };
}

const numberItem = async (phno: string) =>
  (await doc.send(new GetCommand({ TableName: runtime.tableName, Key: entities.number.key({ accountId: FIXTURE_ACCOUNT, whatsappPhno: phno }), ConsistentRead: true }))).Item;

describe('POST /webhook with every Meta fixture', () => {
  it.each(fixtureNames())('%s produces its events', async (name) => {
    const expected = EXPECTED[name];
    expect(expected, `no expectation written for fixture ${name}`).toBeDefined();
    const { status: code, events } = await deliver(name);
    expect(code).toBe(200);
    expect(events).toHaveLength(expected!.length);
    events.forEach(({ event, rules }, i) => {
      const want = expected![i]!;
      const route = Object.values(FIXTURE_ROUTES).find((r) => r.whatsapp_phno === want.phno)!;
      expect(event).toMatchObject({ source: 'whatsapp.webhook', 'detail-type': want.detailType });
      expect(event.detail).toMatchObject({
        accountId: FIXTURE_ACCOUNT,
        whatsapp_phno: want.phno,
        phoneNumberId: route.phoneNumberId,
        wabaId: route.wabaId,
        isDefaultNumber: route.isDefault,
        eventId: typeof want.eventId === 'string' ? want.eventId : expect.stringMatching(want.eventId),
        receivedAt: expect.any(String),
        ...want.detail,
      });
      for (const field of want.absent ?? []) expect(event.detail).not.toHaveProperty(field);
      expect(rules).toEqual(want.rules);
    });
  });
});

describe('channel status from the fixtures', () => {
  it('sets the messaging-limit tier of the number a quality update names', async () => {
    await deliver('phone-number-quality-update.json');
    expect(await numberItem(VENDAS)).toMatchObject({ messagingLimitTier: 'TIER_10K', messagingLimitTierAt: '2025-11-27T08:06:40.000Z' });
  });

  it('keeps the newer of two updates as the last channel event, whatever their arrival order', async () => {
    // The account update (entry time …900) is newer than the quality update (…800), which is delivered after it.
    await deliver('account-update.json');
    await deliver('phone-number-quality-update.json');
    expect(await numberItem(VENDAS)).toMatchObject({ lastChannelEvent: 'account_update:ACCOUNT_UPDATE', messagingLimitTier: 'TIER_10K' });
  });

  it('leaves the other numbers of the WABA alone', async () => {
    await deliver('phone-number-quality-update.json');
    expect(await numberItem(DEFAULT)).toMatchObject({ messagingLimitTier: 'TIER_250' });
  });

  it('records an account update on the number it names', async () => {
    await deliver('account-update.json');
    expect(await numberItem(VENDAS)).toMatchObject({ lastChannelEvent: 'account_update:ACCOUNT_UPDATE', status: 'CONNECTED' });
  });
});

describe('redelivery', () => {
  it('gives a redelivered body the same event ids (consumers dedupe on them)', async () => {
    const first = await deliver('two-numbers-one-delivery.json');
    const again = await deliver('two-numbers-one-delivery.json');
    expect(again.events.map((e) => (e.event.detail as { eventId: string }).eventId)).toEqual(first.events.map((e) => (e.event.detail as { eventId: string }).eventId));
  });
});
