/**
 * Click-to-WhatsApp attribution and catalog messages on DynamoDB Local
 * (docs/architecture.md, "CTWA and catalog"): a referral on the default
 * number sets the contact's `ctwa_*` attributes, the conversation's
 * `adReferral` and its 72-hour free entry window, only forward and only once
 * under redeliveries; on an additional number it stays in the message only.
 * Orders show their items; the catalog binding is the default number's, and
 * follows a default replacement; a broadcast prices a free-entry recipient 0.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoRouteReader } from '../../functions/adapters/dynamo/route-reader.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { ingestDelivery } from '../../functions/core/ingestion.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { systemClock } from '../../functions/commons/ids.js';
import type { Role } from '../../schemas/common.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { agentFor } from '../support/access.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import {
  RecordingPublisher,
  RecordingSender,
  approveTemplate,
  balanceOf,
  broadcastWorld,
  connectTestNumber,
  makeBroadcast,
  sendAllChunks,
} from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { PRICE as LIMIT_PRICE, limitWorld, limitedAccount, runAllChunks, setTier } from '../support/messaging-limit.js';
import { type FixtureNumber, NUMBERS, envelope, eventsFromPayload, fixtureText } from '../support/inbox.js';
import { DETAIL_TYPES } from '../../schemas/events.js';

let table: TestTable;
let repo: DynamoInboxRepository;
let api: ReturnType<typeof createApi>;
let accountSeq = 0;

beforeAll(async () => {
  table = await createTestTable('ctwa-catalog');
  repo = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
});

const newAccountId = () => `acc_ctwa${Date.now().toString(36)}${++accountSeq}`;
const send = (request: ApiRequest) => call(api, request);
const as = (role: Role, accountId: string) => ({ role, accountId });
const MARIA = '5511987650001';

type Envelope = ReturnType<typeof envelope>;

let wamidSeq = 0;
/** The fixtures' events under wamids of their own: the inbox dedupes per number and event id, across accounts. */
function fresh(events: Envelope[]): Envelope[] {
  return events.map((event) => {
    const detail = event.detail as Record<string, any>;
    const wamid = `${detail.message.id}.${process.pid}.${++wamidSeq}`;
    return { ...event, detail: { ...detail, eventId: wamid, message: { ...detail.message, id: wamid } } };
  });
}

/** Delivers bus events to the inbox consumer's core, as its queue would. */
async function deliver(...events: Envelope[]) {
  for (const event of events) await processInboxEvent({ inbox: repo }, parseInboxRecord(JSON.stringify(event)));
}

/** The fixture's referral message, changed where a test needs: another wamid, time, number or ad. */
function referralEvent(
  accountId: string,
  options: { wamid?: string; timestamp?: number; number?: FixtureNumber; isDefault?: boolean; referral?: Record<string, unknown>; from?: string } = {},
): Envelope {
  const [event] = eventsFromPayload(fixtureText('ctwa-referral.json'), accountId);
  const detail = event!.detail as Record<string, any>;
  const number = options.number ?? NUMBERS.default;
  const message = { ...detail.message, id: options.wamid ?? `${detail.message.id}.${process.pid}.${++wamidSeq}` };
  if (options.timestamp) message.timestamp = String(options.timestamp);
  if (options.referral) message.referral = options.referral;
  if (options.from) message.from = options.from;
  return envelope(DETAIL_TYPES.messageReceived, {
    ...detail,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefaultNumber: options.isDefault ?? number.phoneNumberId === NUMBERS.default.phoneNumberId,
    eventId: message.id,
    message,
    contact: { ...detail.contact, wa_id: options.from ?? detail.contact.wa_id },
  });
}

const ref = (accountId: string, whatsappPhno: string = NUMBERS.default.whatsapp_phno, contactKey = MARIA) => ({ accountId, whatsappPhno, contactKey });

async function messageItems(accountId: string, whatsappPhno: string, contactKey = MARIA) {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': entities.message.partition({ accountId, whatsappPhno, contactKey }) },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

const FIXTURE_AT = '2025-11-27T08:00:40.000Z';
const FIXTURE_FREE_UNTIL = '2025-11-30T08:00:40.000Z';

describe('a referral on the default number', () => {
  it('sets the contact attributes, the conversation adReferral and the 72-hour free entry window', async () => {
    const accountId = newAccountId();
    const wamid = `wamid.IN_REFERRAL_${accountId}`;
    await deliver(referralEvent(accountId, { wamid }));

    const contact = await repo.getContact(ref(accountId));
    expect(contact?.attributes).toEqual({
      whatsapp_phno: '15550001001',
      ctwa_source_id: '120200000000001',
      ctwa_source_type: 'ad',
      ctwa_source_url: 'https://fb.me/ad-example',
      ctwa_headline: 'Black Friday',
      ctwa_clid: expect.stringMatching(/^ARAk/),
      ctwa_at: FIXTURE_AT,
    });
    const conversation = await repo.getConversation(ref(accountId));
    expect(conversation).toMatchObject({
      adReferral: { sourceId: '120200000000001', sourceType: 'ad', headline: 'Black Friday', body: '30% off', mediaType: 'image', at: FIXTURE_AT, wamid },
      freeEntryUntil: FIXTURE_FREE_UNTIL,
      windowOpenUntil: '2025-11-28T08:00:40.000Z',
    });
  });

  it('shows them in the conversation and contact views', async () => {
    const { accountId } = await newAccount(adaptersFor(table));
    await deliver(referralEvent(accountId));
    const conversations = await send({ method: 'GET', path: '/v1/conversations', as: await agentFor(send, accountId) });
    expect(conversations.status).toBe(200);
    expect(conversations.body.items[0]).toMatchObject({
      conversationId: `15550001001_${MARIA}`,
      adReferral: { sourceId: '120200000000001', ctwaClid: expect.stringMatching(/^ARAk/) },
      freeEntryUntil: FIXTURE_FREE_UNTIL,
    });
    const contacts = await send({ method: 'GET', path: '/v1/contacts', as: await agentFor(send, accountId) });
    expect(contacts.body.items[0].attributes).toMatchObject({ ctwa_source_id: '120200000000001', ctwa_headline: 'Black Friday' });
  });

  it('changes nothing more when the same message is delivered again, five times at once', async () => {
    const accountId = newAccountId();
    const event = referralEvent(accountId);
    await deliver(event);
    const before = { contact: await repo.getContact(ref(accountId)), conversation: await repo.getConversation(ref(accountId)) };
    await Promise.all(Array.from({ length: 5 }, () => deliver({ ...event, id: `${event.id}-again` })));
    expect(await repo.getContact(ref(accountId))).toEqual(before.contact);
    expect(await repo.getConversation(ref(accountId))).toEqual(before.conversation);
    expect(before.conversation?.unreadCount).toBe(1);
    expect(await messageItems(accountId, '15550001001')).toHaveLength(1);
  });

  it('keeps the latest click when an older referral arrives after a newer one', async () => {
    const accountId = newAccountId();
    const newer = referralEvent(accountId, {
      wamid: `wamid.REF_NEWER_${accountId}`,
      timestamp: 1764240000,
      referral: { source_id: '120200000000009', source_type: 'post', source_url: 'https://fb.me/post', headline: 'Newer' },
    });
    await deliver(newer, referralEvent(accountId));
    const contact = await repo.getContact(ref(accountId));
    expect(contact?.attributes).toMatchObject({ ctwa_source_id: '120200000000009', ctwa_headline: 'Newer', ctwa_source_type: 'post' });
    // The newer click had no click id: the older one's must not show beside it.
    expect(contact?.attributes).not.toHaveProperty('ctwa_clid');
    const conversation = await repo.getConversation(ref(accountId));
    expect(conversation?.adReferral).toMatchObject({ sourceId: '120200000000009', wamid: `wamid.REF_NEWER_${accountId}`, ctwaClid: null });
    expect(conversation?.freeEntryUntil).toBe(new Date((1764240000 + 72 * 3600) * 1000).toISOString());
  });

  it('moves to a newer click, whatever order concurrent deliveries take', async () => {
    for (let round = 0; round < 3; round++) {
      const accountId = newAccountId();
      const clicks = [1764230440, 1764230500, 1764231000, 1764232000].map((timestamp, i) =>
        referralEvent(accountId, { wamid: `wamid.REF_${i}_${accountId}`, timestamp, referral: { source_id: `12020000000010${i}`, ctwa_clid: `clid-${i}` } }),
      );
      await Promise.all(clicks.sort(() => Math.random() - 0.5).map((click) => deliver(click)));
      const contact = await repo.getContact(ref(accountId));
      expect(contact?.attributes).toMatchObject({ ctwa_source_id: '120200000000103', ctwa_clid: 'clid-3', ctwa_at: new Date(1764232000 * 1000).toISOString() });
      const conversation = await repo.getConversation(ref(accountId));
      expect(conversation?.adReferral).toMatchObject({ sourceId: '120200000000103', wamid: `wamid.REF_3_${accountId}` });
      expect(conversation?.freeEntryUntil).toBe(new Date((1764232000 + 72 * 3600) * 1000).toISOString());
    }
  });

  it('leaves a message without a referral out of the attribution', async () => {
    const accountId = newAccountId();
    await deliver(...fresh(eventsFromPayload(fixtureText('text-message.json'), accountId)));
    const conversation = await repo.getConversation(ref(accountId));
    expect(conversation?.adReferral).toBeUndefined();
    expect(conversation?.freeEntryUntil).toBeUndefined();
    expect(Object.keys((await repo.getContact(ref(accountId)))!.attributes)).toEqual(['whatsapp_phno']);
  });
});

describe('a referral on an additional number', () => {
  it('stays in the stored message but attributes nothing', async () => {
    const accountId = newAccountId();
    await deliver(...fresh(eventsFromPayload(fixtureText('ctwa-referral-additional-number.json'), accountId)));
    const vendas = ref(accountId, NUMBERS.vendas.whatsapp_phno);
    expect((await repo.getContact(vendas))?.attributes).toEqual({ whatsapp_phno: '15550001002' });
    const conversation = await repo.getConversation(vendas);
    expect(conversation).toBeDefined();
    expect(conversation?.adReferral).toBeUndefined();
    expect(conversation?.freeEntryUntil).toBeUndefined();
    const [message] = await messageItems(accountId, NUMBERS.vendas.whatsapp_phno);
    expect(message?.content).toMatchObject({ referral: { source_id: '120200000000002', ctwa_clid: 'ARAkLkA8rmlFeiCktEJQ-second' } });
  });

  it('shows adReferral and freeEntryUntil null in the conversation view', async () => {
    const { accountId } = await newAccount(adaptersFor(table));
    await deliver(...fresh(eventsFromPayload(fixtureText('ctwa-referral-additional-number.json'), accountId)));
    const res = await send({ method: 'GET', path: '/v1/conversations', as: await agentFor(send, accountId), query: { whatsapp_phno: '15550001002' } });
    expect(res.body.items[0]).toMatchObject({ adReferral: null, freeEntryUntil: null });
  });
});

describe('order messages in the message view', () => {
  const orderOn = (accountId: string, number: FixtureNumber) => {
    const payload = fixtureText('order-message.json')
      .replace('"15550001001"', `"${number.whatsapp_phno}"`)
      .replace('"110000000000001"', `"${number.phoneNumberId}"`);
    return fresh(eventsFromPayload(payload, accountId));
  };

  it.each([
    ['the default number', NUMBERS.default],
    ['an additional number', NUMBERS.vendas],
  ])('shows the items of an order on %s', async (_kind, number) => {
    const { accountId } = await newAccount(adaptersFor(table));
    await deliver(...orderOn(accountId, number));
    const res = await send({ method: 'GET', path: `/v1/conversations/${number.whatsapp_phno}_16505550002/messages`, as: await agentFor(send, accountId) });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        type: 'order',
        text: 'please deliver tomorrow',
        order: {
          catalogId: '900000000000001',
          text: 'please deliver tomorrow',
          items: [{ productRetailerId: 'sku-42', quantity: 2, itemPriceMicros: 19_900_000, currency: 'USD' }],
          totals: [{ currency: 'USD', amountMicros: 39_800_000 }],
        },
      }),
    ]);
  });

  it('names the product a message asks about', async () => {
    const { accountId } = await newAccount(adaptersFor(table));
    const [event] = fresh(eventsFromPayload(fixtureText('text-message.json'), accountId));
    const detail = event!.detail as Record<string, any>;
    detail.message = { ...detail.message, context: { from: '15550001001', id: 'wamid.PRODUCT_MSG', referred_product: { catalog_id: '900000000000001', product_retailer_id: 'sku-7' } } };
    await deliver(event!);
    const res = await send({ method: 'GET', path: `/v1/conversations/15550001001_${MARIA}/messages`, as: await agentFor(send, accountId) });
    expect(res.body.items[0]).toMatchObject({ type: 'text', product: { catalogId: '900000000000001', productRetailerId: 'sku-7' } });
    expect(res.body.items[0]).not.toHaveProperty('order');
  });
});

// ---------------------------------------------------------------- numbers

let phnoSeq = 0;
/** A number unique in this table (numbers are claimed platform-wide). */
function uniqueNumber() {
  const n = ++phnoSeq;
  const digits = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(n).padStart(3, '0')}`;
  return { displayPhoneNumber: `1555${digits}`.slice(0, 13), phoneNumberId: `7${digits}00`, wabaId: `6${digits}00` };
}

async function accountWithTwoNumbers() {
  const created = await send({
    method: 'POST',
    path: '/v1/admin/accounts',
    as: { role: 'support' },
    body: { name: 'Shop', plan: { users: 2, teams: 1, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 1_000_000 },
  });
  const accountId = created.body.accountId as string;
  await send({ method: 'POST', path: '/v1/addons', as: as('owner', accountId), body: { type: 'number', quantity: 1 } });
  const connect = async (name: string) => {
    const number = { name, ...uniqueNumber() };
    const res = await send({ method: 'POST', path: '/v1/numbers', as: as('admin', accountId), body: number });
    expect(res.status).toBe(201);
    return { ...number, whatsapp_phno: res.body.whatsapp_phno as string };
  };
  const main = await connect('Main');
  const extra = await connect('Extra');
  return { accountId, main, extra };
}

const catalogOf = (accountId: string, phno: string) => send({ method: 'GET', path: `/v1/numbers/${phno}/catalog`, as: as('agent', accountId) });
const bindCatalog = (accountId: string, phno: string, catalogId: string) =>
  send({ method: 'PUT', path: `/v1/numbers/${phno}/catalog`, as: as('admin', accountId), body: { catalogId } });

describe('the catalog binding', () => {
  it('is read and bound on the default number', async () => {
    const { accountId, main } = await accountWithTwoNumbers();
    expect((await catalogOf(accountId, main.whatsapp_phno)).body).toEqual({ whatsapp_phno: main.whatsapp_phno, catalogId: null });
    expect((await bindCatalog(accountId, main.whatsapp_phno, '900000000000001')).status).toBe(200);
    expect((await catalogOf(accountId, main.whatsapp_phno)).body).toEqual({ whatsapp_phno: main.whatsapp_phno, catalogId: '900000000000001' });
  });

  it('answers 403 FEATURE_UNAVAILABLE on an additional number, read or bound', async () => {
    const { accountId, extra } = await accountWithTwoNumbers();
    for (const res of [await catalogOf(accountId, extra.whatsapp_phno), await bindCatalog(accountId, extra.whatsapp_phno, '900000000000001')]) {
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'catalog', whatsapp_phno: extra.whatsapp_phno });
    }
  });

  it('does not pass to a new default: the replaced one is gone, the new one starts unbound and can bind', async () => {
    const { accountId, main, extra } = await accountWithTwoNumbers();
    await bindCatalog(accountId, main.whatsapp_phno, '900000000000001');
    const next = { name: 'New main', ...uniqueNumber() };
    const replaced = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('owner', accountId), body: next });
    expect(replaced.status).toBe(200);
    const phno = replaced.body.whatsapp_phno as string;
    expect(replaced.body.features).toMatchObject({ catalog: true, ctwa: true });
    expect((await catalogOf(accountId, phno)).body).toEqual({ whatsapp_phno: phno, catalogId: null });
    expect((await catalogOf(accountId, main.whatsapp_phno)).status).toBe(404);
    expect((await catalogOf(accountId, extra.whatsapp_phno)).status).toBe(403);
    expect((await bindCatalog(accountId, phno, '900000000000002')).status).toBe(200);
    expect((await catalogOf(accountId, phno)).body.catalogId).toBe('900000000000002');
  });
});

describe('the catalog binding in a merge', () => {
  it('is dropped from a default that becomes an additional number of the target', async () => {
    const source = await accountWithTwoNumbers();
    await bindCatalog(source.accountId, source.main.whatsapp_phno, '900000000000001');
    const target = await accountWithTwoNumbers();
    await send({ method: 'POST', path: '/v1/addons', as: as('owner', target.accountId), body: { type: 'number', quantity: 2 } });
    const merged = await send({ method: 'POST', path: `/v1/admin/accounts/${target.accountId}/merge`, as: { role: 'support' }, body: { sourceAccountId: source.accountId } });
    expect(merged.status).toBe(200);
    const moved = await catalogOf(target.accountId, source.main.whatsapp_phno);
    expect(moved.status).toBe(403);
    expect(moved.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'catalog' });
    const numbers = await send({ method: 'GET', path: '/v1/numbers', as: as('agent', target.accountId) });
    const movedView = numbers.body.items.find((n: { whatsapp_phno: string }) => n.whatsapp_phno === source.main.whatsapp_phno);
    expect(movedView).toMatchObject({ isDefault: false, features: { catalog: false, ctwa: false } });
    const { Item } = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: entities.number.key({ accountId: target.accountId, whatsappPhno: source.main.whatsapp_phno }), ConsistentRead: true }),
    );
    expect(Item).toBeDefined();
    expect(Item).not.toHaveProperty('catalogId');
  });
});

describe('attribution after a default replacement', () => {
  it('follows the new default: its referrals are attributed, the old default\'s events stop, the additional number stays unattributed', async () => {
    const { accountId, main, extra } = await accountWithTwoNumbers();
    const next = { name: 'New main', ...uniqueNumber() };
    const replaced = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('owner', accountId), body: next });
    const newDefault = { whatsapp_phno: replaced.body.whatsapp_phno as string, phoneNumberId: next.phoneNumberId, wabaId: next.wabaId };
    const routes = new DynamoRouteReader(table.doc, table.tableName);

    /** The fixture referral as Meta would deliver it to one of these numbers, through the webhook's real routes. */
    const ingest = async (number: { whatsapp_phno: string; phoneNumberId: string; wabaId: string }, wamid: string) => {
      const payload = JSON.parse(fixtureText('ctwa-referral.json'));
      payload.entry[0].id = number.wabaId;
      payload.entry[0].changes[0].value.metadata = { display_phone_number: number.whatsapp_phno, phone_number_id: number.phoneNumberId };
      payload.entry[0].changes[0].value.messages[0].id = `${wamid}_${accountId}`;
      return ingestDelivery(payload.entry, routes, new Date().toISOString());
    };

    const onNew = await ingest(newDefault, 'wamid.NEW_DEFAULT_REF');
    expect(onNew.events.map((e) => e.detail.isDefaultNumber)).toEqual([true]);
    const onExtra = await ingest({ whatsapp_phno: extra.whatsapp_phno, phoneNumberId: extra.phoneNumberId, wabaId: extra.wabaId }, 'wamid.EXTRA_REF');
    expect(onExtra.events.map((e) => e.detail.isDefaultNumber)).toEqual([false]);
    const onOld = await ingest({ whatsapp_phno: main.whatsapp_phno, phoneNumberId: main.phoneNumberId, wabaId: main.wabaId }, 'wamid.OLD_DEFAULT_REF');
    expect(onOld.events).toEqual([]);

    await deliver(...([...onNew.events, ...onExtra.events] as unknown as Envelope[]));
    const attributes = (phno: string) => repo.getContact(ref(accountId, phno)).then((c) => c?.attributes);
    expect(await attributes(newDefault.whatsapp_phno)).toMatchObject({ ctwa_source_id: '120200000000001', ctwa_headline: 'Black Friday' });
    expect((await repo.getConversation(ref(accountId, newDefault.whatsapp_phno)))?.freeEntryUntil).toBe(FIXTURE_FREE_UNTIL);
    expect(await attributes(extra.whatsapp_phno)).toEqual({ whatsapp_phno: extra.whatsapp_phno });
    expect((await repo.getConversation(ref(accountId, extra.whatsapp_phno)))?.adReferral).toBeUndefined();
  });
});

// -------------------------------------------------------------- broadcasts

describe('a broadcast to a recipient inside the free entry window', () => {
  const PRICE = 1_000; // FLAT_RATE_CARD's marketing price

  /** A user who clicked an ad on `number` just now: the inbox opens their free entry window there. */
  async function clickedAd(accountId: string, number: { whatsapp_phno: string; phoneNumberId: string; wabaId: string }, waId: string, isDefault: boolean) {
    await deliver(referralEvent(accountId, { number, from: waId, wamid: `wamid.CLICK_${waId}_${number.whatsapp_phno}_${accountId}`, timestamp: Math.floor(Date.now() / 1000), isDefault }));
  }

  it('charges 0 for that recipient and the rate card for the others', async () => {
    const world = broadcastWorld(table);
    const { accountId } = await newAccount(world.deps, {}, 100 * PRICE);
    const number = await connectTestNumber(world, accountId);
    await approveTemplate(world, accountId, number);
    const to = ['12020000001', '12020000002', '12020000003'];
    await clickedAd(accountId, number, to[0]!, true);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await sendAllChunks(world, accountId, broadcastId);

    expect(world.messaging.sends.map((s) => s.to).sort()).toEqual(to);
    const states = await world.api.broadcasts.recipientStates(broadcastId, to);
    expect(to.map((waId) => states.get(waId)?.priceMicros)).toEqual([0, PRICE, PRICE]);
    expect(await balanceOf(world, accountId)).toBe(98 * PRICE);
  });

  it('sends a free recipient even when the pool pays for nobody else', async () => {
    const world = broadcastWorld(table);
    const { accountId } = await newAccount(world.deps, {}, PRICE);
    const number = await connectTestNumber(world, accountId);
    await approveTemplate(world, accountId, number);
    const to = ['12030000001', '12030000002', '12030000003'];
    await clickedAd(accountId, number, to[2]!, true);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await sendAllChunks(world, accountId, broadcastId);

    const states = await world.api.broadcasts.recipientStates(broadcastId, to);
    expect(to.map((waId) => states.get(waId)?.status)).toEqual(['sent', 'failed', 'sent']);
    expect(states.get(to[1]!)?.reason).toBe('insufficient_credits');
    expect(states.get(to[2]!)?.priceMicros).toBe(0);
    expect(await balanceOf(world, accountId)).toBe(0);
  });

  it('charges a recipient whose free entry window is with another number, or who clicked on an additional number', async () => {
    const world = broadcastWorld(table);
    const { accountId } = await newAccount(world.deps, {}, 100 * PRICE);
    const main = await connectTestNumber(world, accountId);
    const extra = await connectTestNumber(world, accountId);
    await approveTemplate(world, accountId, extra);
    const to = ['12040000001', '12040000002'];
    await clickedAd(accountId, main, to[0]!, true); // free with the default, not with the sending number
    await clickedAd(accountId, extra, to[1]!, false); // an additional number opens no free entry window
    expect((await repo.getConversation(ref(accountId, extra.whatsapp_phno, to[1]!)))?.freeEntryUntil).toBeUndefined();
    const { broadcastId } = await makeBroadcast(world, accountId, extra.whatsapp_phno, to);
    await sendAllChunks(world, accountId, broadcastId);

    const states = await world.api.broadcasts.recipientStates(broadcastId, to);
    expect(to.map((waId) => states.get(waId)?.priceMicros)).toEqual([PRICE, PRICE]);
    expect(await balanceOf(world, accountId)).toBe(98 * PRICE);
  });
});

describe('a free-entry recipient under a known messaging-limit tier', () => {
  it('is priced 0 by every one of three racing runs of the chunk, the others charged once', async () => {
    const world = limitWorld(table);
    const { accountId, numbers } = await limitedAccount(world, 1, 100 * LIMIT_PRICE);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const to = ['12050000001', '12050000002', '12050000003'];
    await deliver(referralEvent(accountId, { number, from: to[1]!, wamid: `wamid.CLICK_${accountId}`, timestamp: Math.floor(Date.now() / 1000), isDefault: true }));
    const broadcast = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await runAllChunks(world, accountId, [broadcast], 3);

    expect(world.messaging.sends.map((s) => s.to).sort()).toEqual(to);
    const states = await world.api.broadcasts.recipientStates(broadcast.broadcastId, to);
    expect(to.map((waId) => states.get(waId)?.priceMicros)).toEqual([LIMIT_PRICE, 0, LIMIT_PRICE]);
    expect(await balanceOf(world, accountId)).toBe(98 * LIMIT_PRICE);
  });
});

describe('the stored referral', () => {
  it('is kept as Meta sent it in the message content on the default number too', async () => {
    const accountId = newAccountId();
    const wamid = `wamid.IN_REFERRAL_${accountId}`;
    await deliver(referralEvent(accountId, { wamid }));
    const { Item } = await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: entities.message.key({ accountId, whatsappPhno: '15550001001', contactKey: MARIA, timestamp: FIXTURE_AT, wamid }),
        ConsistentRead: true,
      }),
    );
    expect(Item?.content).toMatchObject({ referral: { source_id: '120200000000001', image_url: 'https://example.invalid/ad.jpg' } });
  });
});
