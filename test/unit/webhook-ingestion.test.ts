/**
 * `functions/core/ingestion.ts`: every entry, change and item of a delivery
 * becomes one bus event, tagged with its number; nothing routes to the wrong
 * number; one bad item spoils nothing else.
 */
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES, contractOf } from '../../schemas/events.js';
import { broadcastIdOf, ingestDelivery } from '../../functions/core/ingestion.js';
import { FIXTURE_ACCOUNT, FIXTURE_ROUTES, InMemoryRoutes, fixtureJson } from '../support/webhook.js';

const RECEIVED_AT = '2026-11-27T12:00:00.000Z';
const ingest = (name: string, routes = new InMemoryRoutes()) => ingestDelivery(fixtureJson(name).entry, routes, RECEIVED_AT);

const messagesChange = (phoneNumberId: string, value: Record<string, unknown>) => ({
  field: 'messages',
  value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: phoneNumberId }, ...value },
});
const text = (id: string, from = '16505550002') => ({ id, from, timestamp: '1764230400', type: 'text', text: { body: id } });

describe('ingestDelivery', () => {
  it('tags an inbound message with its account, number, WABA and default flag', async () => {
    const { events } = await ingest('text-message.json');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'whatsapp.webhook',
      'detail-type': DETAIL_TYPES.messageReceived,
      detail: {
        accountId: FIXTURE_ACCOUNT,
        whatsapp_phno: '15550001001',
        phoneNumberId: '110000000000001',
        wabaId: '210000000000001',
        isDefaultNumber: true,
        eventId: 'wamid.IN_TEXT_0001',
        receivedAt: RECEIVED_AT,
        occurredAt: '2025-11-27T08:00:00.000Z',
        contact: { wa_id: '5511987650001', profile: { name: 'Maria Souza' } },
      },
    });
  });

  it('produces details that parse with their event contracts', async () => {
    const names = ['text-message.json', 'status-sent.json', 'template-status-update.json', 'phone-number-quality-update.json', 'unsupported-message.json'];
    for (const name of names) {
      for (const event of (await ingest(name)).events) {
        expect(contractOf(event['detail-type'])!.schema.safeParse(event.detail).success).toBe(true);
      }
    }
  });

  it('gives every change of every entry its own number (several numbers and WABAs in one delivery)', async () => {
    const { events } = await ingest('two-numbers-one-delivery.json');
    expect(events.map((e) => [e.detail.eventId, e.detail.whatsapp_phno, e.detail.wabaId, e.detail.isDefaultNumber])).toEqual([
      ['wamid.IN_TEXT_0002', '15550001001', '210000000000001', true],
      ['wamid.IN_TEXT_0003', '15550001002', '210000000000001', false],
      ['wamid.IN_TEXT_0004', '5511900001003', '210000000000002', false],
    ]);
  });

  it('makes one event per status with {wamid}:{status} ids, in delivery order', async () => {
    const { events } = await ingest('statuses-out-of-order.json');
    expect(events.map((e) => e.detail.eventId)).toEqual(['wamid.OUT_0001:read', 'wamid.OUT_0001:delivered', 'wamid.OUT_0001:sent']);
    expect(events.every((e) => e['detail-type'] === DETAIL_TYPES.messageStatusUpdated)).toBe(true);
  });

  it('recovers broadcastId from biz_opaque_callback_data', async () => {
    const { events } = await ingest('status-failed.json');
    expect(events[0]!.detail).toMatchObject({ eventId: 'wamid.OUT_BROADCAST_0002:failed', broadcastId: 'brd_0001' });
  });

  it('leaves broadcastId out of a status of a message that was no broadcast', async () => {
    const { events } = await ingest('statuses-out-of-order.json');
    expect(events.every((e) => !('broadcastId' in e.detail))).toBe(true);
  });

  it('fans a template status update out to every number of the WABA', async () => {
    const { events } = await ingest('template-status-update.json');
    expect(events.map((e) => [e['detail-type'], e.detail.whatsapp_phno, e.detail.eventId])).toEqual([
      [DETAIL_TYPES.templateStatusUpdated, '15550001001', 'tpl:880000000000001:APPROVED:1764230700:15550001001'],
      [DETAIL_TYPES.templateStatusUpdated, '15550001002', 'tpl:880000000000001:APPROVED:1764230700:15550001002'],
    ]);
  });

  it('narrows a quality update to the number named by display_phone_number', async () => {
    const { events } = await ingest('phone-number-quality-update.json');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      'detail-type': DETAIL_TYPES.numberUpdated,
      detail: { whatsapp_phno: '15550001002', field: 'phone_number_quality_update', update: { event: 'UPGRADE', current_limit: 'TIER_10K' } },
    });
  });

  it('narrows an account update to the number named by phone_number', async () => {
    const { events } = await ingest('account-update.json');
    expect(events.map((e) => e.detail.whatsapp_phno)).toEqual(['15550001002']);
  });

  it('sends a WABA-wide account update to every number of the WABA', async () => {
    const entry = [{ id: '210000000000001', time: 1764230900, changes: [{ field: 'account_update', value: { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE' } } }] }];
    const { events } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.whatsapp_phno).sort()).toEqual(['15550001001', '15550001002']);
  });

  it('derives the same event ids from a redelivery', async () => {
    for (const name of ['template-status-update.json', 'phone-number-quality-update.json', 'account-update.json']) {
      const first = await ingest(name);
      const again = await ingestDelivery(fixtureJson(name).entry, new InMemoryRoutes(), '2026-11-28T00:00:00.000Z');
      expect(again.events.map((e) => e.detail.eventId)).toEqual(first.events.map((e) => e.detail.eventId));
    }
  });

  it('gives different ids to two different updates of the same number', async () => {
    const update = (event: string, time: number) => ({ id: '210000000000001', time, changes: [{ field: 'phone_number_quality_update', value: { display_phone_number: '15550001001', event } }] });
    const { events } = await ingestDelivery([update('FLAGGED', 1), update('UNFLAGGED', 2), update('FLAGGED', 3)], new InMemoryRoutes(), RECEIVED_AT);
    expect(new Set(events.map((e) => e.detail.eventId)).size).toBe(3);
  });

  it('reports a phone_number_id no account connected as unrouted and publishes nothing for it', async () => {
    const { events, unrouted } = await ingest('unknown-number.json');
    expect(events).toEqual([]);
    expect(unrouted).toEqual([
      expect.objectContaining({ field: 'messages', phoneNumberId: '119999999999999', wabaId: '299999999999999', eventId: 'wamid.IN_TEXT_UNKNOWN' }),
    ]);
  });

  it('reports a WABA-level change of a WABA no account connected as unrouted', async () => {
    const entry = [{ id: '299999999999999', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } }] }];
    const { events, unrouted } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events).toEqual([]);
    expect(unrouted).toHaveLength(1);
  });

  it('routes the known numbers of a delivery and reports only the unknown one', async () => {
    const entry = [{ id: '210000000000001', changes: [messagesChange('119999999999999', { messages: [text('wamid.A')] }), messagesChange('110000000000002', { messages: [text('wamid.B')] })] }];
    const { events, unrouted } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.eventId)).toEqual(['wamid.B']);
    expect(unrouted.map((u) => u.eventId)).toEqual(['wamid.A']);
  });

  it('skips an item that fails its schema, reports where, and keeps the rest of the change', async () => {
    const entry = [{ id: '210000000000001', changes: [messagesChange('110000000000001', { messages: [text('wamid.OK1'), { type: 'text' }, text('wamid.OK2')], statuses: [{ id: 'wamid.S' }] })] }];
    const { events, invalid } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.eventId)).toEqual(['wamid.OK1', 'wamid.OK2']);
    expect(invalid.map((i) => i.where)).toEqual(['entry[0].changes[0].value.messages[1]', 'entry[0].changes[0].value.statuses[0]']);
  });

  it('skips a malformed entry or change and keeps the others', async () => {
    const good = { id: '210000000000001', changes: [messagesChange('110000000000001', { messages: [text('wamid.GOOD')] })] };
    const entry = [{ changes: 'nope' }, good, { id: '210000000000001', changes: [{ value: {} }, messagesChange('not a valid id!', {})] }];
    const { events, invalid } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.eventId)).toEqual(['wamid.GOOD']);
    expect(invalid.map((i) => i.where)).toEqual(['entry[0]', 'entry[2].changes[0]', 'entry[2].changes[1].value']);
  });

  it('publishes an unknown message type as unsupported with its original type', async () => {
    const entry = [{ id: '210000000000001', changes: [messagesChange('110000000000001', { messages: [{ ...text('wamid.NEW'), type: 'hologram', text: undefined }] })] }];
    const { events } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events[0]!.detail).toMatchObject({ message: { type: 'unsupported', original_type: 'hologram' } });
  });

  it('routes an unknown field that names a phone_number_id to that number only', async () => {
    const entry = [{ id: '210000000000001', time: 5, changes: [{ field: 'calls', value: { metadata: { phone_number_id: '110000000000002' }, calls: [{ id: 'c1' }] } }] }];
    const { events } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => [e['detail-type'], e.detail.whatsapp_phno])).toEqual([[DETAIL_TYPES.numberUpdated, '15550001002']]);
  });

  it('pairs each message with its own sender among several contacts', async () => {
    const entry = [
      {
        id: '210000000000001',
        changes: [messagesChange('110000000000001', { contacts: [{ wa_id: '111', profile: { name: 'A' } }, { wa_id: '222', profile: { name: 'B' } }], messages: [text('wamid.1', '222'), text('wamid.2', '111')] })],
      },
    ];
    const { events } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => (e.detail as { contact?: { profile?: { name?: string } } }).contact?.profile?.name)).toEqual(['B', 'A']);
  });

  it('looks each distinct number up once, however many items name it', async () => {
    const routes = new InMemoryRoutes();
    const messages = Array.from({ length: 300 }, (_, i) => text(`wamid.${i}`));
    const entry = [{ id: '210000000000001', changes: [messagesChange('110000000000001', { messages: messages.slice(0, 150) }), messagesChange('110000000000001', { messages: messages.slice(150) })] }];
    const { events } = await ingestDelivery(entry, routes, RECEIVED_AT);
    expect(events).toHaveLength(300);
    expect(routes.lookups).toBe(1);
  });

  it('keeps the routes it was given, including the second-WABA number', async () => {
    const { events } = await ingest('location-message.json');
    expect(events[0]!.detail).toMatchObject({ whatsapp_phno: FIXTURE_ROUTES.secondWaba.whatsapp_phno, wabaId: '210000000000002' });
  });
});

describe('broadcastIdOf', () => {
  it.each([
    ['bc:brd_0001', 'brd_0001'],
    ['bc:brd_0001:recipient-7', 'brd_0001'],
    ['campaign-42', undefined],
    [undefined, undefined],
  ])('reads %s as %s', (input, expected) => {
    expect(broadcastIdOf(input)).toBe(expected);
  });
});
