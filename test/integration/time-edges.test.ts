/**
 * Time at its edges, on DynamoDB Local with an injected clock (the core reads
 * time only through its `Clock`), through the real handlers:
 *
 * - billing periods: contiguous, clamped to short months (fast-check); a
 *   chatbot session quota spent at 23:59:59 of a period's last day is whole
 *   again at 00:00:00 of the next (an anchor on the 31st: February's period
 *   starts on the 28th), and `GET /v1/account` shows each period's usage;
 * - the 24-hour service window: an agent's text 1 s before its end is sent,
 *   at its end and 1 s after it is refused 409 WINDOW_CLOSED with nothing
 *   sent (fast-check over offsets around the edge);
 * - the 72-hour free entry window of a click-to-WhatsApp ad: a template 1 s
 *   before its end costs nothing, at its end and after it the rate card's price;
 * - Meta timestamps skewed by minutes: messages are listed by Meta's time, the
 *   conversation's last message and window only move forward, a late older
 *   message changes neither.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { makeAutomationHandler } from '../../functions/automation/app.js';
import { createAutomationDeps } from '../../functions/automation/deps.js';
import { automationConfig } from '../../functions/commons/config.js';
import { createAutomation } from '../../functions/core/automations.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { FREE_ENTRY_WINDOW_MS, SERVICE_WINDOW_MS } from '../../functions/core/inbox-ports.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { billingPeriod } from '../../functions/core/plan.js';
import { makeInboxHandler } from '../../functions/inbox/app.js';
import { createInboxConsumerDeps } from '../../functions/inbox/deps.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { AUTOMATION_BODIES } from '../../schemas/automations.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import { agentFor } from '../support/access.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { FLAT_RATE_CARD, RecordingSender, approveTemplate } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, RecordingSender as InboxSender, sqsBatch, textEvent } from '../support/inbox.js';
import { PRICE, VirtualClock, limitWorld, setTier } from '../support/messaging-limit.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('time-edges');
});

const SECOND = 1_000;
const HOUR = 3_600_000;

let numberSeq = 0;
function freshNumber(): FixtureNumber {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;
  return { whatsapp_phno: `1559${n}`, phoneNumberId: `6${n}01`, wabaId: `5${n}01` };
}

/**
 * An inbound text as the webhook publishes it: Meta's `timestamp` (seconds) and our `receivedAt` apart, so
 * a skew between Meta's clock and ours can be made.
 */
function inbound(accountId: string, number: FixtureNumber, from: string, options: { metaAt: number; receivedAt: number; text?: string; isDefault?: boolean; referral?: boolean }) {
  const event = textEvent(accountId, { number, from, wamid: `wamid.TIME_${randomUUID()}`, timestamp: Math.floor(options.metaAt / SECOND), text: options.text ?? 'hi' });
  const detail = event.detail as Record<string, any>;
  detail.receivedAt = new Date(options.receivedAt).toISOString();
  detail.isDefaultNumber = options.isDefault ?? true;
  if (options.referral) detail.message.referral = { source_url: 'https://fb.me/ad', source_id: '120000000001', source_type: 'ad', headline: 'Sale', ctwa_clid: `clid-${randomUUID()}` };
  return { event, wamid: detail.eventId as string };
}

describe('billing periods', () => {
  it('contain their instant, follow one another without gap, and start on the anchor day clamped to the month (fast-check)', () => {
    const instant = fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2032-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(instant, instant, (anchor, now) => {
        const period = billingPeriod(anchor.toISOString(), now);
        const start = Date.parse(period.start);
        const end = Date.parse(period.end);
        expect(start).toBeLessThanOrEqual(now.getTime());
        expect(now.getTime()).toBeLessThan(end);
        expect(period.key).toBe(period.start.slice(0, 10));
        // The next period starts where this one ends; the last millisecond is still this one.
        expect(billingPeriod(anchor.toISOString(), new Date(end)).start).toBe(period.end);
        expect(billingPeriod(anchor.toISOString(), new Date(end - 1)).key).toBe(period.key);
        // At 00:00 UTC on the anchor's day, or the month's last day when the month is shorter.
        const s = new Date(start);
        const lastDay = new Date(Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 0)).getUTCDate();
        expect(s.getUTCDate()).toBe(Math.min(anchor.getUTCDate(), lastDay));
        expect(start % 86_400_000).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('an anchor on the 31st: February is Feb 28 (Feb 29 in a leap year) to Mar 31', () => {
    expect(billingPeriod('2026-01-31T12:00:00.000Z', new Date('2026-02-27T23:59:59.999Z'))).toEqual({ key: '2026-01-31', start: '2026-01-31T00:00:00.000Z', end: '2026-02-28T00:00:00.000Z' });
    expect(billingPeriod('2026-01-31T12:00:00.000Z', new Date('2026-02-28T00:00:00.000Z'))).toEqual({ key: '2026-02-28', start: '2026-02-28T00:00:00.000Z', end: '2026-03-31T00:00:00.000Z' });
    expect(billingPeriod('2028-01-31T12:00:00.000Z', new Date('2028-02-29T00:00:00.000Z')).key).toBe('2028-02-29');
    expect(billingPeriod('2028-01-31T12:00:00.000Z', new Date('2028-02-28T23:59:59.999Z')).key).toBe('2028-01-31');
  });

  it('a chatbot session quota spent at 23:59:59 of the period is whole again at 00:00:00 of the next', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-31T12:00:00.000Z'));
    const adapters = adaptersFor(table, clock);
    // Anchored now, Jan 31, with one chatbot session a period.
    const { accountId } = await newAccount(adapters, { chatbotSessions: 1 });
    const number = freshNumber();
    await connectNumber(adapters, accountId, { name: 'Main', ...number }, `connect-${number.whatsapp_phno}`);
    const meta = new InboxSender();
    const automation = makeAutomationHandler(createAutomationDeps(table.doc, table.tableName, { messaging: meta, clock, config: automationConfig({}) }));
    const inboxHandler = makeInboxHandler(createInboxConsumerDeps(table.doc, table.tableName, clock));
    const repo = new DynamoAutomationRepository(table.doc, table.tableName);
    const bot = await createAutomation({ ...adapters, automations: repo }, accountId, 'chatbots', AUTOMATION_BODIES.chatbots.parse({ name: 'Menu', steps: [{ id: 'start', text: 'Pick one', options: [{ title: 'Sales', next: 'sales' }] }, { id: 'sales', text: 'Sales!' }] }) as never);
    await createAutomation({ ...adapters, automations: repo }, accountId, 'keywords', AUTOMATION_BODIES.keywords.parse({ keywords: ['menu'], action: { type: 'startChatbot', chatbotId: bot.id } }) as never);
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: meta, clock }));
    const usageNow = async () => {
      const res = await call(api, { method: 'GET', path: '/v1/account', as: { role: 'admin', accountId } });
      expect(res.status).toBe(200);
      return { period: res.body.billingPeriod, sessions: res.body.usage.chatbotSessions };
    };
    const context = {} as Context;
    const menuFrom = async (from: string) => {
      const { event } = inbound(accountId, number, from, { metaAt: clock.now().getTime(), receivedAt: clock.now().getTime(), text: 'menu' });
      const batch: SQSEvent = sqsBatch([event as never]);
      expect((await inboxHandler(batch, context)).batchItemFailures).toEqual([]);
      expect((await automation(sqsBatch([event as never]), context)).batchItemFailures).toEqual([]);
      return meta.interactives.filter((s) => s.to === from).length;
    };

    clock.set(new Date('2026-02-27T23:59:59.000Z'));
    expect(await menuFrom('5511933330001')).toBe(1);
    clock.set(new Date('2026-02-27T23:59:59.999Z'));
    expect(await menuFrom('5511933330002')).toBe(0);
    expect(await usageNow()).toEqual({ period: { start: '2026-01-31T00:00:00.000Z', end: '2026-02-28T00:00:00.000Z' }, sessions: 1 });

    clock.set(new Date('2026-02-28T00:00:00.000Z'));
    // The new period starts from zero: shown, and taken.
    expect(await usageNow()).toEqual({ period: { start: '2026-02-28T00:00:00.000Z', end: '2026-03-31T00:00:00.000Z' }, sessions: 0 });
    expect(await menuFrom('5511933330003')).toBe(1);
    expect(await menuFrom('5511933330004')).toBe(0);
    expect((await usageNow()).sessions).toBe(1);
  });
});

describe('the 24-hour service window', () => {
  async function conversation() {
    const clock = new VirtualClock(Date.parse('2026-03-10T12:00:00.000Z'));
    const adapters = adaptersFor(table, clock);
    const { accountId } = await newAccount(adapters);
    const number = freshNumber();
    await connectNumber(adapters, accountId, { name: 'Main', ...number }, `connect-${number.whatsapp_phno}`);
    const messaging = new InboxSender();
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging, clock }));
    const send = (request: ApiRequest) => call(api, request);
    const agent = await agentFor(send, accountId);
    const inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
    const from = '5511944440001';
    const write = async (metaAt: number) => {
      const { event } = inbound(accountId, number, from, { metaAt, receivedAt: metaAt + 2 * SECOND });
      await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(event)));
    };
    const reply = (text: string) => send({ method: 'POST', path: `/v1/conversations/${conversationIdOf(number.whatsapp_phno, from)}/messages`, as: agent, body: { text } });
    return { clock, messaging, write, reply };
  }

  it('is open 1 s before its end, closed at its end and 1 s after (409 WINDOW_CLOSED, nothing sent); a new message reopens it', async () => {
    const { clock, messaging, write, reply } = await conversation();
    const wrote = clock.now().getTime();
    await write(wrote);
    const at = (offset: number) => clock.set(new Date(wrote + SERVICE_WINDOW_MS + offset));

    at(-SECOND);
    const open = await reply('23:59:59 after');
    expect(open.status).toBe(202);
    expect(messaging.texts.map((s) => s.text)).toEqual(['23:59:59 after']);

    for (const offset of [0, SECOND]) {
      at(offset);
      const closed = await reply(`${offset} ms past the end`);
      expect(closed.status).toBe(409);
      expect(closed.body.error.code).toBe('WINDOW_CLOSED');
    }
    expect(messaging.texts).toHaveLength(1);

    // She writes again a minute later: a new 24 hours.
    at(60 * SECOND);
    await write(clock.now().getTime());
    expect((await reply('welcome back')).status).toBe(202);
    expect(messaging.texts).toHaveLength(2);
  });

  it('answers by which side of the edge the clock is on, to the millisecond (fast-check)', async () => {
    const { clock, messaging, write, reply } = await conversation();
    const wrote = clock.now().getTime();
    await write(wrote);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -HOUR, max: HOUR }), async (offset) => {
        clock.set(new Date(wrote + SERVICE_WINDOW_MS + offset));
        const before = messaging.texts.length;
        const res = await reply(`at ${offset}`);
        expect(res.status, `${offset} ms from the end`).toBe(offset < 0 ? 202 : 409);
        expect(messaging.texts.length - before).toBe(offset < 0 ? 1 : 0);
      }),
      { numRuns: 40, examples: [[-1], [0], [1], [-SECOND], [SECOND]] },
    );
  });
});

describe('the 24-hour window for automatic replies', () => {
  it("answers a message Meta delivers late while its window is open, and never one whose 24 hours have passed", async () => {
    const clock = new VirtualClock(Date.parse('2026-03-20T08:00:00.000Z'));
    const adapters = adaptersFor(table, clock);
    const { accountId } = await newAccount(adapters);
    const number = freshNumber();
    await connectNumber(adapters, accountId, { name: 'Main', ...number }, `connect-${number.whatsapp_phno}`);
    const repo = new DynamoAutomationRepository(table.doc, table.tableName);
    await createAutomation({ ...adapters, automations: repo }, accountId, 'keywords', AUTOMATION_BODIES.keywords.parse({ keywords: ['hours'], match: 'contains', action: { type: 'reply', text: 'Open 9 to 18.' } }) as never);
    const meta = new InboxSender();
    const automation = makeAutomationHandler(createAutomationDeps(table.doc, table.tableName, { messaging: meta, clock, config: automationConfig({}) }));
    const inboxHandler = makeInboxHandler(createInboxConsumerDeps(table.doc, table.tableName, clock));
    const context = {} as Context;
    const now = clock.now().getTime();
    // Meta retries a delivery for days: these arrive now, written (Meta's time) just inside and just outside 24 hours ago.
    const cases = [
      { from: '5511977770001', wroteAgo: SERVICE_WINDOW_MS - SECOND, replied: 1 },
      { from: '5511977770002', wroteAgo: SERVICE_WINDOW_MS, replied: 0 },
      { from: '5511977770003', wroteAgo: SERVICE_WINDOW_MS + SECOND, replied: 0 },
    ];
    for (const { from, wroteAgo } of cases) {
      const { event } = inbound(accountId, number, from, { metaAt: now - wroteAgo, receivedAt: now, text: 'your hours?' });
      expect((await inboxHandler(sqsBatch([event as never]), context)).batchItemFailures).toEqual([]);
      expect((await automation(sqsBatch([event as never]), context)).batchItemFailures).toEqual([]);
    }
    expect(cases.map(({ from }) => meta.texts.filter((t) => t.to === from).length)).toEqual(cases.map((c) => c.replied));
  });
});

describe('the 72-hour free entry window (click-to-WhatsApp ad)', () => {
  it('a template 1 s before its end costs nothing; at its end and after it, the rate card price', async () => {
    const messaging = new RecordingSender();
    const world = limitWorld(table, { messaging, clock: new VirtualClock(Date.parse('2026-04-01T09:00:00.000Z')) });
    const { clock } = world;
    const adapters = adaptersFor(table, clock);
    const { accountId } = await newAccount(adapters, {}, 100 * PRICE);
    const number = freshNumber();
    await connectNumber(adapters, accountId, { name: 'Main', ...number }, `connect-${number.whatsapp_phno}`);
    await approveTemplate(world, accountId, number);
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_1K');
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging, rateCard: FLAT_RATE_CARD, clock }));
    const send = (request: ApiRequest) => call(api, request);
    const admin = { role: 'admin' as const, accountId };
    const material = await send({ method: 'POST', path: '/v1/automations/reply-material', as: admin, body: { name: 'promo', content: { type: 'template', name: 'promo', language: 'en_US' } } });
    expect(material.status).toBe(201);
    const inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
    const balance = () => adapters.accounts.balance(accountId);

    const clicks = ['5511955550001', '5511955550002', '5511955550003'];
    const clicked = clock.now().getTime();
    for (const from of clicks) {
      const { event } = inbound(accountId, number, from, { metaAt: clicked, receivedAt: clicked + SECOND, referral: true });
      await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(event)));
    }
    const listed = await send({ method: 'GET', path: '/v1/conversations', as: admin });
    expect(listed.body.items.map((c: { freeEntryUntil: string }) => c.freeEntryUntil)).toEqual(clicks.map(() => new Date(clicked + FREE_ENTRY_WINDOW_MS).toISOString()));

    const template = (from: string) => send({ method: 'POST', path: `/v1/conversations/${conversationIdOf(number.whatsapp_phno, from)}/messages`, as: admin, body: { replyMaterialId: material.body.id } });
    const costs: number[] = [];
    for (const [i, offset] of [-SECOND, 0, SECOND].entries()) {
      clock.set(new Date(clicked + FREE_ENTRY_WINDOW_MS + offset));
      const before = await balance();
      const res = await template(clicks[i]!);
      expect(res.status, `${offset} ms from the end`).toBe(202);
      costs.push(before - (await balance()));
    }
    expect(costs).toEqual([0, PRICE, PRICE]);
    expect(messaging.sends).toHaveLength(3);
  });
});

describe('Meta timestamps skewed by minutes', () => {
  it('lists by Meta\'s time, and a late older message moves neither the last message nor the window back', async () => {
    const clock = new VirtualClock(Date.parse('2026-05-05T15:00:00.000Z'));
    const adapters = adaptersFor(table, clock);
    const { accountId } = await newAccount(adapters);
    const number = freshNumber();
    await connectNumber(adapters, accountId, { name: 'Main', ...number }, `connect-${number.whatsapp_phno}`);
    const inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new InboxSender(), clock }));
    const admin = { role: 'admin' as const, accountId };
    const from = '5511966660001';
    const conversationId = conversationIdOf(number.whatsapp_phno, from);
    const now = clock.now().getTime();
    const deliver = async (text: string, metaAt: number, receivedAt: number) => {
      const { event, wamid } = inbound(accountId, number, from, { metaAt, receivedAt, text });
      await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(event)));
      return wamid;
    };
    // Meta's clock 5 minutes ahead of ours, then a message Meta stamped 3 minutes behind, received after it.
    const ahead = await deliver('ahead', now + 5 * 60 * SECOND, now);
    const behind = await deliver('behind', now - 3 * 60 * SECOND, now + 10 * SECOND);
    const onTime = await deliver('on time', now + 20 * SECOND, now + 20 * SECOND);

    const messages = await call(api, { method: 'GET', path: `/v1/conversations/${conversationId}/messages`, as: admin, query: { limit: '10' } });
    expect(messages.status).toBe(200);
    // Oldest first by Meta's time, whatever order they came in.
    expect(messages.body.items.map((m: { wamid: string }) => m.wamid)).toEqual([behind, onTime, ahead]);
    expect(messages.body.items.map((m: { timestamp: string }) => m.timestamp)).toEqual(
      [now - 3 * 60 * SECOND, now + 20 * SECOND, now + 5 * 60 * SECOND].map((t) => new Date(t).toISOString()),
    );

    const listed = (await call(api, { method: 'GET', path: '/v1/conversations', as: admin })).body.items.find((c: { conversationId: string }) => c.conversationId === conversationId);
    expect(listed).toMatchObject({
      lastMessagePreview: 'ahead',
      lastMessageAt: new Date(now + 5 * 60 * SECOND).toISOString(),
      windowOpenUntil: new Date(now + 5 * 60 * SECOND + SERVICE_WINDOW_MS).toISOString(),
      unreadCount: 3,
    });
  });
});
