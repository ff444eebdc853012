/**
 * One send path for agents and automations (`functions/core/replies.ts`), and
 * the inbox facts automations read and write, on DynamoDB Local: an agent's
 * reply marks the conversation and clears its flag, an automation's does not;
 * the 24-hour window holds for everything but templates; what automations
 * write before the inbox consumer (an assignment, a flag, a decision, a
 * reply) survives its later writes; agents send reply material through the
 * API, placeholders filled.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoTemplateRepository } from '../../functions/adapters/dynamo/template-repository.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { topUpCredits } from '../../functions/core/accounts.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import type { ConversationRef } from '../../functions/core/inbox-ports.js';
import { EXAMPLE_RATE_CARD, priceOf } from '../../functions/core/pricing.js';
import { type OutgoingMessage, type ReplyDeps, replyTo } from '../../functions/core/replies.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import type { AutomationDecision, ReplyContent } from '../../schemas/automations.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { agentFor } from '../support/access.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender, putNumber, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let sender: RecordingSender;
let inbox: DynamoInboxRepository;
let automations: DynamoAutomationRepository;
let deps: ReturnType<typeof adaptersFor>;
let replyDeps: ReplyDeps;

beforeAll(async () => {
  table = await createTestTable('replies');
  sender = new RecordingSender();
  const clock = { now: () => new Date() };
  inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
  automations = new DynamoAutomationRepository(table.doc, table.tableName);
  deps = adaptersFor(table);
  replyDeps = { inbox, messaging: sender, clock };
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: sender }));
});

const send = (request: ApiRequest) => call(api, request);
/** The account's agent: a seat in a team covering every number (per-number access). */
const agent = (accountId: string) => agentFor(send, accountId);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const CONTACT = '16505550002';
const CONVERSATION_ID = `${NUMBERS.default.whatsapp_phno}_${CONTACT}`;

async function accountWithNumbers() {
  const { accountId } = await newAccount(deps);
  await putNumber(table, accountId, NUMBERS.default, true, 'Support');
  await putNumber(table, accountId, NUMBERS.vendas, false, 'Vendas');
  return accountId;
}

const refOf = (accountId: string, whatsappPhno: string = NUMBERS.default.whatsapp_phno): ConversationRef => ({ accountId, whatsappPhno, contactKey: CONTACT });

async function inbound(accountId: string, options: { timestamp?: number; wamid?: string; text?: string; name?: string } = {}) {
  const event = textEvent(accountId, { from: CONTACT, ...options });
  await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(event)));
  return event;
}

async function conversationView(accountId: string) {
  const res = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId) });
  expect(res.status).toBe(200);
  return res.body.items.find((c: any) => c.conversationId === CONVERSATION_ID);
}

async function messagesView(accountId: string) {
  const res = await send({ method: 'GET', path: `/v1/conversations/${CONVERSATION_ID}/messages`, as: await agent(accountId) });
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

function decision(reason: string): AutomationDecision {
  return {
    decidedBy: 'keyword',
    reason,
    automation: { kind: 'keywords', id: 'kw_test' },
    replies: [{ wamid: 'wamid.OUT_1', outcome: 'sent', preview: 'Olá!' }],
    decidedAt: new Date().toISOString(),
  };
}

async function material(accountId: string, content: ReplyContent, whatsappPhno?: string) {
  const id = `rm_${Math.random().toString(36).slice(2, 12)}`;
  const at = new Date().toISOString();
  await automations.create({
    accountId,
    kind: 'reply-material',
    id,
    body: { name: `Material ${id}`, content, scope: whatsappPhno ? { whatsapp_phno: whatsappPhno } : {} },
    createdAt: at,
    updatedAt: at,
  });
  return id;
}

const sentCount = () => sender.texts.length + sender.templates.length + sender.interactives.length + sender.media.length;

describe('agent and automation replies', () => {
  it('an agent reply sets lastAgentReplyAt and clears needsAgent', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const flaggedAt = new Date(Date.now() - 1000).toISOString();
    await inbox.flagForAgent(refOf(accountId), 'retries exhausted', flaggedAt);
    expect(await conversationView(accountId)).toMatchObject({ lastAgentReplyAt: null, needsAgent: { reason: 'retries exhausted', at: flaggedAt } });

    const before = new Date().toISOString();
    const res = await send({ method: 'POST', path: `/v1/conversations/${CONVERSATION_ID}/messages`, as: await agent(accountId), body: { text: 'Oi, sou a Ana' } });
    expect(res.status).toBe(202);
    const view = await conversationView(accountId);
    expect(view.needsAgent).toBeNull();
    expect(view.lastAgentReplyAt >= before).toBe(true);
    expect(view.lastMessagePreview).toBe('Oi, sou a Ana');
  });

  it('an automation reply neither sets lastAgentReplyAt nor clears needsAgent', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const flaggedAt = new Date(Date.now() - 1000).toISOString();
    await inbox.flagForAgent(refOf(accountId), 'too many automatic replies', flaggedAt);
    const outcome = await replyTo(replyDeps, refOf(accountId), { type: 'text', text: 'Resposta automática' }, { by: 'automation' });
    expect(outcome).toMatchObject({ outcome: 'sent' });
    expect(sender.texts.at(-1)).toEqual({ phoneNumberId: NUMBERS.default.phoneNumberId, to: CONTACT, text: 'Resposta automática' });
    expect(await conversationView(accountId)).toMatchObject({
      lastAgentReplyAt: null,
      needsAgent: { reason: 'too many automatic replies', at: flaggedAt },
      lastMessagePreview: 'Resposta automática',
    });
  });

  it('a flag older than the last agent reply changes nothing; the first flag stands; lastAgentReplyAt only moves forward', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const ref = refOf(accountId);
    const t = Date.now();
    const iso = (offset: number) => new Date(t + offset).toISOString();
    await inbox.markAgentReply(ref, iso(0));
    await inbox.flagForAgent(ref, 'stale', iso(-1000));
    expect((await inbox.getConversation(ref))?.needsAgent).toBeUndefined();
    await inbox.flagForAgent(ref, 'first', iso(1000));
    await inbox.flagForAgent(ref, 'second', iso(2000));
    expect((await inbox.getConversation(ref))?.needsAgent).toEqual({ reason: 'first', at: iso(1000) });
    // An agent reply recorded late (before the flag) leaves the flag and the later reply time alone.
    await inbox.markAgentReply(ref, iso(500));
    await inbox.markAgentReply(ref, iso(-500));
    expect(await inbox.getConversation(ref)).toMatchObject({ lastAgentReplyAt: iso(500), needsAgent: { reason: 'first' } });
    await inbox.markAgentReply(ref, iso(3000));
    const after = await inbox.getConversation(ref);
    expect(after?.lastAgentReplyAt).toBe(iso(3000));
    expect(after?.needsAgent).toBeUndefined();
  });

  it('refuses a free-form reply outside the window with WINDOW_CLOSED, sending and storing nothing', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { timestamp: nowSeconds() - 25 * 3600 });
    const before = sentCount();
    const messages: OutgoingMessage[] = [
      { type: 'text', text: 'tarde demais' },
      { type: 'buttons', text: 'Escolha', buttons: [{ id: 'a', title: 'A' }] },
      { type: 'image', url: 'https://cdn.example.com/a.jpg' },
    ];
    for (const message of messages) {
      expect(await replyTo(replyDeps, refOf(accountId), message, { by: 'automation' })).toEqual({ outcome: 'WINDOW_CLOSED' });
    }
    // The window of the message being answered, when given, decides instead of the stored one.
    const closed = new Date(Date.now() - 1000).toISOString();
    expect(await replyTo(replyDeps, refOf(accountId), { type: 'text', text: 'x' }, { by: 'automation', windowOpenUntil: closed })).toEqual({ outcome: 'WINDOW_CLOSED' });
    expect(sentCount()).toBe(before);
    expect((await messagesView(accountId)).map((m) => m.direction)).toEqual(['in']);
  });

  it('sends a template with the window closed, recorded with its name', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { timestamp: nowSeconds() - 25 * 3600 });
    const outcome = await replyTo(replyDeps, refOf(accountId), { type: 'template', name: 'retomar_conversa', language: 'pt_BR' }, { by: 'automation' });
    expect(outcome).toMatchObject({ outcome: 'sent' });
    expect(sender.templates.at(-1)).toEqual({ phoneNumberId: NUMBERS.default.phoneNumberId, to: CONTACT, template: { name: 'retomar_conversa', language: 'pt_BR' } });
    expect((await messagesView(accountId)).at(-1)).toMatchObject({ direction: 'out', type: 'template', text: '[template] retomar_conversa', status: 'accepted' });
  });

  it('records buttons, lists, images and documents with a readable text and their type', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const ref = refOf(accountId);
    const messages: OutgoingMessage[] = [
      { type: 'buttons', text: 'Quer falar com vendas?', buttons: [{ id: 'y', title: 'Sim' }, { id: 'n', title: 'Não' }] },
      { type: 'list', text: 'Escolha a loja', buttonText: 'Lojas', rows: [{ id: 'cps', title: 'Campinas' }] },
      { type: 'image', url: 'https://cdn.example.com/menu.jpg', caption: 'Cardápio' },
      { type: 'image', url: 'https://cdn.example.com/menu.jpg' },
      { type: 'document', url: 'https://cdn.example.com/precos.pdf', filename: 'precos.pdf' },
    ];
    for (const message of messages) expect(await replyTo(replyDeps, ref, message, { by: 'automation', bizOpaqueCallbackData: 'auto:test' })).toMatchObject({ outcome: 'sent' });
    expect(sender.interactives.slice(-2)).toEqual([
      {
        phoneNumberId: NUMBERS.default.phoneNumberId,
        to: CONTACT,
        interactive: { type: 'buttons', body: 'Quer falar com vendas?', buttons: [{ id: 'y', title: 'Sim' }, { id: 'n', title: 'Não' }] },
        bizOpaqueCallbackData: 'auto:test',
      },
      {
        phoneNumberId: NUMBERS.default.phoneNumberId,
        to: CONTACT,
        interactive: { type: 'list', body: 'Escolha a loja', buttonText: 'Lojas', rows: [{ id: 'cps', title: 'Campinas' }] },
        bizOpaqueCallbackData: 'auto:test',
      },
    ]);
    expect(sender.media.at(-1)).toMatchObject({ media: { type: 'document', link: 'https://cdn.example.com/precos.pdf', filename: 'precos.pdf' } });
    expect((await messagesView(accountId)).slice(1).map((m) => [m.type, m.text])).toEqual([
      ['interactive', 'Quer falar com vendas?'],
      ['interactive', 'Escolha a loja'],
      ['image', 'Cardápio'],
      ['image', '[image]'],
      ['document', '[document] precos.pdf'],
    ]);
  });

  it('with a target, an automation replies before the inbox consumer wrote the conversation, and the inbound write keeps the reply', async () => {
    const accountId = await accountWithNumbers();
    const ref = refOf(accountId);
    const t = nowSeconds();
    const windowOpenUntil = new Date((t + 86_400) * 1000).toISOString();
    const outcome = await replyTo(
      replyDeps,
      ref,
      { type: 'text', text: 'Bem-vindo!' },
      { by: 'automation', target: { phoneNumberId: NUMBERS.default.phoneNumberId, to: CONTACT, identity: { contactKey: CONTACT, waId: CONTACT } }, windowOpenUntil },
    );
    expect(outcome).toMatchObject({ outcome: 'sent' });
    await inbound(accountId, { timestamp: t, text: 'oi' });
    const view = await conversationView(accountId);
    expect(view).toMatchObject({ unreadCount: 1, lastMessagePreview: 'Bem-vindo!', windowOpenUntil, lastAgentReplyAt: null, contactName: 'Maria Souza' });
    expect((await messagesView(accountId)).map((m) => [m.direction, m.text])).toEqual([
      ['in', 'oi'],
      ['out', 'Bem-vindo!'],
    ]);
  });
});

describe('automation facts beside the inbox consumer', () => {
  it('keeps a decision recorded before the inbox consumer writes the message, and the message', async () => {
    const accountId = await accountWithNumbers();
    const ref = refOf(accountId);
    const t = nowSeconds();
    const wamid = 'wamid.DECIDED_FIRST';
    await inbox.recordDecision(ref, wamid, new Date(t * 1000).toISOString(), decision('decided before the inbox'));
    // Not a message yet: listings skip the placeholder.
    expect((await inbox.listMessages(ref, { limit: 10 })).items).toEqual([]);
    await inbound(accountId, { wamid, timestamp: t, text: 'preço' });
    const [message] = await messagesView(accountId);
    expect(message).toMatchObject({ wamid, direction: 'in', type: 'text', text: 'preço', status: 'received' });
    expect(message.automation).toMatchObject({ decidedBy: 'keyword', reason: 'decided before the inbox', automation: { kind: 'keywords', id: 'kw_test' } });
    // A redelivery is still a duplicate, and keeps the decision.
    expect(await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from: CONTACT, wamid, timestamp: t, text: 'preço' }))))).toBe('duplicate');
    expect((await conversationView(accountId)).unreadCount).toBe(1);
    expect((await messagesView(accountId))[0].automation.reason).toBe('decided before the inbox');
  });

  it('keeps the message when the decision is recorded after it', async () => {
    const accountId = await accountWithNumbers();
    const ref = refOf(accountId);
    const t = nowSeconds();
    await inbound(accountId, { wamid: 'wamid.DECIDED_AFTER', timestamp: t, text: 'horário?' });
    await inbox.recordDecision(ref, 'wamid.DECIDED_AFTER', new Date(t * 1000).toISOString(), decision('decided after the inbox'));
    const [message] = await messagesView(accountId);
    expect(message).toMatchObject({ wamid: 'wamid.DECIDED_AFTER', text: 'horário?', status: 'received', automation: { reason: 'decided after the inbox' } });
    const { automation: _shown, ...rest } = message;
    expect(Object.keys(rest).sort()).toEqual(['direction', 'source', 'status', 'text', 'timestamp', 'type', 'wamid']);
  });

  it('keeps both when the decision and the inbound write race', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds();
    await Promise.all([
      inbound(accountId, { wamid: 'wamid.RACE', timestamp: t, text: 'corrida' }),
      inbox.recordDecision(refOf(accountId), 'wamid.RACE', new Date(t * 1000).toISOString(), decision('raced')),
    ]);
    expect((await messagesView(accountId))[0]).toMatchObject({ text: 'corrida', automation: { reason: 'raced' } });
  });

  it('keeps an assignment (and a flag) made before the conversation exists through the inbound write', async () => {
    const accountId = await accountWithNumbers();
    const ref = refOf(accountId);
    const team = await send({ method: 'POST', path: '/v1/teams', as: { role: 'admin', accountId }, body: { name: 'Vendas' } });
    const assigned = await inbox.assignTeam(ref, team.body.teamId, 'usr_ana');
    expect(assigned).toMatchObject({ assignedTeamId: team.body.teamId, assignedUserId: 'usr_ana', unreadCount: 0 });
    const flaggedAt = new Date().toISOString();
    await inbox.flagForAgent(ref, 'chatbot quota reached', flaggedAt);
    // Not listed before a message made it a conversation.
    expect(await conversationView(accountId)).toBeUndefined();
    await inbound(accountId, { text: 'quero comprar' });
    expect(await conversationView(accountId)).toMatchObject({
      assignedTeamId: team.body.teamId,
      assignedUserId: 'usr_ana',
      needsAgent: { reason: 'chatbot quota reached', at: flaggedAt },
      unreadCount: 1,
      lastMessagePreview: 'quero comprar',
      contactName: 'Maria Souza',
    });
  });

  it('reads the contact for placeholders', async () => {
    const accountId = await accountWithNumbers();
    expect(await inbox.getContact(refOf(accountId))).toBeUndefined();
    await inbound(accountId, { name: 'Joana' });
    expect(await inbox.getContact(refOf(accountId))).toMatchObject({ name: 'Joana', waId: CONTACT, attributes: { whatsapp_phno: NUMBERS.default.whatsapp_phno } });
  });
});

describe('POST /v1/conversations/{id}/assign with a user', () => {
  it('hands the conversation to a user of the account, and clears them when assigned to a team alone', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const admin = { role: 'admin' as const, accountId };
    const team = await send({ method: 'POST', path: '/v1/teams', as: admin, body: { name: 'Suporte' } });
    const user = await send({ method: 'POST', path: '/v1/users', as: { role: 'owner', accountId }, body: { email: `ana-${accountId}@example.com`, role: 'agent' } });
    expect(user.status).toBe(201);
    // An assignee must see the conversation's number: a member of a team covering every number.
    expect((await send({ method: 'PUT', path: `/v1/teams/${team.body.teamId}/members`, as: admin, body: { userIds: [user.body.userId] } })).status).toBe(200);
    const path = `/v1/conversations/${CONVERSATION_ID}/assign`;
    const withUser = await send({ method: 'POST', path, as: await agent(accountId), body: { teamId: team.body.teamId, userId: user.body.userId } });
    expect(withUser.status).toBe(200);
    expect(withUser.body).toMatchObject({ assignedTeamId: team.body.teamId, assignedUserId: user.body.userId });
    const unknownUser = await send({ method: 'POST', path, as: await agent(accountId), body: { teamId: team.body.teamId, userId: 'usr_nobody' } });
    expect(unknownUser.status).toBe(404);
    const teamOnly = await send({ method: 'POST', path, as: await agent(accountId), body: { teamId: team.body.teamId } });
    expect(teamOnly.body).toMatchObject({ assignedTeamId: team.body.teamId, assignedUserId: null });
  });
});

describe('POST /v1/conversations/{id}/messages {replyMaterialId}', () => {
  const path = `/v1/conversations/${CONVERSATION_ID}/messages`;

  it('sends a text material with its placeholders filled for the contact', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { name: 'Joana' });
    const id = await material(accountId, { type: 'text', text: 'Olá {{name|cliente}}, aqui é a loja {{whatsapp_phno}}. Plano: {{attributes.plan|nenhum}}' });
    const res = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: id } });
    expect(res.status).toBe(202);
    const text = `Olá Joana, aqui é a loja ${NUMBERS.default.whatsapp_phno}. Plano: nenhum`;
    expect(sender.texts.at(-1)).toEqual({ phoneNumberId: NUMBERS.default.phoneNumberId, to: CONTACT, text });
    expect((await messagesView(accountId)).at(-1)).toMatchObject({ wamid: res.body.wamid, direction: 'out', type: 'text', text });
    expect((await conversationView(accountId)).lastAgentReplyAt).not.toBeNull();
  });

  it('sends an image material by link with its caption rendered', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { name: 'Joana' });
    const id = await material(accountId, { type: 'image', url: 'https://cdn.example.com/menu.jpg', caption: 'Cardápio para {{name}}' });
    const res = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: id } });
    expect(res.status).toBe(202);
    expect(sender.media.at(-1)).toEqual({
      phoneNumberId: NUMBERS.default.phoneNumberId,
      to: CONTACT,
      media: { type: 'image', link: 'https://cdn.example.com/menu.jpg', caption: 'Cardápio para Joana' },
    });
    expect((await messagesView(accountId)).at(-1)).toMatchObject({ type: 'image', text: 'Cardápio para Joana' });
  });

  it('sends a template material with the window closed, parameters rendered, charged by the rate card; a text material is refused 409', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { name: 'Joana', timestamp: nowSeconds() - 25 * 3600 });
    // Approved on the number, paid from the pool like a broadcast message (docs/quotas.md, "Single sends").
    const templates = new DynamoTemplateRepository(table.doc, table.tableName);
    const at = new Date().toISOString();
    const key = { accountId, name: 'retomar_conversa', language: 'pt_BR' };
    await templates.createIfAbsent({ ...key, category: 'UTILITY', components: [], numbers: {}, wabas: {}, createdAt: at, updatedAt: at });
    await templates.applyMetaStatus(key, { whatsappPhno: NUMBERS.default.whatsapp_phno, wabaId: NUMBERS.default.wabaId, status: 'APPROVED', occurredAt: at }, at);
    await topUpCredits(deps, accountId, 1_000_000, `topup-${accountId}`);
    const template = await material(accountId, {
      type: 'template',
      name: 'retomar_conversa',
      language: 'pt_BR',
      components: [{ type: 'body', parameters: [{ type: 'text', text: '{{name}}' }] }],
    });
    const res = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: template } });
    expect(res.status).toBe(202);
    expect(sender.templates.at(-1)).toEqual({
      phoneNumberId: NUMBERS.default.phoneNumberId,
      to: CONTACT,
      template: { name: 'retomar_conversa', language: 'pt_BR', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Joana' }] }] },
    });
    expect(await deps.accounts.balance(accountId)).toBe(1_000_000 - priceOf(EXAMPLE_RATE_CARD, 'UTILITY', CONTACT));
    const text = await material(accountId, { type: 'text', text: 'Oi {{name}}' });
    const before = sentCount();
    const refused = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: text } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('WINDOW_CLOSED');
    expect(sentCount()).toBe(before);
  });

  it('answers 400 naming the field for both or neither of text and replyMaterialId, 404 for unknown material, 400 for another number\'s rule', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId);
    const both = await send({ method: 'POST', path, as: await agent(accountId), body: { text: 'x', replyMaterialId: 'rm_abc' } });
    expect(both.status).toBe(400);
    expect(both.body.error.issues[0].path).toEqual(['body', 'replyMaterialId']);
    const neither = await send({ method: 'POST', path, as: await agent(accountId), body: {} });
    expect(neither.status).toBe(400);
    expect(neither.body.error.issues[0].path).toEqual(['body', 'text']);
    const unknown = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: 'rm_doesnotexist' } });
    expect(unknown.status).toBe(404);
    const otherNumber = await material(accountId, { type: 'text', text: 'só vendas' }, NUMBERS.vendas.whatsapp_phno);
    const scoped = await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: otherNumber } });
    expect(scoped.status).toBe(400);
    expect(scoped.body.error.issues[0].path).toEqual(['body', 'replyMaterialId']);
    const ownNumber = await material(accountId, { type: 'text', text: 'só suporte' }, NUMBERS.default.whatsapp_phno);
    expect((await send({ method: 'POST', path, as: await agent(accountId), body: { replyMaterialId: ownNumber } })).status).toBe(202);
  });

  it('never reads another account\'s material', async () => {
    const owner = await accountWithNumbers();
    const other = await accountWithNumbers();
    await inbound(other);
    const id = await material(owner, { type: 'text', text: 'segredo' });
    const res = await send({ method: 'POST', path, as: await agent(other), body: { replyMaterialId: id } });
    expect(res.status).toBe(404);
  });
});
