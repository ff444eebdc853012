/**
 * Contacts and the team inbox through the same router the Lambda runs
 * (docs/openapi.json), on DynamoDB Local: shapes, ordering,
 * cursors under concurrent arrivals, replies from the right number, and
 * account isolation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { WindowClosed } from '../../functions/core/errors.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { agentFor } from '../support/access.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, NUMBERS, RecordingSender, putNumber, statusEvent, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let sender: RecordingSender;
let repo: DynamoInboxRepository;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('inbox-api');
  sender = new RecordingSender();
  repo = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  deps = adaptersFor(table);
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: sender }));
});

const send = (request: ApiRequest) => call(api, request);
/** The account's agent: a seat in a team covering every number (per-number access). */
const agent = (accountId: string) => agentFor(send, accountId);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An account with the fixtures' three numbers connected. */
async function accountWithNumbers() {
  const { accountId } = await newAccount(deps);
  await putNumber(table, accountId, NUMBERS.default, true, 'Support');
  await putNumber(table, accountId, NUMBERS.vendas, false, 'Vendas');
  await putNumber(table, accountId, NUMBERS.secondWaba, false, 'Campinas');
  return accountId;
}

/** Delivers bus events to the inbox consumer's core, as the queue would. */
async function deliver(...events: ReturnType<typeof textEvent>[]) {
  for (const event of events) await processInboxEvent({ inbox: repo }, parseInboxRecord(JSON.stringify(event)));
}

async function inbound(accountId: string, options: { from: string; number?: FixtureNumber; text?: string; timestamp?: number; wamid?: string }) {
  await deliver(textEvent(accountId, options));
}

async function allPages(path: string, accountId: string, limit: number, between?: (page: number) => Promise<void>) {
  const items: any[] = [];
  let cursor: string | undefined;
  let page = 0;
  do {
    const res = await send({ method: 'GET', path, as: await agent(accountId), query: { limit: String(limit), ...(cursor ? { cursor } : {}) } });
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor ?? undefined;
    if (between) await between(++page);
  } while (cursor);
  return items;
}

describe('GET /v1/contacts', () => {
  it('lists the contacts of every number, each tagged with its number', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002', number: NUMBERS.default });
    await inbound(accountId, { from: '16505550002', number: NUMBERS.vendas });
    const res = await send({ method: 'GET', path: '/v1/contacts', as: await agent(accountId) });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((c: any) => c.attributes.whatsapp_phno).sort()).toEqual(['15550001001', '15550001002']);
    expect(Object.keys(res.body.items[0]).sort()).toEqual(['attributes', 'blocked', 'contactId', 'firstSeenAt', 'lastSeenAt', 'marketing', 'name', 'nameEditedAt', 'waId']);
    expect(res.body.items[0].marketing).toBeNull();
    expect(res.body.items[0]).toMatchObject({ waId: '16505550002', name: 'Maria Souza' });
  });

  it('narrows to one number with whatsapp_phno, accepting a formatted number', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002', number: NUMBERS.default });
    await inbound(accountId, { from: '5511987650001', number: NUMBERS.vendas });
    const res = await send({ method: 'GET', path: '/v1/contacts', as: await agent(accountId), query: { whatsapp_phno: '+1 555-000-1002' } });
    expect(res.body.items.map((c: any) => c.waId)).toEqual(['5511987650001']);
  });

  it('returns every contact exactly once across pages while new contacts arrive', async () => {
    const accountId = await accountWithNumbers();
    const initial = Array.from({ length: 7 }, (_, i) => `1650555${String(1000 + i)}`);
    for (const from of initial) await inbound(accountId, { from });
    const items = await allPages('/v1/contacts', accountId, 3, async (page) => {
      if (page <= 2) await inbound(accountId, { from: `1650555${String(2000 + page)}` });
    });
    const ids = items.map((c) => c.waId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const waId of initial) expect(ids.filter((id) => id === waId)).toHaveLength(1);
  });
});

describe('GET /v1/conversations', () => {
  it('lists every number\'s conversations newest first, in the documented shape', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds();
    await inbound(accountId, { from: '16505550002', number: NUMBERS.default, timestamp: t - 30, text: 'first' });
    await inbound(accountId, { from: '5511987650001', number: NUMBERS.secondWaba, timestamp: t - 10, text: 'third' });
    await inbound(accountId, { from: '16505550002', number: NUMBERS.vendas, timestamp: t - 20, text: 'second' });
    const res = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId) });
    expect(res.status).toBe(200);
    expect(res.body.items.map((c: any) => c.lastMessagePreview)).toEqual(['third', 'second', 'first']);
    expect(res.body.items[0]).toEqual({
      conversationId: '5511900001003_5511987650001',
      whatsapp_phno: '5511900001003',
      kind: 'direct',
      waId: '5511987650001',
      contactName: 'Maria Souza',
      lastMessageAt: new Date((t - 10) * 1000).toISOString(),
      lastMessagePreview: 'third',
      unreadCount: 1,
      assignedTeamId: null,
      assignedUserId: null,
      windowOpenUntil: new Date((t - 10) * 1000 + 86_400_000).toISOString(),
      lastAgentReplyAt: null,
      needsAgent: null,
      adReferral: null,
      freeEntryUntil: null,
      status: 'open',
      snoozedUntil: null,
      statusChangedAt: null,
      statusChangedBy: null,
    });
  });

  it('narrows to one number with whatsapp_phno', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002', number: NUMBERS.default });
    await inbound(accountId, { from: '16505550002', number: NUMBERS.vendas });
    const res = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId), query: { whatsapp_phno: '15550001002' } });
    expect(res.body.items.map((c: any) => c.conversationId)).toEqual(['15550001002_16505550002']);
  });

  it('moves a conversation to the top when a newer message arrives', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds();
    await inbound(accountId, { from: '16505550002', timestamp: t - 50 });
    await inbound(accountId, { from: '5511987650001', timestamp: t - 40 });
    await inbound(accountId, { from: '16505550002', timestamp: t - 5, text: 'back again' });
    const res = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId) });
    expect(res.body.items.map((c: any) => [c.waId, c.unreadCount])).toEqual([
      ['16505550002', 2],
      ['5511987650001', 1],
    ]);
  });

  it('never repeats a conversation across pages while messages move conversations to the top', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds() - 1000;
    const initial = Array.from({ length: 6 }, (_, i) => `1650555${String(3000 + i)}`);
    for (const [i, from] of initial.entries()) await inbound(accountId, { from, timestamp: t + i });
    const items = await allPages('/v1/conversations', accountId, 2, async (page) => {
      if (page === 1) {
        // A conversation already listed gets a message, and a new conversation starts: both go to the top.
        await inbound(accountId, { from: initial[5]!, timestamp: t + 100 });
        await inbound(accountId, { from: '16505559999', timestamp: t + 101 });
      }
    });
    const ids = items.map((c) => c.waId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice().sort()).toEqual(initial.slice().sort());
  });
});

describe('GET /v1/conversations/{conversationId}/messages', () => {
  it('lists messages oldest first in the documented shape', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds();
    await inbound(accountId, { from: '16505550002', timestamp: t - 2, text: 'one', wamid: 'wamid.M1' });
    await inbound(accountId, { from: '16505550002', timestamp: t - 1, text: 'two', wamid: 'wamid.M2' });
    const res = await send({ method: 'GET', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId) });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      { wamid: 'wamid.M1', direction: 'in', type: 'text', text: 'one', status: 'received', source: 'cloud_api', timestamp: new Date((t - 2) * 1000).toISOString() },
      { wamid: 'wamid.M2', direction: 'in', type: 'text', text: 'two', status: 'received', source: 'cloud_api', timestamp: new Date((t - 1) * 1000).toISOString() },
    ]);
  });

  it('returns every message exactly once across pages while new messages arrive', async () => {
    const accountId = await accountWithNumbers();
    const t = nowSeconds() - 500;
    const initial = Array.from({ length: 10 }, (_, i) => `wamid.PAGE_${i}`);
    for (const [i, wamid] of initial.entries()) await inbound(accountId, { from: '16505550002', timestamp: t + i, wamid });
    const arrived: string[] = [];
    const items = await allPages('/v1/conversations/15550001001_16505550002/messages', accountId, 3, async (page) => {
      if (page <= 3) {
        const wamid = `wamid.LATE_${page}`;
        arrived.push(wamid);
        await Promise.all([
          inbound(accountId, { from: '16505550002', timestamp: t + 100 + page, wamid }),
          send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId), body: { text: `reply ${page}` } }),
        ]);
      }
    });
    const wamids = items.map((m) => m.wamid);
    expect(new Set(wamids).size).toBe(wamids.length);
    for (const wamid of [...initial, ...arrived]) expect(wamids.filter((w) => w === wamid)).toHaveLength(1);
    expect(items.filter((m) => m.direction === 'out')).toHaveLength(3);
  });

  it('answers 404 for a conversation that does not exist', async () => {
    const accountId = await accountWithNumbers();
    const res = await send({ method: 'GET', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 400 for an id this API never issues', async () => {
    const accountId = await accountWithNumbers();
    const res = await send({ method: 'GET', path: '/v1/conversations/not-an-id/messages', as: await agent(accountId) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('POST /v1/conversations/{conversationId}/messages', () => {
  it('sends from the conversation\'s own number and stores the reply as accepted', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002', number: NUMBERS.default });
    await inbound(accountId, { from: '16505550002', number: NUMBERS.vendas });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001002_16505550002/messages', as: await agent(accountId), body: { text: 'Segue a lista de preços' } });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body)).toEqual(['wamid']);
    expect(sender.texts.at(-1)).toEqual({ phoneNumberId: NUMBERS.vendas.phoneNumberId, to: '16505550002', text: 'Segue a lista de preços' });
    const listed = await send({ method: 'GET', path: '/v1/conversations/15550001002_16505550002/messages', as: await agent(accountId) });
    expect(listed.body.items.at(-1)).toMatchObject({ wamid: res.body.wamid, direction: 'out', type: 'text', text: 'Segue a lista de preços', status: 'accepted' });
    const conversations = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId) });
    expect(conversations.body.items[0]).toMatchObject({ conversationId: '15550001002_16505550002', lastMessagePreview: 'Segue a lista de preços' });
  });

  it('replies to the address Meta gave, and statuses then move the reply forward', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '551187650009' }); // legacy Brazilian form: the contact is canonical, the reply goes where Meta said
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_5511987650009/messages', as: await agent(accountId), body: { text: 'Oi!' } });
    expect(res.status).toBe(202);
    expect(sender.texts.at(-1)!.to).toBe('551187650009');
    await deliver(statusEvent(accountId, { wamid: res.body.wamid, status: 'delivered', recipient: '551187650009' }));
    await deliver(statusEvent(accountId, { wamid: res.body.wamid, status: 'sent', recipient: '551187650009' }));
    const listed = await send({ method: 'GET', path: '/v1/conversations/15550001001_5511987650009/messages', as: await agent(accountId) });
    expect(listed.body.items.map((m: any) => [m.direction, m.status])).toEqual([
      ['in', 'received'],
      ['out', 'delivered'],
    ]);
  });

  it('answers 409 WINDOW_CLOSED more than 24 hours after the user last wrote, sending nothing', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002', timestamp: nowSeconds() - 25 * 3600 });
    const before = sender.texts.length;
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId), body: { text: 'late' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('WINDOW_CLOSED');
    expect(sender.texts).toHaveLength(before);
  });

  it('answers 409 WINDOW_CLOSED when Meta refuses with 131047, storing nothing', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002' });
    sender.failWith = new WindowClosed();
    try {
      const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId), body: { text: 'x' } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('WINDOW_CLOSED');
    } finally {
      sender.failWith = undefined;
    }
    const listed = await send({ method: 'GET', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId) });
    expect(listed.body.items.map((m: any) => m.direction)).toEqual(['in']);
  });

  it('answers 409 NUMBER_NOT_CONNECTED when the conversation\'s number is gone', async () => {
    const { accountId } = await newAccount(deps);
    await inbound(accountId, { from: '16505550002' });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId), body: { text: 'x' } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NUMBER_NOT_CONNECTED');
  });

  it('refuses an empty text with 400', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002' });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/messages', as: await agent(accountId), body: { text: '   ' } });
    expect(res.status).toBe(400);
  });
});

describe('assign and read', () => {
  it('assigns a conversation to a team of the account', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002' });
    const team = await send({ method: 'POST', path: '/v1/teams', as: { role: 'admin', accountId }, body: { name: 'Sales' } });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/assign', as: await agent(accountId), body: { teamId: team.body.teamId } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ conversationId: '15550001001_16505550002', assignedTeamId: team.body.teamId });
  });

  it('answers 404 for a team that does not exist', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002' });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/assign', as: await agent(accountId), body: { teamId: 'team_doesnotexist' } });
    expect(res.status).toBe(404);
  });

  it('marks a conversation read: unread goes to 0, and up again with the next message', async () => {
    const accountId = await accountWithNumbers();
    await inbound(accountId, { from: '16505550002' });
    await inbound(accountId, { from: '16505550002' });
    const res = await send({ method: 'POST', path: '/v1/conversations/15550001001_16505550002/read', as: await agent(accountId) });
    expect(res.status).toBe(200);
    expect(res.body.unreadCount).toBe(0);
    await inbound(accountId, { from: '16505550002' });
    const listed = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId) });
    expect(listed.body.items[0].unreadCount).toBe(1);
  });
});

describe('account isolation', () => {
  it('never shows another account\'s contacts, conversations or messages', async () => {
    const owner = await accountWithNumbers();
    const other = await accountWithNumbers();
    await inbound(owner, { from: '16505550002' });
    const team = await send({ method: 'POST', path: '/v1/teams', as: { role: 'admin', accountId: other }, body: { name: 'Other team' } });
    const id = '15550001001_16505550002';

    expect((await send({ method: 'GET', path: '/v1/contacts', as: await agent(other) })).body.items).toEqual([]);
    expect((await send({ method: 'GET', path: '/v1/conversations', as: await agent(other) })).body.items).toEqual([]);
    expect((await send({ method: 'GET', path: `/v1/conversations/${id}/messages`, as: await agent(other) })).status).toBe(404);
    expect((await send({ method: 'POST', path: `/v1/conversations/${id}/messages`, as: await agent(other), body: { text: 'x' } })).status).toBe(404);
    expect((await send({ method: 'POST', path: `/v1/conversations/${id}/assign`, as: await agent(other), body: { teamId: team.body.teamId } })).status).toBe(404);
    expect((await send({ method: 'POST', path: `/v1/conversations/${id}/read`, as: await agent(other) })).status).toBe(404);
    const untouched = await send({ method: 'GET', path: '/v1/conversations', as: await agent(owner) });
    expect(untouched.body.items[0]).toMatchObject({ unreadCount: 1, assignedTeamId: null });
  });

  it('refuses a cursor from another account\'s listing', async () => {
    const owner = await accountWithNumbers();
    const other = await accountWithNumbers();
    await inbound(owner, { from: '16505550002' });
    await inbound(owner, { from: '16505550003' });
    for (const path of ['/v1/conversations', '/v1/contacts']) {
      const first = await send({ method: 'GET', path, as: await agent(owner), query: { limit: '1' } });
      expect(first.body.nextCursor).toBeTruthy();
      const stolen = await send({ method: 'GET', path, as: await agent(other), query: { cursor: first.body.nextCursor } });
      expect(stolen.status).toBe(400);
      expect(stolen.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses a cursor that is not one', async () => {
    const accountId = await accountWithNumbers();
    const res = await send({ method: 'GET', path: '/v1/conversations', as: await agent(accountId), query: { cursor: 'bm9wZQ' } });
    expect(res.status).toBe(400);
  });
});
