/**
 * The automation consumer on DynamoDB Local, through its Lambda handler with
 * SQS batches, beside the inbox consumer as the bus runs them (both rules get
 * every message, at the same time): the "Must hold" list with real
 * races. Only Meta is faked (a recording `MessageSender`); faults are
 * injected by wrapping the document client.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { DynamoAutomationState } from '../../functions/adapters/dynamo/automation-state.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { makeAutomationHandler } from '../../functions/automation/app.js';
import { createAutomationDeps } from '../../functions/automation/deps.js';
import { automationConfig } from '../../functions/commons/config.js';
import { addTeam, purchaseAddon } from '../../functions/core/accounts.js';
import { optionReplyId } from '../../functions/core/automation-engine.js';
import { createAutomation } from '../../functions/core/automations.js';
import { WhatsAppUnavailable } from '../../functions/core/errors.js';
import type { ConversationRef } from '../../functions/core/inbox-ports.js';
import type { MessageSender, SendInteractiveRequest, SendMediaRequest, SendTemplateRequest, SendTextRequest, SentMessage } from '../../functions/core/messaging.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { billingPeriod } from '../../functions/core/plan.js';
import type { Clock } from '../../functions/core/ports.js';
import { replyTo } from '../../functions/core/replies.js';
import { makeInboxHandler } from '../../functions/inbox/app.js';
import { createInboxConsumerDeps } from '../../functions/inbox/deps.js';
import { AUTOMATION_BODIES, type AutomationKind } from '../../schemas/automations.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { envelope, sqsBatch, statusEvent, textEvent } from '../support/inbox.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('automation-consumer');
});

// ------------------------------------------------------------------ doubles

type Sent =
  | ({ kind: 'text'; wamid: string } & SendTextRequest)
  | ({ kind: 'interactive'; wamid: string } & SendInteractiveRequest)
  | ({ kind: 'media'; wamid: string } & SendMediaRequest)
  | ({ kind: 'template'; wamid: string } & SendTemplateRequest);

/** Meta, faked: every send recorded in order; `failNext` makes the next sends throw. */
class RecordingMeta implements MessageSender {
  readonly sent: Sent[] = [];
  failNext: Error[] = [];

  private async record<T extends Sent['kind']>(kind: T, request: object): Promise<SentMessage> {
    // Yield like a network call, so concurrent runs interleave.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const failure = this.failNext.shift();
    if (failure) throw failure;
    const wamid = `wamid.OUT_${randomUUID()}`;
    this.sent.push({ kind, wamid, ...request } as Sent);
    return { wamid };
  }
  sendText(request: SendTextRequest) {
    return this.record('text', request);
  }
  sendInteractive(request: SendInteractiveRequest) {
    return this.record('interactive', request);
  }
  sendMedia(request: SendMediaRequest) {
    return this.record('media', request);
  }
  sendTemplate(request: SendTemplateRequest) {
    return this.record('template', request);
  }
  async submitTemplate() {
    return { id: '1', status: 'PENDING' };
  }
  async markRead(): Promise<void> {}
  /** What a recipient was sent from a number: the text of each message (the body of an interactive one). */
  to(number: TestNumber, to: string): string[] {
    return this.sent.filter((s) => s.phoneNumberId === number.phoneNumberId && s.to === to).map(words);
  }
}

function words(sent: Sent): string {
  if (sent.kind === 'text') return sent.text;
  if (sent.kind === 'interactive') return sent.interactive.body;
  if (sent.kind === 'media') return sent.media.caption ?? sent.media.link;
  return `[template] ${sent.template.name}`;
}

/** Real time, or real time running on from a chosen instant (working hours are judged on Meta's timestamps). */
class TestClock implements Clock {
  private offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  set(at: Date): void {
    this.offset = at.getTime() - Date.now();
  }
}

// ------------------------------------------------------------------- world

interface TestNumber {
  whatsapp_phno: string;
  phoneNumberId: string;
  wabaId: string;
}

let numberSeq = 0;
const unique = () => `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;

/**
 * An account with two connected numbers, its handlers (automation and inbox
 * on one table, as the bus runs them), Meta faked and a clock the test moves.
 */
async function world(options: { chatbotSessions?: number; env?: Record<string, string>; doc?: DynamoDBDocumentClient } = {}) {
  const adapters = adaptersFor(table);
  const account = await newAccount(adapters, { chatbotSessions: options.chatbotSessions ?? 100 });
  const accountId = account.accountId;
  const numbers: TestNumber[] = [];
  for (const [i, name] of ['Support', 'Vendas'].entries()) {
    if (i > 0) await purchaseAddon(adapters, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
    const n = unique();
    const number = { whatsapp_phno: `1555${n}`, phoneNumberId: `7${n}01`, wabaId: `8${n}01` };
    await connectNumber(adapters, accountId, { name, ...number }, `connect-${number.whatsapp_phno}`);
    numbers.push(number);
  }
  const meta = new RecordingMeta();
  const clock = new TestClock();
  const doc = options.doc ?? table.doc;
  const automation = makeAutomationHandler(createAutomationDeps(doc, table.tableName, { messaging: meta, clock, config: automationConfig(options.env ?? {}) }));
  const inbox = makeInboxHandler(createInboxConsumerDeps(table.doc, table.tableName, clock));
  const context = {} as Context;
  const inboxRepo = new DynamoInboxRepository(table.doc, table.tableName, clock);
  const apiDeps = { ...adapters, automations: new DynamoAutomationRepository(table.doc, table.tableName) };

  /** Consumes one record as SQS would: failed records come back (after a short visibility timeout), up to 5 receives. */
  async function consume(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>, event: object): Promise<number> {
    for (let receive = 1; ; receive++) {
      const { batchItemFailures } = await handler(sqsBatch([event as never]), context);
      if (batchItemFailures.length === 0) return receive;
      if (receive >= 5) throw new Error(`record failed ${receive} times`);
      await new Promise((resolve) => setTimeout(resolve, 50 * receive));
    }
  }

  return {
    accountId,
    a: numbers[0]!,
    b: numbers[1]!,
    meta,
    clock,
    inbox: inboxRepo,
    state: new DynamoAutomationState(table.doc, table.tableName, clock),
    async create<K extends AutomationKind>(kind: K, body: unknown) {
      return createAutomation(apiDeps, accountId, kind, AUTOMATION_BODIES[kind].parse(body) as never);
    },
    async team(name: string) {
      return addTeam(adapters, accountId, { name }, `team-${name}-${accountId}`);
    },
    /** One delivery: the inbox and the automation consumers each get the event, at the same time. */
    async deliver(event: object): Promise<void> {
      await Promise.all([consume(inbox, event), consume(automation, event)]);
    },
    automationOnly: (event: object) => consume(automation, event),
    ref(number: TestNumber, contactKey: string): ConversationRef {
      return { accountId, whatsappPhno: number.whatsapp_phno, contactKey };
    },
    text(number: TestNumber, from: string, body: string, options: { wamid?: string; at?: Date } = {}) {
      const at = options.at ?? clock.now();
      return textEvent(accountId, { number, from, text: body, wamid: options.wamid ?? `wamid.IN_${randomUUID()}`, timestamp: Math.floor(at.getTime() / 1000) });
    },
    /** The user taps one of our reply buttons. */
    button(number: TestNumber, from: string, id: string, title: string) {
      const event = textEvent(accountId, { number, from, timestamp: Math.floor(clock.now().getTime() / 1000) });
      const detail = event.detail as { message: Record<string, unknown> };
      detail.message = { ...detail.message, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } };
      delete detail.message.text;
      return event;
    },
    /** The decision stored with an inbound message (through the inbox, as the API shows it). */
    async decision(number: TestNumber, contactKey: string, wamid: string) {
      const { items } = await inboxRepo.listMessages({ accountId, whatsappPhno: number.whatsapp_phno, contactKey }, { limit: 100 });
      return items.find((m) => m.wamid === wamid)?.automation;
    },
    async messages(number: TestNumber, contactKey: string) {
      return (await inboxRepo.listMessages({ accountId, whatsappPhno: number.whatsapp_phno, contactKey }, { limit: 100 })).items;
    },
    async sessionUsage() {
      const period = billingPeriod(account.createdAt, clock.now()).key;
      const { Item } = await table.doc.send(
        new GetCommand({ TableName: table.tableName, Key: entities.periodQuota.key({ accountId, resource: 'chatbotSessions', period }), ConsistentRead: true }),
      );
      return Item ? { used: Item.used as number, limit: Item.limit as number } : { used: 0, limit: undefined };
    },
    async sessionLedger() {
      const { Items } = await table.doc.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': entities.ledgerEntry.partition({ accountId }), ':sk': entities.ledgerEntry.skPrefix({ idempotencyKey: 'chatbot:' }) },
          ConsistentRead: true,
        }),
      );
      return Items ?? [];
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

const MENU_BOT = {
  name: 'Menu',
  exitWords: ['sair'],
  steps: [
    { id: 'start', text: 'Hi {{name|there}}! What do you need?', retryText: 'Please tap one of the buttons.', options: [{ title: 'Sales', next: 'sales' }, { title: 'Support', next: 'support' }] },
    { id: 'sales', text: 'Which product?', options: [{ title: 'Phones', next: 'done' }, { title: 'Laptops', next: 'done' }] },
    { id: 'support', text: 'An agent will write to you soon.' },
    { id: 'done', text: 'Thanks! We will call you.' },
  ],
};

/** A chatbot started by the account-wide keyword `menu`. */
async function withMenuBot(w: World) {
  const bot = await w.create('chatbots', MENU_BOT);
  await w.create('keywords', { keywords: ['menu'], action: { type: 'startChatbot', chatbotId: bot.id } });
  return bot;
}

// ------------------------------------------------------------------- tests

describe('scope: account-wide automations and rules for one number', () => {
  it('answers an account-wide keyword on both numbers, a rule only on its number, and the rule wins there', async () => {
    const w = await world();
    const wide = await w.create('keywords', { keywords: ['price'], action: { type: 'reply', text: 'Prices: example.com/prices' } });
    const rule = await w.create('keywords', { keywords: ['price'], scope: { whatsapp_phno: w.b.whatsapp_phno }, action: { type: 'reply', text: 'Vendas: 10% off today' } });
    await w.create('keywords', { keywords: ['promo'], scope: { whatsapp_phno: w.b.whatsapp_phno }, action: { type: 'reply', text: 'Promo of Vendas' } });
    const maria = '5511987650001';

    const onA = w.text(w.a, maria, 'Price');
    const onB = w.text(w.b, maria, 'price');
    await Promise.all([w.deliver(onA), w.deliver(onB)]);
    expect(w.meta.to(w.a, maria)).toEqual(['Prices: example.com/prices']);
    expect(w.meta.to(w.b, maria)).toEqual(['Vendas: 10% off today']);

    const promoOnA = w.text(w.a, maria, 'promo');
    await w.deliver(promoOnA);
    expect(w.meta.to(w.a, maria)).toHaveLength(1);
    await w.deliver(w.text(w.b, maria, 'promo'));
    expect(w.meta.to(w.b, maria)).toEqual(['Vendas: 10% off today', 'Promo of Vendas']);

    const onBDecision = await w.decision(w.b, maria, (onB.detail as any).eventId);
    expect(onBDecision).toMatchObject({ decidedBy: 'keyword', automation: { kind: 'keywords', id: rule.id }, replies: [{ outcome: 'sent' }] });
    expect(onBDecision!.reason).toContain(wide.id);
    expect(await w.decision(w.a, maria, (onA.detail as any).eventId)).toMatchObject({ decidedBy: 'keyword', automation: { id: wide.id } });
    expect(await w.decision(w.a, maria, (promoOnA.detail as any).eventId)).toMatchObject({ decidedBy: 'none', replies: [] });
    // The replies are in the inbox, on each number's own conversation, sent from that number.
    const outbound = (await w.messages(w.b, maria)).filter((m) => m.direction === 'out').map((m) => m.text);
    expect(outbound).toEqual(['Vendas: 10% off today', 'Promo of Vendas']);
  });
});

describe('one decision per message', () => {
  it('replies once and takes one session unit for a delivery consumed 3 times in a row, and for one consumed 5 times at once', async () => {
    const w = await world();
    const bot = await withMenuBot(w);
    const first = w.text(w.a, '5511900000001', 'menu');
    for (let i = 0; i < 3; i++) await w.deliver(first);
    const second = w.text(w.b, '5511900000002', 'MENU');
    await Promise.all(Array.from({ length: 5 }, () => w.deliver(second)));

    const interactives = w.meta.sent.filter((s) => s.kind === 'interactive');
    expect(interactives).toHaveLength(2);
    expect(interactives.map((s) => [s.phoneNumberId, s.to])).toEqual(expect.arrayContaining([[w.a.phoneNumberId, '5511900000001'], [w.b.phoneNumberId, '5511900000002']]));
    expect(interactives[0]!.kind === 'interactive' && interactives[0]!.interactive).toMatchObject({
      type: 'buttons',
      body: 'Hi Maria Souza! What do you need?',
      buttons: [{ id: optionReplyId(bot.id, 'start', 0), title: 'Sales' }, { id: optionReplyId(bot.id, 'start', 1), title: 'Support' }],
    });
    expect(await w.sessionUsage()).toMatchObject({ used: 2 });
    const ledger = await w.sessionLedger();
    expect(ledger.map((e) => e.idempotencyKey).sort()).toEqual([first, second].map((e) => `chatbot:${(e.detail as any).whatsapp_phno}:${(e.detail as any).eventId}`).sort());
    expect(ledger.every((e) => e.amount === -1 && e.resource === 'chatbotSessions')).toBe(true);
    expect((await w.messages(w.b, '5511900000002')).filter((m) => m.direction === 'out')).toHaveLength(1);
  });

  it('never answers two messages of one contact at once: the second waits for the first', async () => {
    const w = await world();
    await w.create('keywords', { keywords: ['hi'], action: { type: 'reply', text: 'Hello!' } });
    const from = '5511900000003';
    await Promise.all(Array.from({ length: 4 }, () => w.deliver(w.text(w.a, from, 'hi'))));
    expect(w.meta.to(w.a, from)).toEqual(['Hello!', 'Hello!', 'Hello!', 'Hello!']);
  });
});

describe('chatbot sessions on the shared quota', () => {
  it('with a quota of 2, three contacts on two numbers starting the chatbot get exactly two sessions; the third is left for an agent', async () => {
    const w = await world({ chatbotSessions: 2 });
    await withMenuBot(w);
    const contacts = [
      { number: w.a, from: '5511911110001' },
      { number: w.b, from: '5511911110002' },
      { number: w.a, from: '5511911110003' },
    ];
    const events = contacts.map((c) => w.text(c.number, c.from, 'menu'));
    await Promise.all(events.map((event) => w.deliver(event)));

    const sessions = await Promise.all(contacts.map((c) => w.state.getSession(w.ref(c.number, c.from))));
    expect(sessions.filter(Boolean)).toHaveLength(2);
    expect(w.meta.sent.filter((s) => s.kind === 'interactive')).toHaveLength(2);
    expect(await w.sessionUsage()).toEqual({ used: 2, limit: 2 });

    const refused = contacts.findIndex((_, i) => !sessions[i]);
    const { number, from } = contacts[refused]!;
    expect(w.meta.to(number, from)).toEqual([]);
    const conversation = await w.inbox.getConversation(w.ref(number, from));
    expect(conversation).toMatchObject({ unreadCount: 1, needsAgent: { reason: expect.stringContaining('QUOTA_EXCEEDED') } });
    expect((await w.messages(number, from)).map((m) => m.direction)).toEqual(['in']);
    expect(await w.decision(number, from, (events[refused]!.detail as any).eventId)).toMatchObject({
      decidedBy: 'keyword',
      replies: [{ outcome: 'QUOTA_EXCEEDED' }],
      flaggedForAgent: expect.stringContaining('QUOTA_EXCEEDED'),
    });
  });

  it('gives an open session the message (even one equal to an account-wide keyword); stop ends it', async () => {
    const w = await world();
    const bot = await withMenuBot(w);
    await w.create('keywords', { keywords: ['price'], action: { type: 'reply', text: 'Prices: example.com/prices' } });
    const from = '5511922220001';
    await w.deliver(w.text(w.a, from, 'menu'));
    const price = w.text(w.a, from, 'price');
    await w.deliver(price);
    // Not an option: the step again, the retry text before its question, as one message.
    expect(w.meta.to(w.a, from)).toEqual(['Hi Maria Souza! What do you need?', 'Please tap one of the buttons.\n\nHi Maria Souza! What do you need?']);
    expect(await w.decision(w.a, from, (price.detail as any).eventId)).toMatchObject({ decidedBy: 'session', automation: { kind: 'chatbots', id: bot.id } });

    await w.deliver(w.button(w.a, from, optionReplyId(bot.id, 'start', 0), 'Sales'));
    expect(w.meta.to(w.a, from).at(-1)).toBe('Which product?');
    expect(await w.state.getSession(w.ref(w.a, from))).toMatchObject({ chatbotId: bot.id, stepId: 'sales', retries: 0 });

    const stop = w.text(w.a, from, 'STOP');
    await w.deliver(stop);
    expect(w.meta.to(w.a, from)).toHaveLength(3);
    expect(await w.state.getSession(w.ref(w.a, from))).toBeUndefined();
    expect(await w.decision(w.a, from, (stop.detail as any).eventId)).toMatchObject({ decidedBy: 'interrupt', replies: [] });

    await w.deliver(w.text(w.a, from, 'price'));
    expect(w.meta.to(w.a, from).at(-1)).toBe('Prices: example.com/prices');
    expect(await w.sessionUsage()).toMatchObject({ used: 1 });
  });

  it('completes a session at a step without options', async () => {
    const w = await world();
    const bot = await withMenuBot(w);
    const from = '5511922220002';
    await w.deliver(w.text(w.a, from, 'menu'));
    await w.deliver(w.text(w.a, from, 'support'));
    expect(w.meta.to(w.a, from).at(-1)).toBe('An agent will write to you soon.');
    expect(await w.state.getSession(w.ref(w.a, from))).toBeUndefined();
    expect(bot.id).toMatch(/^chat_/);
  });
});

describe('default actions', () => {
  const MONDAY_10H = new Date('2030-01-07T10:00:00Z');
  const SUNDAY_03H = new Date('2030-01-06T03:00:00Z');

  it('gives a first message in working hours only the welcome, and one outside them only the out-of-office', async () => {
    const w = await world();
    await w.create('default-actions', { event: 'welcome', text: 'Welcome, {{name}}!' });
    await w.create('default-actions', {
      event: 'outOfOffice',
      text: 'We are closed; we open Monday to Friday, 9 to 18.',
      workingHours: { timeZone: 'UTC', days: { mon: [{ from: '09:00', to: '18:00' }], tue: [{ from: '09:00', to: '18:00' }] } },
    });
    await w.create('default-actions', { event: 'fallback', text: 'Sorry, I did not get that.' });

    w.clock.set(MONDAY_10H);
    const inHours = w.text(w.a, '5511933330001', 'oi', { at: MONDAY_10H });
    await w.deliver(inHours);
    expect(w.meta.to(w.a, '5511933330001')).toEqual(['Welcome, Maria Souza!']);
    expect(await w.decision(w.a, '5511933330001', (inHours.detail as any).eventId)).toMatchObject({ decidedBy: 'default', replies: [{ outcome: 'sent' }] });

    // The same contact's next message is no longer the first: the fallback (once per 30 minutes).
    await w.deliver(w.text(w.a, '5511933330001', 'hmm', { at: MONDAY_10H }));
    await w.deliver(w.text(w.a, '5511933330001', 'hmm?', { at: MONDAY_10H }));
    expect(w.meta.to(w.a, '5511933330001')).toEqual(['Welcome, Maria Souza!', 'Sorry, I did not get that.']);
    // The same person's first message on the other number is a first message there.
    await w.deliver(w.text(w.b, '5511933330001', 'oi', { at: MONDAY_10H }));
    expect(w.meta.to(w.b, '5511933330001')).toEqual(['Welcome, Maria Souza!']);

    w.clock.set(new Date(SUNDAY_03H.getTime() + 5_000));
    await w.deliver(w.text(w.a, '5511933330002', 'oi', { at: SUNDAY_03H }));
    expect(w.meta.to(w.a, '5511933330002')).toEqual(['We are closed; we open Monday to Friday, 9 to 18.']);
  });

  it('stays a first message when the first delivery is consumed again', async () => {
    const w = await world();
    await w.create('default-actions', { event: 'welcome', text: 'Welcome!' });
    const from = '5511933330003';
    const first = w.text(w.a, from, 'oi');
    await w.deliver(first);
    // Its claim gone (say a redrive after 10 days), the same message is still judged the first.
    await table.doc.send(new (await import('@aws-sdk/lib-dynamodb')).DeleteCommand({ TableName: table.tableName, Key: entities.automationClaim.key({ phoneNumberId: w.a.phoneNumberId, wamid: (first.detail as any).eventId }) }));
    await w.automationOnly(first);
    expect(w.meta.to(w.a, from)).toEqual(['Welcome!', 'Welcome!']);
    await w.deliver(w.text(w.a, from, 'again'));
    expect(w.meta.to(w.a, from)).toHaveLength(2);
  });
});

describe('human ownership, safeguards and admission', () => {
  it('ends the session and stops automatic replies once an agent replied', async () => {
    const w = await world();
    await withMenuBot(w);
    await w.create('keywords', { keywords: ['price'], action: { type: 'reply', text: 'Prices: example.com/prices' } });
    const from = '5511944440001';
    await w.deliver(w.text(w.a, from, 'menu'));
    expect(await w.state.getSession(w.ref(w.a, from))).toBeDefined();

    await new Promise((resolve) => setTimeout(resolve, 5));
    const reply = await replyTo({ inbox: w.inbox, messaging: w.meta, clock: w.clock }, w.ref(w.a, from), { type: 'text', text: 'Hi, Ana here.' }, { by: 'agent' });
    expect(reply.outcome).toBe('sent');

    const sales = w.text(w.a, from, 'Sales');
    await w.deliver(sales);
    await w.deliver(w.text(w.a, from, 'price'));
    expect(w.meta.to(w.a, from)).toEqual(['Hi Maria Souza! What do you need?', 'Hi, Ana here.']);
    expect(await w.state.getSession(w.ref(w.a, from))).toBeUndefined();
    expect(await w.decision(w.a, from, (sales.detail as any).eventId)).toMatchObject({ decidedBy: 'human', replies: [] });
  });

  it('leaves a conversation for an agent past N automatic replies in 10 minutes', async () => {
    const w = await world({ env: { AUTOMATION_MAX_REPLIES_PER_10_MIN: '2' } });
    await w.create('keywords', { keywords: ['hi'], action: { type: 'reply', text: 'Hello!' } });
    const from = '5511944440002';
    const events = [1, 2, 3].map(() => w.text(w.a, from, 'hi'));
    for (const event of events) await w.deliver(event);
    expect(w.meta.to(w.a, from)).toEqual(['Hello!', 'Hello!']);
    expect(await w.decision(w.a, from, (events[2]!.detail as any).eventId)).toMatchObject({ replies: [{ outcome: 'RATE_LIMITED' }], flaggedForAgent: expect.stringContaining('RATE_LIMITED') });
    expect((await w.inbox.getConversation(w.ref(w.a, from)))?.needsAgent?.reason).toContain('RATE_LIMITED');
  });

  it('does nothing for a status, an echo of the number itself or a blocked contact', async () => {
    const w = await world();
    await w.create('keywords', { keywords: ['hi'], action: { type: 'reply', text: 'Hello!' } });
    await w.create('default-actions', { event: 'fallback', text: 'Sorry?' });
    const status = statusEvent(w.accountId, { wamid: 'wamid.OUT_1', status: 'delivered', number: w.a });
    await w.deliver(status);
    await w.deliver(w.text(w.a, w.a.whatsapp_phno, 'hi'));
    const reaction = envelope(DETAIL_TYPES.messageReceived, {
      ...(w.text(w.a, '5511944440003', 'x').detail as object),
      message: { id: `wamid.IN_${randomUUID()}`, from: '5511944440003', timestamp: String(Math.floor(Date.now() / 1000)), type: 'reaction', reaction: { message_id: 'wamid.OUT_1', emoji: '👍' } },
    });
    await w.deliver(reaction);

    const blocked = '5511944440004';
    await w.deliver(w.text(w.a, blocked, 'hello there'));
    expect(w.meta.to(w.a, blocked)).toEqual(['Sorry?']);
    const contactKey = entities.contact.key({ accountId: w.accountId, whatsappPhno: w.a.whatsapp_phno, contactKey: blocked });
    await table.doc.send(new (await import('@aws-sdk/lib-dynamodb')).UpdateCommand({ TableName: table.tableName, Key: contactKey, UpdateExpression: 'SET blocked = :t', ExpressionAttributeValues: { ':t': true } }));
    const fromBlocked = w.text(w.a, blocked, 'hi');
    await w.deliver(fromBlocked);

    expect(w.meta.sent).toHaveLength(1);
    expect(await w.decision(w.a, blocked, (fromBlocked.detail as any).eventId)).toMatchObject({ decidedBy: 'admit', replies: [] });
    expect(await w.decision(w.a, '5511944440003', (reaction.detail as any).message.id)).toMatchObject({ decidedBy: 'admit' });
  });
});

describe('an account without automations', () => {
  it('costs one read per message: no lock, no claim, no decision', async () => {
    const w = await world();
    await w.create('reply-material', { name: 'Saved', content: { type: 'text', text: 'Only agents send me.' } });
    const from = '5511977770001';
    const hi = w.text(w.a, from, 'hi');
    await w.deliver(hi);
    const { Item } = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: entities.automationClaim.key({ phoneNumberId: w.a.phoneNumberId, wamid: (hi.detail as any).eventId }), ConsistentRead: true }),
    );
    expect(Item).toBeUndefined();
    expect(await w.messages(w.a, from)).toEqual([expect.not.objectContaining({ automation: expect.anything() })]);
    expect(w.meta.sent).toEqual([]);
  });
});

describe('routes', () => {
  it('assigns a team round robin among its members, beside the reply', async () => {
    const w = await world();
    const team = await w.team('Sales');
    await w.create('keywords', { keywords: ['buy'], action: { type: 'reply', text: 'Great, a seller will talk to you.' } });
    await w.create('routes', { teamId: team.teamId, keywords: ['buy'], members: [] });
    const from = ['5511955550001', '5511955550002'];
    await Promise.all(from.map((f) => w.deliver(w.text(w.a, f, 'buy'))));
    for (const f of from) {
      expect(w.meta.to(w.a, f)).toEqual(['Great, a seller will talk to you.']);
      expect(await w.inbox.getConversation(w.ref(w.a, f))).toMatchObject({ assignedTeamId: team.teamId });
    }
    // The team owns the conversations now: no automatic reply while the window is open.
    await w.deliver(w.text(w.a, from[0]!, 'buy'));
    expect(w.meta.to(w.a, from[0]!)).toHaveLength(1);
  });

  it('hands conversations to members in turn, the cursor moved by conditional writes under a race', async () => {
    const w = await world();
    const members = ['usr_a', 'usr_b', 'usr_c'];
    const picked = await Promise.all(Array.from({ length: 9 }, () => w.state.nextMember(w.accountId, 'route_x', members)));
    expect(picked.filter((m) => m === 'usr_a')).toHaveLength(3);
    expect(picked.filter((m) => m === 'usr_b')).toHaveLength(3);
    expect(picked.filter((m) => m === 'usr_c')).toHaveLength(3);
  });
});

describe('faults', () => {
  it('resumes the saved plan after a send failed half-way: the step goes out once, the session unit is taken once', async () => {
    const w = await world();
    await withMenuBot(w);
    w.meta.failNext.push(new WhatsAppUnavailable());
    const from = '5511966660001';
    await w.deliver(w.text(w.a, from, 'menu'));
    expect(w.meta.to(w.a, from)).toEqual(['Hi Maria Souza! What do you need?']);
    expect(await w.sessionUsage()).toMatchObject({ used: 1 });
    expect(await w.sessionLedger()).toHaveLength(1);
  });

  it('stores the decision once the table answers again, without a second reply', async () => {
    let failures = 1;
    const faulty = Object.create(table.doc) as DynamoDBDocumentClient;
    faulty.send = (async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      const decisionWrite = command.constructor.name === 'UpdateCommand' && JSON.stringify(command.input.ExpressionAttributeValues ?? {}).includes('decidedBy');
      if (decisionWrite && entities.message.owns(command.input.Key) && failures > 0) {
        failures--;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException', $retryable: {} });
      }
      return table.doc.send(command as never);
    }) as DynamoDBDocumentClient['send'];
    const w = await world({ doc: faulty });
    await w.create('keywords', { keywords: ['hi'], action: { type: 'reply', text: 'Hello!' } });
    const from = '5511966660002';
    const hi = w.text(w.a, from, 'hi');
    await w.deliver(hi);
    expect(failures).toBe(0);
    expect(w.meta.to(w.a, from)).toEqual(['Hello!']);
    expect(await w.decision(w.a, from, (hi.detail as any).eventId)).toMatchObject({ decidedBy: 'keyword', replies: [{ outcome: 'sent' }] });
  });
});
