/**
 * The inbox shows what really happened (issue 16), on DynamoDB Local through
 * the inbox consumer's handler: echoes from the WhatsApp Business app and
 * history in their conversations (right direction and order, never unread,
 * never the 24-hour window, never an automation), edits and deletions of the
 * original in either order (and racing), WhatsApp groups beside their
 * members' own conversations (replies to the group, statuses never a
 * contact), and the sender identity rule.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { makeAutomationHandler } from '../../functions/automation/app.js';
import { createAutomationDeps } from '../../functions/automation/deps.js';
import { parseAutomationRecord } from '../../functions/automation/events.js';
import { automationConfig } from '../../functions/commons/config.js';
import { systemClock } from '../../functions/commons/ids.js';
import { createAutomation } from '../../functions/core/automations.js';
import type { ConversationRef } from '../../functions/core/inbox-ports.js';
import { conversationViewOf, messageViewOf } from '../../functions/core/inbox-views.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { replyTo } from '../../functions/core/replies.js';
import { makeInboxHandler } from '../../functions/inbox/app.js';
import { createInboxConsumerDeps } from '../../functions/inbox/deps.js';
import { AUTOMATION_BODIES } from '../../schemas/automations.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { groupContactKey } from '../../schemas/whatsapp-ids.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender, envelope, putNumber, sqsBatch, statusEvent, textEvent } from '../support/inbox.js';

let table: TestTable;
let repo: DynamoInboxRepository;
let inboxHandler: ReturnType<typeof makeInboxHandler>;
let accountSeq = 0;

beforeAll(async () => {
  table = await createTestTable('inbox-history');
  repo = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
  inboxHandler = makeInboxHandler(createInboxConsumerDeps(table.doc, table.tableName));
});

const PHNO = NUMBERS.default.whatsapp_phno;
const MARIA = '5511987650001';
const ANA = '5511987650004';
const GROUP = 'Y2FwaV9ncm91cDoxNTU1MDAwMTAwMToxMjAzNjMwMDAwMDAwMDE';
const T0 = 1_764_230_000; // 2025-11-27T07:53:20Z
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const newAccountId = () => `acc_hist${Date.now().toString(36)}${++accountSeq}`;

type Envelope = ReturnType<typeof envelope>;

/** Consumes each event as its own SQS record; every record must succeed (nothing dead-lettered). */
async function consume(...events: (Envelope | string)[]): Promise<void> {
  const response = await inboxHandler(sqsBatch(events), {} as Context);
  expect(response.batchItemFailures).toEqual([]);
}

function context(accountId: string, eventId: string) {
  const number = NUMBERS.default;
  return {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefaultNumber: true,
    eventId,
    receivedAt: new Date().toISOString(),
  };
}

/** A `WhatsApp Message Recorded` event as the webhook publishes it for an echo or a history message. */
function recorded(
  accountId: string,
  options: { source: 'business_app' | 'history'; direction: 'in' | 'out'; wamid: string; at: number; text?: string; with?: string; extra?: Record<string, unknown> },
): Envelope {
  const user = options.with ?? MARIA;
  const message = {
    from: options.direction === 'out' ? PHNO : user,
    ...(options.source === 'business_app' ? { to: user } : {}),
    id: options.wamid,
    timestamp: String(options.at),
    type: 'text',
    text: { body: options.text ?? options.wamid },
    ...options.extra,
  };
  return envelope(DETAIL_TYPES.messageRecorded, {
    ...context(accountId, `rec:${options.wamid}`),
    source: options.source,
    direction: options.direction,
    contact: { waId: user },
    message,
    ...(options.source === 'history' ? { threadId: user } : {}),
  });
}

/** A received message of another type (edit, revoke, group), built on a text event. */
function received(accountId: string, wamid: string, at: number, message: Record<string, unknown>, from = MARIA, name = 'Maria Souza'): Envelope {
  const event = textEvent(accountId, { from, wamid, timestamp: at, name });
  const detail = event.detail as { message: Record<string, unknown> };
  detail.message = { from, id: wamid, timestamp: String(at), ...message };
  return event;
}

const editOf = (accountId: string, original: string, wamid: string, at: number, body: string) =>
  received(accountId, wamid, at, { type: 'edit', edit: { original_message_id: original, message: { type: 'text', text: { body } } } });
const revokeOf = (accountId: string, original: string, wamid: string, at: number) =>
  received(accountId, wamid, at, { type: 'revoke', revoke: { original_message_id: original } });

const refOf = (accountId: string, contactKey = MARIA): ConversationRef => ({ accountId, whatsappPhno: PHNO, contactKey });

async function views(ref: ConversationRef) {
  const { items } = await repo.listMessages(ref, { limit: 100 });
  return items.map(messageViewOf);
}

/** Every item of a conversation's message partition (listings skip nothing here). */
async function messageItems(ref: ConversationRef) {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': entities.message.partition({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey }) },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** Every item of the account partition (contacts, conversations, BSUID links). */
async function accountItems(accountId: string) {
  const { Items } = await table.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `A#${accountId}` }, ConsistentRead: true }),
  );
  return Items ?? [];
}

describe('echoes and history', () => {
  it('stores a history thread and an echo in Meta\'s time order, with direction and source, never unread nor the window', async () => {
    const accountId = newAccountId();
    // The echo is delivered first; the history of the thread comes after it, older.
    await consume(recorded(accountId, { source: 'business_app', direction: 'out', wamid: 'wamid.ECHO_1', at: T0 + 300, text: 'Entregamos sim.' }));
    await consume(
      recorded(accountId, { source: 'history', direction: 'out', wamid: 'wamid.HIST_OUT', at: T0 + 10, text: 'Olá! Como posso ajudar?', extra: { history_context: { status: 'READ' } } }),
      recorded(accountId, { source: 'history', direction: 'in', wamid: 'wamid.HIST_IN', at: T0 + 20, text: 'Vocês entregam?' }),
    );

    const shown = await views(refOf(accountId));
    expect(shown.map((m) => [m.wamid, m.direction, m.source, m.status])).toEqual([
      ['wamid.HIST_OUT', 'out', 'history', 'read'],
      ['wamid.HIST_IN', 'in', 'history', 'received'],
      ['wamid.ECHO_1', 'out', 'business_app', 'sent'],
    ]);
    expect(shown.map((m) => m.timestamp)).toEqual([iso(T0 + 10), iso(T0 + 20), iso(T0 + 300)]);
    const conversation = await repo.getConversation(refOf(accountId));
    expect(conversation).toMatchObject({ unreadCount: 0, lastMessagePreview: 'Entregamos sim.', lastMessageAt: iso(T0 + 300), kind: 'direct' });
    expect(conversation?.windowOpenUntil).toBeUndefined();
    expect(conversation?.lastAgentReplyAt).toBeUndefined();
    expect(conversationViewOf(conversation!)).toMatchObject({ windowOpenUntil: null, lastAgentReplyAt: null, unreadCount: 0 });
  });

  it('stores one message for a wamid delivered as echo and as history, redelivered and raced', async () => {
    const accountId = newAccountId();
    const echo = recorded(accountId, { source: 'business_app', direction: 'out', wamid: 'wamid.TWICE', at: T0 + 100 });
    const history = recorded(accountId, { source: 'history', direction: 'out', wamid: 'wamid.TWICE', at: T0 + 40 });
    // Meta's history gives the same wamid another timestamp: the pointer, not the time, makes it one message.
    (history.detail as { eventId: string }).eventId = 'rec:history:wamid.TWICE';
    await Promise.all([consume(echo), consume(history), consume(echo), consume(JSON.stringify(history))]);
    expect(await messageItems(refOf(accountId))).toHaveLength(1);
    expect((await repo.getConversation(refOf(accountId)))?.unreadCount).toBe(0);
  });

  it('leaves the window a live message opened, and its unread count, as they were', async () => {
    const accountId = newAccountId();
    await consume(textEvent(accountId, { from: MARIA, wamid: 'wamid.LIVE', timestamp: T0 }));
    const before = await repo.getConversation(refOf(accountId));
    expect(before).toMatchObject({ unreadCount: 1, windowOpenUntil: iso(T0 + 86_400) });
    // A user's history message dated later than the live one still opens nothing.
    await consume(recorded(accountId, { source: 'history', direction: 'in', wamid: 'wamid.LATER_HIST', at: T0 + 3600 }));
    await consume(recorded(accountId, { source: 'business_app', direction: 'out', wamid: 'wamid.LATER_ECHO', at: T0 + 7200 }));
    const after = await repo.getConversation(refOf(accountId));
    expect(after).toMatchObject({ unreadCount: 1, windowOpenUntil: iso(T0 + 86_400), lastMessageAt: iso(T0 + 7200) });
    expect(after?.lastAgentReplyAt).toBeUndefined();
    // The live message delivered again after its wamid was stored is still one message.
    await consume(textEvent(accountId, { from: MARIA, wamid: 'wamid.LIVE', timestamp: T0 }));
    expect((await messageItems(refOf(accountId))).map((m) => m.wamid).sort()).toEqual(['wamid.LATER_ECHO', 'wamid.LATER_HIST', 'wamid.LIVE']);
  });

  it('completes the placeholder a status of an echoed message left when it came first', async () => {
    const accountId = newAccountId();
    await consume(statusEvent(accountId, { wamid: 'wamid.ECHO_STATUS', status: 'delivered', recipient: MARIA, timestamp: T0 + 5 }));
    await consume(recorded(accountId, { source: 'business_app', direction: 'out', wamid: 'wamid.ECHO_STATUS', at: T0, text: 'Pedido enviado' }));
    const [message] = await views(refOf(accountId));
    expect(message).toMatchObject({ wamid: 'wamid.ECHO_STATUS', text: 'Pedido enviado', type: 'text', source: 'business_app', status: 'delivered' });
    expect(await repo.getConversation(refOf(accountId))).toMatchObject({ unreadCount: 0, lastMessagePreview: 'Pedido enviado' });
  });
});

describe('edits and deletions', () => {
  // Wamids are Meta's, unique per number: each account of a test gets its own (the fixtures' number is shared).
  const w = (accountId: string, name: string) => `wamid.${name}_${accountId}`;
  const original = (accountId: string) => textEvent(accountId, { from: MARIA, wamid: w(accountId, 'ORIG'), timestamp: T0, text: 'Oi! Vocês entregam em Campinas?' });
  const edit1 = (accountId: string) => editOf(accountId, w(accountId, 'ORIG'), w(accountId, 'EDIT_1'), T0 + 60, 'Oi! Vocês entregam em Valinhos?');
  const edit2 = (accountId: string) => editOf(accountId, w(accountId, 'ORIG'), w(accountId, 'EDIT_2'), T0 + 120, 'Oi! Vocês entregam em Vinhedo?');
  const revoke = (accountId: string) => revokeOf(accountId, w(accountId, 'ORIG'), w(accountId, 'REVOKE'), T0 + 180);

  /** What the inbox shows and stores after the events, in the given way of delivering them. */
  async function endState(deliver: (accountId: string, events: Envelope[]) => Promise<void>, make: ((accountId: string) => Envelope)[]) {
    const accountId = newAccountId();
    await deliver(accountId, make.map((build) => build(accountId)));
    const conversation = await repo.getConversation(refOf(accountId));
    const messages = (await views(refOf(accountId))).map((m) => ({ ...m, wamid: m.wamid.replace(`_${accountId}`, '') }));
    return { messages, unreadCount: conversation?.unreadCount, preview: conversation?.lastMessagePreview };
  }
  const inOrder = async (_: string, events: Envelope[]) => {
    for (const event of events) await consume(event);
  };
  const reversed = async (_: string, events: Envelope[]) => {
    for (const event of [...events].reverse()) await consume(event);
  };
  const racing = async (_: string, events: Envelope[]) => {
    await Promise.all(events.flatMap((event) => [consume(event), consume(event)]));
  };

  it('edits the original: latest text, editedAt, earlier versions kept; no new message, no unread', async () => {
    const state = await endState(inOrder, [original, edit1, edit2]);
    expect(state.messages).toHaveLength(1);
    expect(state.messages[0]).toMatchObject({
      wamid: 'wamid.ORIG',
      text: 'Oi! Vocês entregam em Vinhedo?',
      editedAt: iso(T0 + 120),
      edits: [
        { text: 'Oi! Vocês entregam em Campinas?', at: iso(T0) },
        { text: 'Oi! Vocês entregam em Valinhos?', at: iso(T0 + 60) },
      ],
    });
    expect(state.unreadCount).toBe(1);
  });

  it('ends the same with the edits first, in reverse, and all at once', async () => {
    const expected = await endState(inOrder, [original, edit1, edit2]);
    expect(await endState(reversed, [original, edit1, edit2])).toEqual(expected);
    expect(await endState(racing, [original, edit1, edit2])).toEqual(expected);
    // An older edit arriving after a newer one never shows.
    expect(await endState(inOrder, [original, edit2, edit1])).toEqual(expected);
  });

  it('marks a deleted message: the fact kept, the content withheld; a deletion before its original ends the same', async () => {
    const expected = await endState(inOrder, [original, revoke]);
    expect(expected.messages).toEqual([
      { wamid: 'wamid.ORIG', direction: 'in', type: 'text', text: null, status: 'received', timestamp: iso(T0), source: 'cloud_api', deleted: true, deletedAt: iso(T0 + 180) },
    ]);
    expect(expected.preview).toBe('[message deleted]');
    expect(await endState(reversed, [original, revoke])).toEqual(expected);
    expect(await endState(racing, [original, revoke])).toEqual(expected);
  });

  it('lets a deletion win over edits in any order', async () => {
    const expected = await endState(inOrder, [original, edit1, revoke]);
    expect(expected.messages[0]).toMatchObject({ text: null, deleted: true, editedAt: iso(T0 + 60) });
    expect(expected.messages[0]).not.toHaveProperty('edits');
    expect(await endState(reversed, [original, edit1, revoke])).toEqual(expected);
    expect(await endState(racing, [original, edit1, revoke])).toEqual(expected);
  });

  it('applies an echoed edit of the business\'s own message', async () => {
    const accountId = newAccountId();
    const echoEdit = recorded(accountId, {
      source: 'business_app',
      direction: 'out',
      wamid: 'wamid.ECHO_EDIT',
      at: T0 + 30,
      extra: { type: 'edit', text: undefined, edit: { original_message_id: 'wamid.ECHO_ORIG', message: { type: 'text', text: { body: 'Chegamos às 10h' } } } },
    });
    await consume(echoEdit);
    await consume(recorded(accountId, { source: 'business_app', direction: 'out', wamid: 'wamid.ECHO_ORIG', at: T0, text: 'Chegamos às 9h' }));
    const shown = await views(refOf(accountId));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ text: 'Chegamos às 10h', edits: [{ text: 'Chegamos às 9h' }], source: 'business_app' });
  });
});

describe('groups', () => {
  const groupMessage = (accountId: string, wamid: string, at: number, from = ANA, name = 'Ana Lima') =>
    received(accountId, wamid, at, { group_id: GROUP, type: 'text', text: { body: `${name}: ${wamid}` } }, from, name);

  it('files a member\'s group message in the group\'s conversation, leaving the member\'s own alone', async () => {
    const accountId = newAccountId();
    await putNumber(table, accountId, NUMBERS.default);
    const now = Math.floor(Date.now() / 1000) - 60;
    await consume(textEvent(accountId, { from: ANA, wamid: 'wamid.ANA_PRIVATE', timestamp: now, name: 'Ana Lima', text: 'privado' }));
    const privateBefore = await repo.getConversation(refOf(accountId, ANA));
    await consume(groupMessage(accountId, 'wamid.G1', now + 10), groupMessage(accountId, 'wamid.G2', now + 20, MARIA, 'Maria Souza'));

    const groupRef = refOf(accountId, groupContactKey(GROUP));
    const group = await repo.getConversation(groupRef);
    expect(group).toMatchObject({ kind: 'group', groupId: GROUP, unreadCount: 2 });
    expect(conversationViewOf(group!)).toMatchObject({ conversationId: `${PHNO}_group.${GROUP}`, kind: 'group', groupId: GROUP, waId: null, contactName: null });
    expect((await views(groupRef)).map((m) => [m.wamid, m.from])).toEqual([
      ['wamid.G1', { waId: ANA, name: 'Ana Lima' }],
      ['wamid.G2', { waId: MARIA, name: 'Maria Souza' }],
    ]);
    expect(await repo.getConversation(refOf(accountId, ANA))).toEqual(privateBefore);
    expect(await messageItems(refOf(accountId, ANA))).toHaveLength(1);
    // No contact for the group, none made for Maria by a group message.
    const contacts = (await accountItems(accountId)).filter((item) => item.type === 'contact').map((item) => item.contactKey);
    expect(contacts).toEqual([ANA]);

    const groups = await repo.listConversations(accountId, { kind: 'group' }, { limit: 50 });
    expect(groups.items.map((c) => c.contactKey)).toEqual([groupContactKey(GROUP)]);
    const direct = await repo.listConversations(accountId, { kind: 'direct' }, { limit: 50 });
    expect(direct.items.map((c) => c.contactKey)).toEqual([ANA]);
    expect((await repo.listConversations(accountId, {}, { limit: 50 })).items).toHaveLength(2);

    // A reply from the inbox goes to the group, never to a member privately.
    const sender = new RecordingSender();
    const outcome = await replyTo({ inbox: repo, messaging: sender, clock: systemClock }, groupRef, { type: 'text', text: 'Sábado das 9h às 13h.' }, { by: 'agent' });
    expect(outcome.outcome).toBe('sent');
    expect(sender.texts).toEqual([expect.objectContaining({ to: GROUP, recipientType: 'group', text: 'Sábado das 9h às 13h.' })]);
  });

  it('records group statuses against the group message, before or after the send, never as a contact', async () => {
    const accountId = newAccountId();
    const groupStatus = (wamid: string, status: string, participant: string, at: number) => {
      const event = statusEvent(accountId, { wamid, status, recipient: GROUP, timestamp: at });
      Object.assign((event.detail as { status: Record<string, unknown> }).status, { recipient_type: 'group', recipient_participant_id: participant });
      return event;
    };
    // Statuses of a message the inbox has not seen sent: filed under the group, nothing dead-lettered.
    await consume(groupStatus('wamid.TO_GROUP', 'delivered', ANA, T0 + 1), groupStatus('wamid.TO_GROUP', 'read', MARIA, T0 + 2), groupStatus('wamid.TO_GROUP', 'read', ANA, T0 + 3));
    const groupRef = refOf(accountId, groupContactKey(GROUP));
    const items = await messageItems(groupRef);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ wamid: 'wamid.TO_GROUP', status: 'read', direction: 'out' });
    expect((await accountItems(accountId)).filter((item) => item.type === 'contact')).toEqual([]);
  });
});

describe('sender identity', () => {
  it('ignores, never dead-letters, a status naming a placeholder recipient of a message never recorded', async () => {
    const accountId = newAccountId();
    await consume(statusEvent(accountId, { wamid: `wamid.NEVER_${accountId}`, status: 'failed', recipient: 'CUSTOMER_PHONE_NUMBER', errors: [{ code: 131053, title: 'ERROR_TITLE' }] }));
    expect((await accountItems(accountId)).filter((item) => item.type === 'contact' || item.type === 'conversation')).toEqual([]);
  });

  it('files a message under `from` when the contact entry names someone else, without that entry\'s name', async () => {
    const accountId = newAccountId();
    const event = textEvent(accountId, { from: '5511987650005', wamid: 'wamid.MISMATCH', timestamp: T0 });
    (event.detail as { contact: unknown }).contact = { wa_id: '5511987650009', profile: { name: 'Someone Else' } };
    await consume(event);
    const conversation = await repo.getConversation(refOf(accountId, '5511987650005'));
    expect(conversation).toMatchObject({ waId: '5511987650005', unreadCount: 1 });
    expect(conversation?.contactName).toBeUndefined();
    expect(await repo.getConversation(refOf(accountId, '5511987650009'))).toBeUndefined();
  });

  it('adds the entry\'s name and BSUID when it is the sender\'s, and lets the entry stand in for a placeholder `from`', async () => {
    const accountId = newAccountId();
    const matching = textEvent(accountId, { from: MARIA, wamid: 'wamid.MATCH', timestamp: T0 });
    (matching.detail as { contact: unknown }).contact = { wa_id: MARIA, user_id: 'BR.1502576394655843', profile: { name: 'Maria Souza' } };
    const placeholder = received(accountId, 'wamid.PLACEHOLDER', T0 + 5, { type: 'text', text: { body: 'oi' } }, '<WHATSAPP_USER_PHONE_NUMBER>');
    (placeholder.detail as { contact: unknown }).contact = { wa_id: ANA, profile: { name: 'Ana Lima' } };
    await consume(matching, placeholder);
    expect(await repo.getConversation(refOf(accountId, MARIA))).toMatchObject({ contactName: 'Maria Souza', userId: 'BR.1502576394655843' });
    expect(await repo.getConversation(refOf(accountId, ANA))).toMatchObject({ contactName: 'Ana Lima', unreadCount: 1 });
  });
});

describe('automations never answer echoes, history, edits, deletions or groups', () => {
  it('sends nothing for them while answering the same words in a one-to-one message', async () => {
    const adapters = adaptersFor(table);
    const account = await newAccount(adapters, { chatbotSessions: 10 });
    const accountId = account.accountId;
    const n = String(Date.now() % 1_000_000).padStart(6, '0');
    const number = { whatsapp_phno: `1556${n}01`, phoneNumberId: `6${n}01`, wabaId: `5${n}01` };
    await connectNumber(adapters, accountId, { name: 'Support', ...number }, `connect-${number.whatsapp_phno}`);
    await createAutomation({ ...adapters, automations: new DynamoAutomationRepository(table.doc, table.tableName) }, accountId, 'keywords', AUTOMATION_BODIES.keywords.parse({
      keywords: ['price'],
      action: { type: 'reply', text: 'Prices: example.com/prices' },
    }) as never);
    const sender = new RecordingSender();
    const automation = makeAutomationHandler(createAutomationDeps(table.doc, table.tableName, { messaging: sender, clock: systemClock, config: automationConfig({}) }));
    const now = Math.floor(Date.now() / 1000);
    const onNumber = (event: Envelope) => {
      Object.assign(event.detail, { whatsapp_phno: number.whatsapp_phno, phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, accountId });
      return event;
    };
    const echo = onNumber(recorded(accountId, { source: 'business_app', direction: 'out', wamid: `wamid.${randomUUID()}`, at: now, text: 'price' }));
    const history = onNumber(recorded(accountId, { source: 'history', direction: 'in', wamid: `wamid.${randomUUID()}`, at: now, text: 'price' }));
    const edit = onNumber(editOf(accountId, 'wamid.SOME', `wamid.${randomUUID()}`, now, 'price'));
    const revoke = onNumber(revokeOf(accountId, 'wamid.SOME', `wamid.${randomUUID()}`, now));
    const group = onNumber(received(accountId, `wamid.${randomUUID()}`, now, { group_id: GROUP, type: 'text', text: { body: 'price' } }, ANA));

    // The automation rule never routes recorded messages; were one delivered, its consumer ignores it.
    expect(parseAutomationRecord(JSON.stringify(echo)).kind).toBe('ignored');
    const results = await automation(sqsBatch([echo, history, edit, revoke, group]), {} as Context);
    expect(results.batchItemFailures).toEqual([]);
    expect(sender.texts).toEqual([]);
    // The group's message keeps why nothing answered it.
    await consume(group);
    const { items: [stored] } = await repo.listMessages({ accountId, whatsappPhno: number.whatsapp_phno, contactKey: groupContactKey(GROUP) }, { limit: 10 });
    expect(stored?.automation?.reason).toContain('group');

    await automation(sqsBatch([onNumber(textEvent(accountId, { from: MARIA, text: 'price', timestamp: now }))]), {} as Context);
    expect(sender.texts.map((t) => t.text)).toEqual(['Prices: example.com/prices']);
  });
});
