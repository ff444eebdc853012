/**
 * The dashboard API core through the same router the Lambda runs: auth,
 * roles, validation, account scoping, idempotent replays, error shapes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { call, type ApiRequest } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
const support = { role: 'support' as const };
const send = (request: ApiRequest) => call(api, request);

beforeAll(async () => {
  table = await createTestTable('api-accounts');
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
});

async function newAccount(plan = { users: 2, teams: 1, chatbotSessions: 10, aiResponses: 10 }, creditsMicros = 50_000_000) {
  const res = await send({ method: 'POST', path: '/v1/admin/accounts', as: support, body: { name: 'Acme', plan, creditsMicros } });
  expect(res.status).toBe(201);
  return res.body.accountId as string;
}

describe('POST /v1/admin/accounts', () => {
  it('creates an account shaped as GET /v1/account answers', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    const res = await send({ method: 'GET', path: '/v1/account', as: owner });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accountId,
      name: 'Acme',
      limits: { users: 2, teams: 1, chatbotSessions: 10, aiResponses: 10, additionalNumbers: 0 },
      usage: { users: 0, teams: 0, chatbotSessions: 0, aiResponses: 0, additionalNumbers: 0 },
      credits: { balanceMicros: 50_000_000 },
    });
  });

  it('is for support staff only', async () => {
    const res = await send({ method: 'POST', path: '/v1/admin/accounts', as: { role: 'owner', accountId: 'acc_abcdef123' }, body: { name: 'x', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 } } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('answers a bad body with 400 naming each wrong field', async () => {
    const res = await send({ method: 'POST', path: '/v1/admin/accounts', as: support, body: { name: '', plan: { users: -1, teams: 1, chatbotSessions: 1 }, creditsMicros: 1.5 } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const paths = res.body.error.issues.map((i: { path: string[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['body.name', 'body.plan.users', 'body.plan.aiResponses', 'body.creditsMicros']));
  });

  it('answers malformed JSON with 400 on the body and a non-JSON media type with 415', async () => {
    const malformed = await send({ method: 'POST', path: '/v1/admin/accounts', as: support, body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.issues[0].path).toEqual(['body']);
    const text = await send({ method: 'POST', path: '/v1/admin/accounts', as: support, body: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });
});

describe('auth and routing', () => {
  it('answers 401 without claims', async () => {
    const res = await send({ method: 'GET', path: '/v1/account' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 404 for an unknown route and 405 for a known path with another method', async () => {
    expect((await send({ method: 'GET', path: '/v1/nothing-here', as: support })).status).toBe(404);
    const res = await send({ method: 'PUT', path: '/v1/account', as: { role: 'owner', accountId: 'acc_abcdef123' } });
    expect(res.status).toBe(405);
  });

  it('lets an agent not read the account (owner and admin only)', async () => {
    const accountId = await newAccount();
    expect((await send({ method: 'GET', path: '/v1/account', as: { role: 'agent', accountId } })).status).toBe(403);
    expect((await send({ method: 'GET', path: '/v1/account', as: { role: 'admin', accountId } })).status).toBe(200);
  });

  it('lets support act on any account named by X-Account-Id', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'GET', path: '/v1/account', as: support, headers: { 'x-account-id': accountId } });
    expect(res.status).toBe(200);
    expect(res.body.accountId).toBe(accountId);
  });

  it('answers a missing or malformed X-Account-Id with 400 naming the header, with an issue code', async () => {
    for (const [headers, code] of [
      [{}, 'invalid_type'],
      [{ 'x-account-id': 'not an id' }, 'invalid_format'],
    ] as const) {
      const res = await send({ method: 'GET', path: '/v1/account', as: support, headers });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.issues).toEqual([{ path: ['header', 'X-Account-Id'], message: expect.any(String), code }]);
    }
  });

  it("answers 404 for another account's user, as if it did not exist", async () => {
    const first = await newAccount();
    const second = await newAccount();
    const created = await send({ method: 'POST', path: '/v1/users', as: { role: 'owner', accountId: first }, body: { email: 'ana@example.com', role: 'agent' } });
    const res = await send({ method: 'DELETE', path: `/v1/users/${created.body.userId}`, as: { role: 'owner', accountId: second } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    const stillThere = await send({ method: 'GET', path: '/v1/account', as: { role: 'owner', accountId: first } });
    expect(stillThere.body.usage.users).toBe(1);
  });
});

describe('seats and teams', () => {
  it('takes seats until the shared limit refuses with QUOTA_EXCEEDED', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    expect((await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'a@example.com', role: 'agent' } })).status).toBe(201);
    expect((await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'b@example.com', role: 'admin' } })).status).toBe(201);
    const refused = await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'c@example.com', role: 'agent' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', resource: 'users', limit: 2, used: 2 });
  });

  it('frees the seat when a user is removed', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    const user = await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'a@example.com', role: 'agent' } });
    expect((await send({ method: 'DELETE', path: `/v1/users/${user.body.userId}`, as: owner })).status).toBe(204);
    expect((await send({ method: 'GET', path: '/v1/account', as: owner })).body.usage.users).toBe(0);
    expect((await send({ method: 'DELETE', path: `/v1/users/${user.body.userId}`, as: owner })).status).toBe(404);
  });

  it('refuses a second seat for the same e-mail', async () => {
    const accountId = await newAccount({ users: 5, teams: 1, chatbotSessions: 1, aiResponses: 1 });
    const owner = { role: 'owner' as const, accountId };
    await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'Same@Example.com', role: 'agent' } });
    const again = await send({ method: 'POST', path: '/v1/users', as: owner, body: { email: 'same@example.com', role: 'agent' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('USER_ALREADY_EXISTS');
    expect((await send({ method: 'GET', path: '/v1/account', as: owner })).body.usage.users).toBe(1);
  });

  it('creates and deletes teams within the teams limit', async () => {
    const accountId = await newAccount();
    const admin = { role: 'admin' as const, accountId };
    const team = await send({ method: 'POST', path: '/v1/teams', as: admin, body: { name: 'Vendas' } });
    expect(team.status).toBe(201);
    expect(team.body).toMatchObject({ name: 'Vendas' });
    expect((await send({ method: 'POST', path: '/v1/teams', as: admin, body: { name: 'Suporte' } })).status).toBe(409);
    expect((await send({ method: 'DELETE', path: `/v1/teams/${team.body.teamId}`, as: admin })).status).toBe(204);
    expect((await send({ method: 'POST', path: '/v1/teams', as: admin, body: { name: 'Suporte' } })).status).toBe(201);
  });

  it('lists the users and teams to any role of the account, page by page, and to nobody else', async () => {
    const accountId = await newAccount({ users: 5, teams: 3, chatbotSessions: 1, aiResponses: 1 });
    const owner = { role: 'owner' as const, accountId };
    const agent = { role: 'agent' as const, accountId };
    const emails = ['ana@example.com', 'bruno@example.com', 'carla@example.com'];
    const users = await Promise.all(emails.map((email) => send({ method: 'POST', path: '/v1/users', as: owner, body: { email, role: 'agent' } })));
    const teams = await Promise.all(['Vendas', 'Suporte'].map((name) => send({ method: 'POST', path: '/v1/teams', as: owner, body: { name } })));
    const seen: any[] = [];
    let cursor: string | undefined;
    do {
      const page = await send({ method: 'GET', path: '/v1/users', as: agent, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.map((u) => u.userId)).toEqual(users.map((u) => u.body.userId).sort());
    expect(seen.map((u) => u.email).sort()).toEqual(emails);
    expect(Object.keys(seen[0]).sort()).toEqual(['createdAt', 'email', 'role', 'userId']);
    const listed = await send({ method: 'GET', path: '/v1/teams', as: agent });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: any) => t.name).sort()).toEqual(['Suporte', 'Vendas']);
    expect(listed.body.items.map((t: any) => t.teamId).sort()).toEqual(teams.map((t) => t.body.teamId).sort());
    // Another account sees none of them.
    const other = await newAccount();
    expect((await send({ method: 'GET', path: '/v1/users', as: { role: 'owner', accountId: other } })).body.items).toEqual([]);
    expect((await send({ method: 'GET', path: '/v1/teams', as: { role: 'owner', accountId: other } })).body.items).toEqual([]);
  });

  it('rejects a malformed id in the path with 400', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'DELETE', path: '/v1/users/..%2Fx', as: { role: 'owner', accountId } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['path', 'userId']);
  });
});

describe('add-ons, credits and the ledger', () => {
  it('raises a shared limit with an add-on', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    const res = await send({ method: 'POST', path: '/v1/addons', as: owner, body: { type: 'users', quantity: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.limits.users).toBe(5);
    expect(res.body.addons.users).toBe(3);
    const numbers = await send({ method: 'POST', path: '/v1/addons', as: owner, body: { type: 'number', quantity: 2 } });
    expect(numbers.body.limits.additionalNumbers).toBe(2);
  });

  it('lets only owners buy add-ons', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'POST', path: '/v1/addons', as: { role: 'admin', accountId }, body: { type: 'users', quantity: 1 } });
    expect(res.status).toBe(403);
  });

  it('tops up once for two requests with one Idempotency-Key and replays the first answer', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    const request = { method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: 10_000_000 }, headers: { 'idempotency-key': 'topup-1' } };
    const first = await send(request);
    const second = await send(request);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ balanceMicros: 60_000_000 });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect((await send({ method: 'GET', path: '/v1/account', as: owner })).body.credits.balanceMicros).toBe(60_000_000);
  });

  it('refuses one Idempotency-Key reused with another body', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    await send({ method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: 1 }, headers: { 'idempotency-key': 'k' } });
    const res = await send({ method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: 2 }, headers: { 'idempotency-key': 'k' } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('applies 20 concurrent top-ups with one key once', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    const request = { method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: 1_000_000 }, headers: { 'idempotency-key': 'race' } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(request)));
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'REQUEST_IN_PROGRESS')).toBe(true);
    expect((await send({ method: 'GET', path: '/v1/account', as: owner })).body.credits.balanceMicros).toBe(51_000_000);
  });

  it('lists the credit ledger newest first with a cursor', async () => {
    const accountId = await newAccount();
    const owner = { role: 'owner' as const, accountId };
    for (const amount of [1, 2, 3]) {
      await send({ method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: amount } });
    }
    const page1 = await send({ method: 'GET', path: '/v1/credits/ledger', as: owner, query: { limit: '2' } });
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e: { amount: number }) => e.amount)).toEqual([3, 2]);
    const page2 = await send({ method: 'GET', path: '/v1/credits/ledger', as: owner, query: { limit: '2', cursor: page1.body.nextCursor } });
    expect(page2.body.items.map((e: { amount: number }) => e.amount)).toEqual([1, 50_000_000]);
    expect(page2.body.items[1].reason).toBe('initial');
  });

  it('refuses a cursor it did not issue', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'GET', path: '/v1/credits/ledger', as: { role: 'owner', accountId }, query: { cursor: 'not-a-cursor' } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['query', 'cursor']);
  });

  it('rejects a negative or fractional top-up', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'POST', path: '/v1/credits/topups', as: { role: 'owner', accountId }, body: { amountMicros: 0.5 } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['body', 'amountMicros']);
  });
});
