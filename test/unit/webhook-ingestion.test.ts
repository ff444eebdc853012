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
    const names = [
      'text-message.json',
      'status-sent.json',
      'template-status-update.json',
      'phone-number-quality-update.json',
      'unsupported-message.json',
      'smb-message-echo.json',
      'history-threads.json',
      'user-preferences.json',
      'group-message.json',
      'group-status.json',
      'message-edit.json',
      'message-revoke.json',
      'call-permission-reply.json',
    ];
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
        changes: [
          messagesChange('110000000000001', {
            contacts: [{ wa_id: '16505550111', profile: { name: 'A' } }, { wa_id: '16505550222', profile: { name: 'B' } }],
            messages: [text('wamid.1', '16505550222'), text('wamid.2', '16505550111')],
          }),
        ],
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

const detailOf = (event: { detail: unknown }) => event.detail as Record<string, unknown>;
const wabaChange = (field: string, value: Record<string, unknown>, waba = '210000000000001') => [{ id: waba, time: 1764231000, changes: [{ field, value: { messaging_product: 'whatsapp', ...value } }] }];

describe('ingestDelivery: Business app echoes and history (Message Recorded)', () => {
  it('makes an echo an outbound Message Recorded of the business app, to the user it was sent to', async () => {
    const { events, invalid } = await ingest('smb-message-echo.json');
    expect(invalid).toEqual([]);
    expect(events.map((e) => e['detail-type'])).toEqual([DETAIL_TYPES.messageRecorded]);
    expect(events[0]!.detail).toMatchObject({
      whatsapp_phno: '15550001001',
      eventId: 'rec:wamid.ECHO_0001',
      occurredAt: '2025-11-27T08:10:00.000Z',
      source: 'business_app',
      direction: 'out',
      contact: { waId: '5511987650001' },
      message: { id: 'wamid.ECHO_0001', from: '15550001001', to: '5511987650001', type: 'text' },
    });
  });

  it('makes one Message Recorded per history message, in order, in when the user wrote it and out when the business did', async () => {
    const { events } = await ingest('history-threads.json');
    expect(events.map((e) => [e['detail-type'], detailOf(e).eventId, detailOf(e).direction, detailOf(e).threadId, detailOf(e).contact])).toEqual([
      [DETAIL_TYPES.messageRecorded, 'rec:wamid.HIST_0001', 'out', '5511987650002', { waId: '5511987650002' }],
      [DETAIL_TYPES.messageRecorded, 'rec:wamid.HIST_0002', 'in', '5511987650002', { waId: '5511987650002' }],
      [DETAIL_TYPES.messageRecorded, 'rec:wamid.HIST_0003', 'out', '5511987650002', { waId: '5511987650002' }],
      [DETAIL_TYPES.messageRecorded, 'rec:wamid.HIST_0004', 'out', '5511987650003', { waId: '5511987650003' }],
    ]);
    expect(events.every((e) => detailOf(e).source === 'history')).toBe(true);
  });

  it('gives a redelivered echo or history the same ids (rec:{wamid})', async () => {
    for (const name of ['smb-message-echo.json', 'history-threads.json']) {
      const ids = async () => (await ingest(name)).events.map((e) => e.detail.eventId);
      expect(await ids()).toEqual(await ids());
    }
  });

  it('never makes them Number Updated, while another unmodelled field still is', async () => {
    const fields = ['smb-message-echo.json', 'history-threads.json', 'user-preferences.json'];
    for (const name of fields) expect((await ingest(name)).events.some((e) => e['detail-type'] === DETAIL_TYPES.numberUpdated)).toBe(false);
  });

  it('routes a WABA-level echo (no metadata) to the WABA number it came from, and reports an unknown one', async () => {
    const echo = (id: string, from: string) => ({ from, to: '5511987650001', id, timestamp: '1764231000', type: 'text', text: { body: id } });
    const entry = wabaChange('smb_message_echoes', { message_echoes: [echo('wamid.E1', '15550001002'), echo('wamid.E2', '15550009999')] });
    const { events, unrouted } = await ingestDelivery(entry, new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => [e.detail.eventId, e.detail.whatsapp_phno])).toEqual([['rec:wamid.E1', '15550001002']]);
    expect(unrouted).toMatchObject([{ field: 'smb_message_echoes', eventId: 'rec:wamid.E2', where: 'entry[0].changes[0].value.message_echoes[1]' }]);
  });

  it('routes a WABA-level history thread by the business number that wrote in it', async () => {
    const thread = { id: '5511987650002', messages: [{ from: '5511987650002', id: 'wamid.H1', timestamp: '1', type: 'text', text: { body: 'a' } }, { from: '15550001002', id: 'wamid.H2', timestamp: '2', type: 'text', text: { body: 'b' } }] };
    const { events } = await ingestDelivery(wabaChange('history', { history: [{ threads: [thread] }] }), new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => [e.detail.eventId, e.detail.whatsapp_phno, detailOf(e).direction])).toEqual([
      ['rec:wamid.H1', '15550001002', 'in'],
      ['rec:wamid.H2', '15550001002', 'out'],
    ]);
  });

  it('reports a history chunk the user declined to share as change errors, and a bad thread or message as invalid', async () => {
    const value = {
      metadata: { display_phone_number: '15550001001', phone_number_id: '110000000000001' },
      history: [
        { errors: [{ code: 2593109, title: 'History sync is turned off by the business user' }] },
        { threads: [{ messages: [] }, { id: '5511987650002', messages: [{ type: 'text' }, { from: '5511987650002', id: 'wamid.H9', timestamp: '9', type: 'text', text: { body: 'ok' } }] }] },
      ],
    };
    const { events, invalid, changeErrors } = await ingestDelivery(wabaChange('history', value), new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.eventId)).toEqual(['rec:wamid.H9']);
    expect(changeErrors).toMatchObject([{ where: 'entry[0].changes[0].value.history[0]', phoneNumberId: '110000000000001', errors: [{ code: 2593109 }] }]);
    expect(invalid.map((i) => i.where)).toEqual(['entry[0].changes[0].value.history[1].threads[0]', 'entry[0].changes[0].value.history[1].threads[1].messages[0]']);
  });

  it('reports an echo that names no recipient as invalid', async () => {
    const value = { metadata: { phone_number_id: '110000000000001' }, message_echoes: [{ from: '15550001001', id: 'wamid.E3', timestamp: '1', type: 'text', text: { body: 'x' } }] };
    const { events, invalid } = await ingestDelivery(wabaChange('smb_message_echoes', value), new InMemoryRoutes(), RECEIVED_AT);
    expect(events).toEqual([]);
    expect(invalid).toMatchObject([{ where: 'entry[0].changes[0].value.message_echoes[0]', field: 'smb_message_echoes' }]);
  });
});

describe('ingestDelivery: user preferences', () => {
  it('makes one User Preferences Updated per item, with a content-derived id, the matching contact adding its BSUID', async () => {
    const { events } = await ingest('user-preferences.json');
    expect(events.map((e) => [e['detail-type'], e.detail.whatsapp_phno, e.detail.eventId])).toEqual([
      [DETAIL_TYPES.userPreferencesUpdated, '15550001002', 'pref:5511987650001:marketing_messages:stop:1764231600'],
      [DETAIL_TYPES.userPreferencesUpdated, '15550001002', 'pref:5511987650002:marketing_messages:resume:1764231660'],
    ]);
    expect(events[0]!.detail).toMatchObject({ contact: { waId: '5511987650001', userId: 'BR.1502576394655843' }, category: 'marketing_messages', value: 'stop', at: '2025-11-27T08:20:00.000Z', detail: 'User requested to stop marketing messages' });
    // The contacts entry names Maria, not this user: it adds nothing.
    expect(events[1]!.detail).toMatchObject({ contact: { waId: '5511987650002' } });
    expect(detailOf(events[1]!).contact).not.toHaveProperty('userId');
  });

  it('sends a WABA-level preference to every number of the WABA, with the entry time when the item has none', async () => {
    const { events } = await ingestDelivery(wabaChange('user_preferences', { user_preferences: [{ user_id: 'BR.1502576394655843', category: 'marketing_messages', value: 'stop' }] }), new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => [e.detail.whatsapp_phno, e.detail.eventId, detailOf(e).at])).toEqual([
      ['15550001001', 'pref:BR.1502576394655843:marketing_messages:stop:1764231000', '2025-11-27T08:10:00.000Z'],
      ['15550001002', 'pref:BR.1502576394655843:marketing_messages:stop:1764231000', '2025-11-27T08:10:00.000Z'],
    ]);
  });

  it('reports an item naming no user as invalid and keeps the others', async () => {
    const items = [{ category: 'marketing_messages', value: 'stop' }, { wa_id: 'nobody', category: 'marketing_messages', value: 'stop' }, { wa_id: '5511987650001', category: 'marketing_messages', value: 'resume', timestamp: '5' }];
    const { events, invalid } = await ingestDelivery(wabaChange('user_preferences', { metadata: { phone_number_id: '110000000000001' }, user_preferences: items }), new InMemoryRoutes(), RECEIVED_AT);
    expect(events.map((e) => e.detail.eventId)).toEqual(['pref:5511987650001:marketing_messages:resume:5']);
    expect(invalid.map((i) => i.where)).toEqual(['entry[0].changes[0].value.user_preferences[0]', 'entry[0].changes[0].value.user_preferences[1]']);
  });

  it('reports a preference of a WABA no account connected as unrouted', async () => {
    const { events, unrouted } = await ingestDelivery(wabaChange('user_preferences', { user_preferences: [{ wa_id: '5511987650001', category: 'marketing_messages', value: 'stop', timestamp: 7 }] }, '299999999999999'), new InMemoryRoutes(), RECEIVED_AT);
    expect(events).toEqual([]);
    expect(unrouted).toMatchObject([{ field: 'user_preferences', eventId: 'pref:5511987650001:marketing_messages:stop:7' }]);
  });
});

describe('ingestDelivery: who sent a message (contact identity)', () => {
  const contact = (wa_id: string, name: string, extra: Record<string, unknown> = {}) => ({ wa_id, profile: { name }, ...extra });
  const deliver = async (value: Record<string, unknown>) => ingestDelivery([{ id: '210000000000001', changes: [messagesChange('110000000000001', value)] }], new InMemoryRoutes(), RECEIVED_AT);

  it('publishes a message whose single contacts entry names someone else with no contact, never that entry', async () => {
    const { events, invalid } = await ingest('contact-mismatch.json');
    expect(invalid).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ message: { from: '5511987650005' } });
    expect(events[0]!.detail).not.toHaveProperty('contact');
  });

  it('ignores a placeholder contacts entry', async () => {
    const { events } = await deliver({ contacts: [{ wa_id: '<USER_PHONE_NUMBER>', profile: { name: '<NAME>' } }], messages: [text('wamid.P1', '5511987650005')] });
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).not.toHaveProperty('contact');
  });

  it('keeps a username-only sender: from_user_id with its entry, or the only entry when the message names nobody', async () => {
    const byBsuid = { id: 'wamid.U1', from_user_id: 'US.13491208655302741918', timestamp: '1', type: 'text', text: { body: 'a' } };
    const unnamed = { id: 'wamid.U2', timestamp: '2', type: 'text', text: { body: 'b' } };
    const entry = { user_id: 'US.13491208655302741918', profile: { name: 'Pablo' } };
    const { events } = await deliver({ contacts: [entry], messages: [byBsuid, unnamed] });
    expect(events.map((e) => [e.detail.eventId, detailOf(e).contact])).toEqual([
      ['wamid.U1', entry],
      ['wamid.U2', entry],
    ]);
  });

  it('reports a message nothing usable names the sender of as invalid (counted, never dead-lettered) and keeps the rest', async () => {
    const { events, invalid } = await deliver({ contacts: [{ wa_id: 'WHATSAPP_ID', user_id: 'BSUID_123' }], messages: [text('wamid.X1', 'PHONE_NUMBER'), text('wamid.X2', '5511987650005')] });
    expect(events.map((e) => e.detail.eventId)).toEqual(['wamid.X2']);
    expect(invalid).toMatchObject([{ where: 'entry[0].changes[0].value.messages[0]', field: 'messages', issues: [expect.stringMatching(/^from: names no usable sender/)] }]);
  });

  it('pairs by canonical number (a legacy Brazilian wa_id names the same user)', async () => {
    const { events } = await deliver({ contacts: [contact('551187650001', 'Maria')], messages: [text('wamid.C1', '5511987650001')] });
    expect(events[0]!.detail).toMatchObject({ contact: { wa_id: '551187650001', profile: { name: 'Maria' } } });
  });
});

describe('ingestDelivery: groups, edits, revokes, call permission replies', () => {
  it('keeps a group message a Message Received of its member, with group_id', async () => {
    const { events } = await ingest('group-message.json');
    expect(events.map((e) => e['detail-type'])).toEqual([DETAIL_TYPES.messageReceived]);
    expect(events[0]!.detail).toMatchObject({ message: { from: '5511987650004', group_id: 'Y2FwaV9ncm91cDoxNTU1MDAwMTAwMToxMjAzNjMwMDAwMDAwMDE' }, contact: { wa_id: '5511987650004' } });
  });

  it('keeps a group status\'s recipient_id raw with its recipient_type', async () => {
    const { events } = await ingest('group-status.json');
    expect(events[0]!.detail).toMatchObject({
      eventId: 'wamid.OUT_GROUP_0001:read',
      status: { recipient_id: 'Y2FwaV9ncm91cDoxNTU1MDAwMTAwMToxMjAzNjMwMDAwMDAwMDE', recipient_type: 'group', recipient_participant_id: '5511987650004' },
    });
  });

  it('keeps edits and revokes their own types, with the original message named', async () => {
    const [edit] = (await ingest('message-edit.json')).events;
    const [revoke] = (await ingest('message-revoke.json')).events;
    expect(edit!.detail).toMatchObject({ message: { type: 'edit', edit: { original_message_id: 'wamid.IN_TEXT_0001', message: { type: 'text', text: { body: expect.any(String) } } } } });
    expect(revoke!.detail).toMatchObject({ message: { type: 'revoke', revoke: { original_message_id: 'wamid.IN_TEXT_0001' } } });
  });

  it('degrades an edit or revoke without its original id to unsupported, as any malformed body', async () => {
    const { events } = await ingestDelivery([{ id: '210000000000001', changes: [messagesChange('110000000000001', { messages: [{ ...text('wamid.R1'), type: 'revoke', text: undefined, revoke: {} }] })] }], new InMemoryRoutes(), RECEIVED_AT);
    expect(events[0]!.detail).toMatchObject({ message: { type: 'unsupported', original_type: 'revoke' } });
  });

  it('passes a call permission reply\'s answer through', async () => {
    const { events } = await ingest('call-permission-reply.json');
    expect(events[0]!.detail).toMatchObject({ message: { type: 'interactive', interactive: { type: 'call_permission_reply', call_permission_reply: { response: 'accept' } } } });
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
