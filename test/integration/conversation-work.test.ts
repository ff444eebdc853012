/**
 * Working a conversation through the API router on DynamoDB Local: statuses
 * (snooze expiry, inbound reopen, late messages), filters and search, notes,
 * contact edits, read receipts and typing (issue 18).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, NUMBERS, RecordingSender, putNumber, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let sender: RecordingSender;
let repo: DynamoInboxRepository;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('conversation-work');
  sender = new RecordingSender();
  repo = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  deps = adaptersFor(table);
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: sender }));
});

const send = (request: ApiRequest) => call(api, request);
const admin = (accountId: string) => ({ role: 'admin' as const, accountId, userId: 'usr_me000001' });
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function account() {
  const { accountId } = await newAccount(deps);
  await putNumber(table, accountId, NUMBERS.default, true, 'Support');
  await putNumber(table, accountId, NUMBERS.vendas, false, 'Vendas');
  return accountId;
}

async function inbound(accountId: string, options: { from: string; number?: FixtureNumber; text?: string; timestamp?: number; wamid?: string; name?: string }) {
  const event = textEvent(accountId, options);
  await processInboxEvent({ inbox: repo }, parseInboxRecord(JSON.stringify(event)));
  return (event.detail as { message: { id: string } }).message.id;
}

const idOf = (number: FixtureNumber, from: string) => `${number.whatsapp_phno}_${from}`;
const status = (accountId: string, id: string, body: unknown) => send({ method: 'POST', path: `/v1/conversations/${id}/status`, as: admin(accountId), body });
const get = async (accountId: string, id: string) => {
  const res = await send({ method: 'GET', path: '/v1/conversations', as: admin(accountId), query: { limit: '100' } });
  return res.body.items.find((c: any) => c.conversationId === id);
};
const list = async (accountId: string, query: Record<string, string>) => {
  const res = await send({ method: 'GET', path: '/v1/conversations', as: admin(accountId), query: { limit: '100', ...query } });
  expect(res.status).toBe(200);
  return res.body.items.map((c: any) => c.conversationId).sort();
};

describe('status', () => {
  it('starts open and moves through every status; snoozed needs a future snoozedUntil', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650001' });
    const id = idOf(NUMBERS.default, '5511987650001');
    expect(await get(accountId, id)).toMatchObject({ status: 'open', snoozedUntil: null });
    for (const s of ['pending', 'resolved', 'open'] as const) {
      const res = await status(accountId, id, { status: s });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: s, statusChangedBy: 'usr_me000001' });
    }
    const missing = await status(accountId, id, { status: 'snoozed' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('snoozedUntil');
    const past = await status(accountId, id, { status: 'snoozed', snoozedUntil: new Date(Date.now() - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(JSON.stringify(past.body)).toContain('snoozedUntil');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snoozed = await status(accountId, id, { status: 'snoozed', snoozedUntil: until });
    expect(snoozed.body).toMatchObject({ status: 'snoozed', snoozedUntil: until });
    expect(await list(accountId, { status: 'snoozed' })).toEqual([id]);
    expect(await list(accountId, { status: 'open' })).toEqual([]);
    const unknown = await status(accountId, idOf(NUMBERS.default, '5511987650099'), { status: 'resolved' });
    expect(unknown.status).toBe(404);
  });

  it('reads a snooze whose time passed as open, and filters it as open', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650002' });
    const id = idOf(NUMBERS.default, '5511987650002');
    await status(accountId, id, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 1500).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect(await get(accountId, id)).toMatchObject({ status: 'open' });
    expect(await list(accountId, { status: 'open' })).toEqual([id]);
    expect(await list(accountId, { status: 'snoozed' })).toEqual([]);
  });

  it('a new inbound message reopens a resolved conversation; a late older one does not', async () => {
    const accountId = await account();
    const t = nowSeconds();
    await inbound(accountId, { from: '5511987650003', timestamp: t - 100 });
    const id = idOf(NUMBERS.default, '5511987650003');
    await status(accountId, id, { status: 'resolved' });
    await inbound(accountId, { from: '5511987650003', timestamp: t - 50 });
    expect(await get(accountId, id)).toMatchObject({ status: 'resolved' });
    await inbound(accountId, { from: '5511987650003', timestamp: t + 5 });
    expect(await get(accountId, id)).toMatchObject({ status: 'open', statusChangedBy: 'system:inbound-message' });
  });

  it('concurrent status changes and an inbound reopen end consistent', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650004', timestamp: nowSeconds() - 10 });
    const id = idOf(NUMBERS.default, '5511987650004');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await Promise.all([
      status(accountId, id, { status: 'resolved' }),
      status(accountId, id, { status: 'snoozed', snoozedUntil: until }),
      status(accountId, id, { status: 'pending' }),
      inbound(accountId, { from: '5511987650004', timestamp: nowSeconds() + 2 }),
    ]);
    const view = await get(accountId, id);
    expect(['open', 'pending', 'resolved', 'snoozed']).toContain(view.status);
    expect(view.snoozedUntil === null).toBe(view.status !== 'snoozed');
    if (view.status === 'open') expect(view.statusChangedBy).toBe('system:inbound-message');
  });
});

describe('assign and filters', () => {
  it('filters by assignee, team, unread, number and search, with pagination', async () => {
    const accountId = await account();
    const team = await send({ method: 'POST', path: '/v1/teams', as: admin(accountId), body: { name: 'Support' } });
    expect(team.status).toBeLessThan(300);
    const teamId = team.body.teamId;
    await inbound(accountId, { from: '5511987650011', name: 'María Souza' });
    await inbound(accountId, { from: '5511987650012', name: 'João Lima' });
    await inbound(accountId, { from: '16505550013', number: NUMBERS.vendas, name: 'Ana Pereira' });
    const [a, b, c] = [idOf(NUMBERS.default, '5511987650011'), idOf(NUMBERS.default, '5511987650012'), idOf(NUMBERS.vendas, '16505550013')];
    const assigned = await send({ method: 'POST', path: `/v1/conversations/${a}/assign`, as: admin(accountId), body: { teamId } });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ assignedTeamId: teamId, assignedUserId: null });
    await send({ method: 'POST', path: `/v1/conversations/${b}/read`, as: admin(accountId) });

    expect(await list(accountId, { teamId })).toEqual([a]);
    expect(await list(accountId, { assignee: 'none' })).toEqual([a, b, c].sort());
    expect(await list(accountId, { unread: 'true' })).toEqual([a, c].sort());
    expect(await list(accountId, { unread: 'false' })).toEqual([b]);
    expect(await list(accountId, { q: 'maria' })).toEqual([a]);
    expect(await list(accountId, { q: 'LIMA' })).toEqual([b]);
    expect(await list(accountId, { q: '+55 11 98765-0012' })).toEqual([b]);
    expect(await list(accountId, { q: '1650555' })).toEqual([c]);
    expect(await list(accountId, { q: '5511', whatsapp_phno: NUMBERS.default.whatsapp_phno, unread: 'true' })).toEqual([a]);

    const unassign = await send({ method: 'POST', path: `/v1/conversations/${a}/assign`, as: admin(accountId), body: { teamId: null, userId: null } });
    expect(unassign.body).toMatchObject({ assignedTeamId: null, assignedUserId: null });
    const empty = await send({ method: 'POST', path: `/v1/conversations/${a}/assign`, as: admin(accountId), body: {} });
    expect(empty.status).toBe(400);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await send({ method: 'GET', path: '/v1/conversations', as: admin(accountId), query: { limit: '1', status: 'open', ...(cursor ? { cursor } : {}) } });
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: any) => i.conversationId));
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([a, b, c].sort());
  });

  it('an empty number set lists nothing', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650021' });
    expect(await repo.listConversations(accountId, { whatsappPhnos: [] }, { limit: 10 })).toEqual({ items: [], nextCursor: null });
    expect((await repo.listConversations(accountId, { whatsappPhnos: [NUMBERS.default.whatsapp_phno, NUMBERS.vendas.whatsapp_phno] }, { limit: 10 })).items).toHaveLength(1);
  });
});

describe('notes', () => {
  it('adds notes (once per Idempotency-Key), lists them oldest first, never sends anything', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650031' });
    const id = idOf(NUMBERS.default, '5511987650031');
    const before = sender.texts.length;
    const first = await send({ method: 'POST', path: `/v1/conversations/${id}/notes`, as: admin(accountId), body: { text: 'VIP customer' }, headers: { 'idempotency-key': 'note-1' } });
    expect(first.status).toBe(201);
    expect(first.body.author.userId).toBe('usr_me000001');
    const again = await send({ method: 'POST', path: `/v1/conversations/${id}/notes`, as: admin(accountId), body: { text: 'VIP customer' }, headers: { 'idempotency-key': 'note-1' } });
    expect(again.body.noteId).toBe(first.body.noteId);
    await send({ method: 'POST', path: `/v1/conversations/${id}/notes`, as: admin(accountId), body: { text: 'second' } });
    const notes = await send({ method: 'GET', path: `/v1/conversations/${id}/notes`, as: admin(accountId) });
    expect(notes.body.items.map((n: any) => n.text)).toEqual(['VIP customer', 'second']);
    expect((await send({ method: 'POST', path: `/v1/conversations/${id}/notes`, as: admin(accountId), body: { text: '' } })).status).toBe(400);
    expect(sender.texts.length).toBe(before);
  });
});

describe('contact edits', () => {
  it('validates, merges attributes, deletes with null, keeps read-only keys, and the agent name wins', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650041', name: 'Maria', timestamp: nowSeconds() - 20 });
    const id = idOf(NUMBERS.default, '5511987650041');
    const patch = (body: unknown, contactId = id) => send({ method: 'PATCH', path: `/v1/contacts/${contactId}`, as: admin(accountId), body });
    const readOnly = await patch({ attributes: { ctwa_clid: 'x' } });
    expect(readOnly.status).toBe(400);
    expect(JSON.stringify(readOnly.body)).toContain('ctwa_clid');
    expect((await patch({ name: '' })).status).toBe(400);
    expect((await patch({ name: 'X' }, idOf(NUMBERS.default, '5511987650049'))).status).toBe(404);
    const edited = await patch({ name: 'Maria (VIP)', attributes: { plan: 'gold', city: 'SP' } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ contactId: id, name: 'Maria (VIP)', attributes: { plan: 'gold', city: 'SP', whatsapp_phno: NUMBERS.default.whatsapp_phno } });
    const merged = await patch({ attributes: { city: null, tier: 2 } });
    expect(merged.body.attributes).toEqual({ whatsapp_phno: NUMBERS.default.whatsapp_phno, plan: 'gold', tier: 2 });
    await inbound(accountId, { from: '5511987650041', name: 'Maria Profile', timestamp: nowSeconds() });
    expect((await get(accountId, id)).contactName).toBe('Maria (VIP)');
    expect(await list(accountId, { q: 'vip' })).toEqual([id]);
    const reset = await patch({ name: null });
    expect(reset.body).toMatchObject({ name: 'Maria Profile', nameEditedAt: null });
    expect((await get(accountId, id)).contactName).toBe('Maria Profile');
    const blocked = await patch({ blocked: true });
    expect(blocked.body.blocked).toBe(true);
    expect((await repo.getContact({ accountId, whatsappPhno: NUMBERS.default.whatsapp_phno, contactKey: '5511987650041' }))?.blocked).toBe(true);
  });
});

describe('read receipts and typing', () => {
  it('sends the receipt for the last inbound wamid from the conversation\'s number; none without inbound', async () => {
    const accountId = await account();
    const t = nowSeconds();
    await inbound(accountId, { from: '5511987650051', timestamp: t - 10 });
    const last = await inbound(accountId, { from: '5511987650051', timestamp: t - 5 });
    await inbound(accountId, { from: '5511987650051', timestamp: t - 8 });
    const other = await inbound(accountId, { from: '5511987650051', number: NUMBERS.vendas, timestamp: t - 1 });
    const res = await send({ method: 'POST', path: `/v1/conversations/${idOf(NUMBERS.default, '5511987650051')}/read`, as: admin(accountId) });
    expect(res.status).toBe(200);
    expect(res.headers['x-read-receipt']).toBe('sent');
    expect(sender.receipts.at(-1)).toEqual({ phoneNumberId: NUMBERS.default.phoneNumberId, wamid: last, typing: false });
    await send({ method: 'POST', path: `/v1/conversations/${idOf(NUMBERS.vendas, '5511987650051')}/read`, as: admin(accountId) });
    expect(sender.receipts.at(-1)).toEqual({ phoneNumberId: NUMBERS.vendas.phoneNumberId, wamid: other, typing: false });

    const typing = await send({ method: 'POST', path: `/v1/conversations/${idOf(NUMBERS.vendas, '5511987650051')}/typing`, as: admin(accountId) });
    expect(typing.status).toBe(202);
    expect(sender.receipts.at(-1)).toEqual({ phoneNumberId: NUMBERS.vendas.phoneNumberId, wamid: other, typing: true });

    const ref = { accountId, whatsappPhno: NUMBERS.default.whatsapp_phno, contactKey: '5511987650059' };
    await repo.assignTeam(ref, 'team_abcdef01');
    const count = sender.receipts.length;
    const none = await send({ method: 'POST', path: `/v1/conversations/${idOf(NUMBERS.default, '5511987650059')}/read`, as: admin(accountId) });
    expect(none.headers['x-read-receipt']).toBe('none');
    expect(sender.receipts.length).toBe(count);
  });

  it('a failed receipt leaves the read mark', async () => {
    const accountId = await account();
    await inbound(accountId, { from: '5511987650061' });
    sender.failReceiptsWith = new Error('graph down');
    try {
      const res = await send({ method: 'POST', path: `/v1/conversations/${idOf(NUMBERS.default, '5511987650061')}/read`, as: admin(accountId) });
      expect(res.status).toBe(200);
      expect(res.body.unreadCount).toBe(0);
      expect(res.headers['x-read-receipt']).toBe('failed');
    } finally {
      sender.failReceiptsWith = undefined;
    }
  });
});
