/**
 * Per-number access through the API handler on DynamoDB Local
 * (functions/core/number-access.ts, functions/core/teams.ts): an agent sees,
 * answers, assigns and marks read only the conversations of the numbers their
 * teams cover; owners and admins see every number; team membership and
 * number limits are validated and dropped with their user or team.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { ACCOUNT_PARTITION } from '../../functions/adapters/dynamo/entities/index.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { agentSeat } from '../support/access.js';
import { type ApiRequest, type Caller, call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender, putNumber, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let sender: RecordingSender;
let repo: DynamoInboxRepository;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('number-access');
  sender = new RecordingSender();
  repo = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  deps = adaptersFor(table);
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: sender }));
});

const send = (request: ApiRequest) => call(api, request);
const PHNOS = [NUMBERS.default.whatsapp_phno, NUMBERS.vendas.whatsapp_phno, NUMBERS.secondWaba.whatsapp_phno] as const;
const [DEFAULT, VENDAS, CAMPINAS] = PHNOS;
const MARIA = '16505550002';
const conversationOf = (phno: string) => `${phno}_${MARIA}`;

/** An account with the three fixture numbers, and Maria writing to each of them (so each has a conversation, unread). */
async function accountWithConversations(plan: { users?: number; teams?: number } = {}) {
  const { accountId } = await newAccount(deps, { users: 10, teams: 10, ...plan });
  await putNumber(table, accountId, NUMBERS.default, true, 'Support');
  await putNumber(table, accountId, NUMBERS.vendas, false, 'Vendas');
  await putNumber(table, accountId, NUMBERS.secondWaba, false, 'Campinas');
  const t = Math.floor(Date.now() / 1000);
  for (const [i, number] of [NUMBERS.default, NUMBERS.vendas, NUMBERS.secondWaba].entries()) {
    await processInboxEvent({ inbox: repo }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from: MARIA, number, timestamp: t - 10 + i, text: `hello ${i}` }))));
  }
  return { accountId, owner: { role: 'owner' as const, accountId }, admin: { role: 'admin' as const, accountId } };
}

async function visibleNumbers(as: Caller, query: Record<string, string> = {}) {
  const conversations = await send({ method: 'GET', path: '/v1/conversations', as, query });
  const contacts = await send({ method: 'GET', path: '/v1/contacts', as, query });
  expect(conversations.status).toBe(200);
  expect(contacts.status).toBe(200);
  return {
    conversations: conversations.body.items.map((c: any) => c.whatsapp_phno).sort() as string[],
    contacts: contacts.body.items.map((c: any) => c.attributes.whatsapp_phno).sort() as string[],
  };
}

async function membershipItems(accountId: string, prefix: string) {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ACCOUNT_PARTITION.replace('{accountId}', accountId), ':prefix': prefix },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('an agent limited to one number', () => {
  it('never sees, answers, assigns or marks read another number\'s conversation', async () => {
    const { accountId, owner } = await accountWithConversations();
    const { as, teamId } = await agentSeat(send, accountId, [DEFAULT]);

    expect(await visibleNumbers(as)).toEqual({ conversations: [DEFAULT], contacts: [DEFAULT] });
    expect(await visibleNumbers(as, { whatsapp_phno: VENDAS })).toEqual({ conversations: [], contacts: [] });
    expect(await visibleNumbers(as, { whatsapp_phno: DEFAULT })).toEqual({ conversations: [DEFAULT], contacts: [DEFAULT] });

    for (const phno of [VENDAS, CAMPINAS]) {
      const id = conversationOf(phno);
      const messages = await send({ method: 'GET', path: `/v1/conversations/${id}/messages`, as });
      expect(messages.status).toBe(404);
      expect(messages.body.error.code).toBe('NOT_FOUND');
      const sentBefore = sender.texts.length;
      expect((await send({ method: 'POST', path: `/v1/conversations/${id}/messages`, as, body: { text: 'Oi' } })).status).toBe(404);
      expect(sender.texts.length).toBe(sentBefore);
      expect((await send({ method: 'POST', path: `/v1/conversations/${id}/assign`, as, body: { teamId } })).status).toBe(404);
      expect((await send({ method: 'POST', path: `/v1/conversations/${id}/read`, as })).status).toBe(404);
    }
    // Nothing of the other numbers changed: still unread, still unassigned.
    const all = (await send({ method: 'GET', path: '/v1/conversations', as: owner })).body.items;
    for (const c of all.filter((c: any) => c.whatsapp_phno !== DEFAULT)) expect(c).toMatchObject({ unreadCount: 1, assignedTeamId: null });

    // Its own number works.
    const own = conversationOf(DEFAULT);
    const messages = await send({ method: 'GET', path: `/v1/conversations/${own}/messages`, as });
    expect(messages.status).toBe(200);
    expect(messages.body.items.map((m: any) => m.text)).toEqual(['hello 0']);
    const reply = await send({ method: 'POST', path: `/v1/conversations/${own}/messages`, as, body: { text: 'Oi, Maria' } });
    expect(reply.status).toBe(202);
    expect(sender.texts.at(-1)).toMatchObject({ phoneNumberId: NUMBERS.default.phoneNumberId, to: MARIA });
    expect((await send({ method: 'POST', path: `/v1/conversations/${own}/read`, as })).body.unreadCount).toBe(0);
    expect((await send({ method: 'POST', path: `/v1/conversations/${own}/assign`, as, body: { teamId } })).body.assignedTeamId).toBe(teamId);
  });

  it('sees what a change of the team\'s numbers or membership gives, at once', async () => {
    const { accountId, owner } = await accountWithConversations();
    const { as, teamId, userId } = await agentSeat(send, accountId, [VENDAS]);
    expect((await visibleNumbers(as)).conversations).toEqual([VENDAS]);
    expect((await send({ method: 'PUT', path: `/v1/teams/${teamId}/numbers`, as: owner, body: { whatsapp_phnos: [VENDAS, '+55 11 90000-1003'] } })).status).toBe(200);
    expect((await visibleNumbers(as)).conversations).toEqual([VENDAS, CAMPINAS].sort());
    expect((await send({ method: 'PUT', path: `/v1/teams/${teamId}/numbers`, as: owner, body: { whatsapp_phnos: null } })).status).toBe(200);
    expect((await visibleNumbers(as)).conversations).toEqual([...PHNOS].sort());
    expect((await send({ method: 'PUT', path: `/v1/teams/${teamId}/members`, as: owner, body: { userIds: [] } })).status).toBe(200);
    expect(await visibleNumbers(as)).toEqual({ conversations: [], contacts: [] });
    expect((await send({ method: 'GET', path: `/v1/conversations/${conversationOf(VENDAS)}/messages`, as })).status).toBe(404);
    expect(userId).toMatch(/^usr_/);
  });
});

describe('who sees every number', () => {
  it('owners and admins see every number, whatever the teams say', async () => {
    const { accountId, owner, admin } = await accountWithConversations();
    await agentSeat(send, accountId, [DEFAULT]);
    for (const as of [owner, admin]) expect(await visibleNumbers(as)).toEqual({ conversations: [...PHNOS].sort(), contacts: [...PHNOS].sort() });
    const messages = await send({ method: 'GET', path: `/v1/conversations/${conversationOf(CAMPINAS)}/messages`, as: admin });
    expect(messages.status).toBe(200);
  });

  it('an agent in a team without a number limit sees every number; in two limited teams, both teams\' numbers', async () => {
    const { accountId, owner } = await accountWithConversations();
    const { as, userId } = await agentSeat(send, accountId, [DEFAULT]);
    const second = await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Campinas' } });
    await send({ method: 'PUT', path: `/v1/teams/${second.body.teamId}/numbers`, as: owner, body: { whatsapp_phnos: [CAMPINAS] } });
    await send({ method: 'PUT', path: `/v1/teams/${second.body.teamId}/members`, as: owner, body: { userIds: [userId] } });
    expect((await visibleNumbers(as)).conversations).toEqual([DEFAULT, CAMPINAS].sort());
    const everyNumber = await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'All' } });
    await send({ method: 'PUT', path: `/v1/teams/${everyNumber.body.teamId}/members`, as: owner, body: { userIds: [userId] } });
    expect((await visibleNumbers(as)).conversations).toEqual([...PHNOS].sort());
  });
});

describe('an agent token without a seat', () => {
  it('answers 403 naming the claim, on every inbox route', async () => {
    const { accountId } = await accountWithConversations();
    const noSeat = { role: 'agent' as const, accountId };
    const paths: ApiRequest[] = [
      { method: 'GET', path: '/v1/conversations' },
      { method: 'GET', path: '/v1/contacts' },
      { method: 'GET', path: `/v1/conversations/${conversationOf(DEFAULT)}/messages` },
      { method: 'POST', path: `/v1/conversations/${conversationOf(DEFAULT)}/messages`, body: { text: 'Oi' } },
      { method: 'POST', path: `/v1/conversations/${conversationOf(DEFAULT)}/read` },
    ];
    for (const request of paths) {
      const res = await send({ ...request, as: noSeat });
      expect(res.status, request.path).toBe(403);
      expect(res.body.error.message).toContain('custom:userId');
    }
  });

  it('a seat of another account is no seat here', async () => {
    const { accountId } = await accountWithConversations();
    const other = await accountWithConversations();
    const { userId } = await agentSeat(send, other.accountId);
    expect((await send({ method: 'GET', path: '/v1/conversations', as: { role: 'agent', accountId, userId } })).status).toBe(403);
  });

  it('an agent in no team sees nothing', async () => {
    const { accountId, owner } = await accountWithConversations();
    const user = await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'lonely@example.com', role: 'agent' } });
    const as = { role: 'agent' as const, accountId, userId: user.body.userId };
    expect(await visibleNumbers(as)).toEqual({ conversations: [], contacts: [] });
    expect((await send({ method: 'GET', path: `/v1/conversations/${conversationOf(DEFAULT)}/messages`, as })).status).toBe(404);
  });
});

describe('assigning to someone who cannot see the number', () => {
  it('answers 409 ASSIGNEE_CANNOT_SEE_NUMBER naming body.userId or body.teamId', async () => {
    const { accountId, admin } = await accountWithConversations();
    const vendasAgent = await agentSeat(send, accountId, [VENDAS]);
    const path = `/v1/conversations/${conversationOf(DEFAULT)}/assign`;
    const everyNumber = await send({ method: 'POST', path: '/v1/teams', as: admin, body: { name: 'All' } });
    const toUser = await send({ method: 'POST', path, as: admin, body: { teamId: everyNumber.body.teamId, userId: vendasAgent.userId } });
    expect(toUser.status).toBe(409);
    expect(toUser.body.error).toMatchObject({ code: 'ASSIGNEE_CANNOT_SEE_NUMBER', field: 'body.userId' });
    const toTeam = await send({ method: 'POST', path, as: admin, body: { teamId: vendasAgent.teamId } });
    expect(toTeam.status).toBe(409);
    expect(toTeam.body.error).toMatchObject({ code: 'ASSIGNEE_CANNOT_SEE_NUMBER', field: 'body.teamId' });
    // An admin assignee sees every number.
    const adminUser = await send({ method: 'POST', path: '/v1/users', as: { role: 'owner', accountId }, body: { email: 'boss@example.com', role: 'admin' } });
    const ok = await send({ method: 'POST', path, as: admin, body: { teamId: everyNumber.body.teamId, userId: adminUser.body.userId } });
    expect(ok.status).toBe(200);
    expect(ok.body.assignedUserId).toBe(adminUser.body.userId);
    // On the number the agent covers, the same assignment passes.
    const onVendas = await send({ method: 'POST', path: `/v1/conversations/${conversationOf(VENDAS)}/assign`, as: admin, body: { teamId: vendasAgent.teamId, userId: vendasAgent.userId } });
    expect(onVendas.status).toBe(200);
  });
});

describe('PUT /v1/teams/{teamId}/members', () => {
  it('replaces the members, counts repeats once, converges when retried, and shows them on the team', async () => {
    const { accountId, owner } = await accountWithConversations();
    const users = await Promise.all(
      ['a', 'b', 'c'].map(async (n) => (await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: `${n}@example.com`, role: 'agent' } })).body.userId as string),
    );
    const team = (await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Suporte' } })).body;
    expect(team).toMatchObject({ name: 'Suporte', whatsapp_phnos: null });
    const path = `/v1/teams/${team.teamId}/members`;
    const first = await send({ method: 'PUT', path, as: owner, body: { userIds: [users[0], users[1], users[0]] } });
    expect(first.status).toBe(200);
    expect(first.body.members).toEqual([users[0], users[1]].sort());
    const retried = await send({ method: 'PUT', path, as: owner, body: { userIds: [users[0], users[1]] } });
    expect(retried.body.members).toEqual(first.body.members);
    const replaced = await send({ method: 'PUT', path, as: owner, body: { userIds: [users[2], users[1]] } });
    expect(replaced.body.members).toEqual([users[1], users[2]].sort());
    const shown = await send({ method: 'GET', path: `/v1/teams/${team.teamId}`, as: { role: 'agent', accountId } });
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({ ...team, members: [users[1], users[2]].sort() });
    // The reverse items follow: the removed user is in no team.
    expect(await membershipItems(accountId, `USERTEAM#${users[0]}#`)).toEqual([]);
    expect(await membershipItems(accountId, `USERTEAM#${users[2]}#`)).toHaveLength(1);
  });

  it('refuses unknown users naming each, bad ids, too many, unknown teams and agents; writes nothing then', async () => {
    const { accountId, owner } = await accountWithConversations();
    const other = await accountWithConversations();
    const stranger = (await send({ method: 'POST', path: '/v1/users', as: other.owner, body: { email: 'x@example.com', role: 'agent' } })).body.userId;
    const mine = (await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'ana@example.com', role: 'agent' } })).body.userId;
    const team = (await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Suporte' } })).body;
    const path = `/v1/teams/${team.teamId}/members`;

    const unknown = await send({ method: 'PUT', path, as: owner, body: { userIds: [mine, stranger, 'usr_nobody000'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues.map((i: any) => i.path.join('.'))).toEqual(['body.userIds.1', 'body.userIds.2']);
    expect((await send({ method: 'GET', path: `/v1/teams/${team.teamId}`, as: owner })).body.members).toEqual([]);

    const malformed = await send({ method: 'PUT', path, as: owner, body: { userIds: ['not an id'] } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.issues[0].path).toEqual(['body', 'userIds', 0]);
    const tooMany = await send({ method: 'PUT', path, as: owner, body: { userIds: Array.from({ length: 101 }, (_, i) => `usr_${String(i).padStart(8, '0')}`) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.issues[0].path).toEqual(['body', 'userIds']);
    expect((await send({ method: 'PUT', path, as: owner, body: {} })).status).toBe(400);
    expect((await send({ method: 'PUT', path: '/v1/teams/team_nothere0/members', as: owner, body: { userIds: [mine] } })).status).toBe(404);
    expect((await send({ method: 'PUT', path, as: { role: 'agent', accountId, userId: mine }, body: { userIds: [mine] } })).status).toBe(403);
    // Another account's team is not found.
    expect((await send({ method: 'PUT', path, as: other.owner, body: { userIds: [stranger] } })).status).toBe(404);
  });
});

describe('PUT /v1/teams/{teamId}/numbers', () => {
  it('takes only numbers of the account, naming each other one; null lifts the limit; the list shows it', async () => {
    const { accountId, owner } = await accountWithConversations();
    const team = (await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Vendas' } })).body;
    const path = `/v1/teams/${team.teamId}/numbers`;
    const foreign = await send({ method: 'PUT', path, as: owner, body: { whatsapp_phnos: [VENDAS, '+1 555 999 0000'] } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.issues.map((i: any) => i.path.join('.'))).toEqual(['body.whatsapp_phnos.1']);
    expect((await send({ method: 'PUT', path, as: owner, body: { whatsapp_phnos: ['nope'] } })).body.error.issues[0].path).toEqual(['body', 'whatsapp_phnos', 0]);
    expect((await send({ method: 'PUT', path, as: owner, body: { whatsapp_phnos: [] } })).status).toBe(400);
    expect((await send({ method: 'PUT', path, as: { role: 'agent', accountId }, body: { whatsapp_phnos: null } })).status).toBe(403);
    expect((await send({ method: 'PUT', path: '/v1/teams/team_nothere0/numbers', as: owner, body: { whatsapp_phnos: null } })).status).toBe(404);

    const limited = await send({ method: 'PUT', path, as: owner, body: { whatsapp_phnos: [CAMPINAS, VENDAS, VENDAS] } });
    expect(limited.status).toBe(200);
    expect(limited.body).toMatchObject({ teamId: team.teamId, whatsapp_phnos: [VENDAS, CAMPINAS].sort(), members: [] });
    const listed = await send({ method: 'GET', path: '/v1/teams', as: owner });
    expect(listed.body.items.find((t: any) => t.teamId === team.teamId).whatsapp_phnos).toEqual([VENDAS, CAMPINAS].sort());
    const lifted = await send({ method: 'PUT', path, as: owner, body: { whatsapp_phnos: null } });
    expect(lifted.body.whatsapp_phnos).toBeNull();
  });
});

describe('removing a user or a team', () => {
  it('drops the user\'s memberships with the seat', async () => {
    const { accountId, owner } = await accountWithConversations();
    const seat = await agentSeat(send, accountId, [DEFAULT]);
    const second = (await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Second' } })).body;
    await send({ method: 'PUT', path: `/v1/teams/${second.teamId}/members`, as: owner, body: { userIds: [seat.userId] } });
    expect(await membershipItems(accountId, `USERTEAM#${seat.userId}#`)).toHaveLength(2);
    expect((await send({ method: 'DELETE', path: `/v1/users/${seat.userId}`, as: owner })).status).toBe(204);
    expect(await membershipItems(accountId, `USERTEAM#${seat.userId}#`)).toEqual([]);
    for (const teamId of [seat.teamId, second.teamId]) {
      expect((await send({ method: 'GET', path: `/v1/teams/${teamId}`, as: owner })).body.members).toEqual([]);
    }
    // The token still names the removed seat: it is no seat any more.
    expect((await send({ method: 'GET', path: '/v1/conversations', as: seat.as })).status).toBe(403);
  });

  it('drops the team\'s memberships with the team: its members see nothing through it any more', async () => {
    const { accountId, owner } = await accountWithConversations();
    const seat = await agentSeat(send, accountId, [VENDAS]);
    expect((await visibleNumbers(seat.as)).conversations).toEqual([VENDAS]);
    expect((await send({ method: 'DELETE', path: `/v1/teams/${seat.teamId}`, as: owner })).status).toBe(204);
    expect(await membershipItems(accountId, `TEAMMEMBER#${seat.teamId}#`)).toEqual([]);
    expect(await membershipItems(accountId, `USERTEAM#${seat.userId}#`)).toEqual([]);
    expect(await visibleNumbers(seat.as)).toEqual({ conversations: [], contacts: [] });
    expect((await send({ method: 'GET', path: `/v1/teams/${seat.teamId}`, as: owner })).status).toBe(404);
  });
});

describe('the union rule (property)', () => {
  it('what each agent sees is the union of their teams\' numbers, every number when a team has no limit', async () => {
    const { accountId, owner } = await accountWithConversations();
    const agents = [await agentSeat(send, accountId), await agentSeat(send, accountId)];
    // Three teams to shape (the seats' own teams are emptied first).
    for (const seat of agents) await send({ method: 'PUT', path: `/v1/teams/${seat.teamId}/members`, as: owner, body: { userIds: [] } });
    const teams = [agents[0]!.teamId, agents[1]!.teamId, (await send({ method: 'POST', path: '/v1/teams', as: owner, body: { name: 'Third' } })).body.teamId as string];

    const limit = fc.option(fc.subarray([...PHNOS], { minLength: 1 }), { nil: null });
    const team = fc.record({ numbers: limit, members: fc.subarray([0, 1]) });
    await fc.assert(
      fc.asyncProperty(fc.tuple(team, team, team), async (shape) => {
        for (const [i, t] of shape.entries()) {
          const teamId = teams[i]!;
          expect((await send({ method: 'PUT', path: `/v1/teams/${teamId}/numbers`, as: owner, body: { whatsapp_phnos: t.numbers } })).status).toBe(200);
          const userIds = t.members.map((a) => agents[a]!.userId);
          expect((await send({ method: 'PUT', path: `/v1/teams/${teamId}/members`, as: owner, body: { userIds } })).status).toBe(200);
        }
        for (const [a, seat] of agents.entries()) {
          const mine = shape.filter((t) => t.members.includes(a));
          const expected = mine.some((t) => t.numbers === null) ? [...PHNOS] : [...new Set(mine.flatMap((t) => t.numbers ?? []))];
          const seen = await visibleNumbers(seat.as);
          expect(seen.conversations).toEqual(expected.sort());
          expect(seen.contacts).toEqual(expected.sort());
          for (const phno of PHNOS) {
            const res = await send({ method: 'GET', path: `/v1/conversations/${conversationOf(phno)}/messages`, as: seat.as });
            expect(res.status).toBe(expected.includes(phno) ? 200 : 404);
          }
        }
      }),
      { numRuns: 20 },
    );
  }, 120_000);
});
