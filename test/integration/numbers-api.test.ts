/**
 * The numbers API through the same router the Lambda runs (docs/openapi.json,
 * docs/architecture.md "Numbers, templates and features"): status codes, shapes, roles,
 * account scoping, and the table left consistent after every request.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import type { Role } from '../../schemas/common.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { expectNumbersConsistent } from '../support/number-invariants.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
const support = { role: 'support' as const };
const send = (request: ApiRequest) => call(api, request);
const as = (role: Role, accountId: string) => ({ role, accountId });

beforeAll(async () => {
  table = await createTestTable('numbers-api');
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
});

async function newAccount(numberAddons = 0) {
  const res = await send({
    method: 'POST',
    path: '/v1/admin/accounts',
    as: support,
    body: { name: 'Acme', plan: { users: 2, teams: 1, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 },
  });
  expect(res.status).toBe(201);
  const accountId = res.body.accountId as string;
  if (numberAddons > 0) {
    const bought = await send({ method: 'POST', path: '/v1/addons', as: as('owner', accountId), body: { type: 'number', quantity: numberAddons } });
    expect(bought.status).toBe(200);
  }
  return accountId;
}

let seq = 0;
/** An Embedded Signup result, the display number formatted as Meta shows it. */
function signup(name = `Number ${++seq}`) {
  const n = String(++seq).padStart(6, '0');
  return { name, displayPhoneNumber: `+1 555-${n.slice(0, 3)}-${n.slice(3)}1`, phoneNumberId: `11${n}000002`, wabaId: `21${n}000002` };
}
const phnoOf = (body: ReturnType<typeof signup>) => body.displayPhoneNumber.replace(/\D/g, '');

const connect = (accountId: string, body: unknown, role: Role = 'admin', headers?: Record<string, string>) =>
  send({ method: 'POST', path: '/v1/numbers', as: as(role, accountId), body, headers });

describe('POST /v1/numbers', () => {
  it('answers 201 with the default number, its phone number normalised', async () => {
    const accountId = await newAccount();
    const body = signup('Main');
    const res = await connect(accountId, body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      whatsapp_phno: phnoOf(body),
      name: 'Main',
      isDefault: true,
      phoneNumberId: body.phoneNumberId,
      wabaId: body.wabaId,
      status: 'CONNECTED',
      messagingLimitTier: null,
      qualityRating: null,
      creditCapMicros: null,
      portfolioId: accountId,
      messagingLimitShare: null,
      features: { teamInbox: true, broadcast: true, automations: true, ctwa: true, catalog: true, integrations: true, apiWebhooks: true },
      connectedAt: expect.any(String),
    });
    await expectNumbersConsistent(table, [accountId]);
  });

  it('answers 409 QUOTA_EXCEEDED for an additional number without an add-on', async () => {
    const accountId = await newAccount();
    await connect(accountId, signup());
    const res = await connect(accountId, signup());
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', resource: 'additionalNumbers', limit: 0, used: 0 });
  });

  it('takes an add-on for an additional number, as GET /v1/account shows', async () => {
    const accountId = await newAccount(1);
    await connect(accountId, signup());
    const res = await connect(accountId, signup());
    expect(res.status).toBe(201);
    expect(res.body.isDefault).toBe(false);
    const account = await send({ method: 'GET', path: '/v1/account', as: as('owner', accountId) });
    expect(account.body.usage.additionalNumbers).toBe(1);
    expect(account.body.limits.additionalNumbers).toBe(1);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('answers 409 NUMBER_ALREADY_CONNECTED for a number of another account', async () => {
    const first = await newAccount();
    const second = await newAccount();
    const body = signup();
    await connect(first, body);
    const res = await connect(second, { ...body, displayPhoneNumber: phnoOf(body) });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'NUMBER_ALREADY_CONNECTED', whatsapp_phno: phnoOf(body) });
    await expectNumbersConsistent(table, [first, second], { phnos: [phnoOf(body)] });
  });

  it('answers 400 naming each malformed field', async () => {
    const accountId = await newAccount();
    const res = await connect(accountId, { name: '', displayPhoneNumber: 'call me', phoneNumberId: '11abc', wabaId: '123' });
    expect(res.status).toBe(400);
    const paths = res.body.error.issues.map((i: { path: string[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['body.name', 'body.displayPhoneNumber', 'body.phoneNumberId', 'body.wabaId']));
  });

  it('is refused to agents', async () => {
    const accountId = await newAccount();
    const res = await connect(accountId, signup(), 'agent');
    expect(res.status).toBe(403);
  });

  it('replays the first answer for the same Idempotency-Key, taking one slot', async () => {
    const accountId = await newAccount(2);
    await connect(accountId, signup());
    const body = signup();
    const first = await connect(accountId, body, 'admin', { 'Idempotency-Key': 'connect-once' });
    const again = await connect(accountId, body, 'admin', { 'Idempotency-Key': 'connect-once' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const account = await send({ method: 'GET', path: '/v1/account', as: as('owner', accountId) });
    expect(account.body.usage.additionalNumbers).toBe(1);
  });
});

describe('GET /v1/numbers', () => {
  it('lists the account\'s numbers for agents, default first, features per number', async () => {
    const accountId = await newAccount(1);
    const main = signup('Main');
    const sales = signup('Vendas');
    await connect(accountId, main);
    await connect(accountId, sales);
    const res = await send({ method: 'GET', path: '/v1/numbers', as: as('agent', accountId) });
    expect(res.status).toBe(200);
    expect(res.body.items.map((n: { whatsapp_phno: string; name: string; isDefault: boolean }) => [n.whatsapp_phno, n.name, n.isDefault])).toEqual([
      [phnoOf(main), 'Main', true],
      [phnoOf(sales), 'Vendas', false],
    ]);
    expect(res.body.items[1].features).toEqual({
      teamInbox: true,
      broadcast: true,
      automations: true,
      ctwa: false,
      catalog: false,
      integrations: false,
      apiWebhooks: false,
    });
  });

  it('shows another account nothing of this one', async () => {
    const accountId = await newAccount();
    await connect(accountId, signup());
    const stranger = await newAccount();
    const res = await send({ method: 'GET', path: '/v1/numbers', as: as('owner', stranger) });
    expect(res.body.items).toEqual([]);
  });
});

describe('PATCH /v1/numbers/{phno}', () => {
  it('renames a number and sets its credit cap (admin)', async () => {
    const accountId = await newAccount();
    const body = signup('Old');
    await connect(accountId, body);
    const res = await send({ method: 'PATCH', path: `/v1/numbers/${phnoOf(body)}`, as: as('admin', accountId), body: { name: 'Suporte', creditCapMicros: 20_000_000 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Suporte', creditCapMicros: 20_000_000 });
    const cleared = await send({ method: 'PATCH', path: `/v1/numbers/%2B${phnoOf(body)}`, as: as('admin', accountId), body: { creditCapMicros: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ name: 'Suporte', creditCapMicros: null });
    await expectNumbersConsistent(table, [accountId]);
  });

  it('answers 404 for a number of another account', async () => {
    const owner = await newAccount();
    const body = signup();
    await connect(owner, body);
    const stranger = await newAccount();
    const res = await send({ method: 'PATCH', path: `/v1/numbers/${phnoOf(body)}`, as: as('admin', stranger), body: { name: 'Mine now' } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 400 for an empty patch or a negative or fractional cap', async () => {
    const accountId = await newAccount();
    const body = signup();
    await connect(accountId, body);
    for (const patch of [{}, { creditCapMicros: -1 }, { creditCapMicros: 1.5 }]) {
      const res = await send({ method: 'PATCH', path: `/v1/numbers/${phnoOf(body)}`, as: as('admin', accountId), body: patch });
      expect(res.status).toBe(400);
    }
  });

  it('is refused to agents', async () => {
    const accountId = await newAccount();
    const body = signup();
    await connect(accountId, body);
    const res = await send({ method: 'PATCH', path: `/v1/numbers/${phnoOf(body)}`, as: as('agent', accountId), body: { name: 'x' } });
    expect(res.status).toBe(403);
  });
});

describe('PUT /v1/numbers/default', () => {
  it('replaces the default (owner), disconnecting the old one', async () => {
    const accountId = await newAccount();
    const old = signup();
    await connect(accountId, old);
    const next = signup('New main');
    const res = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('owner', accountId), body: next });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ whatsapp_phno: phnoOf(next), isDefault: true, name: 'New main' });
    const listed = await send({ method: 'GET', path: '/v1/numbers', as: as('agent', accountId) });
    expect(listed.body.items.map((n: { whatsapp_phno: string }) => n.whatsapp_phno)).toEqual([phnoOf(next)]);
    await expectNumbersConsistent(table, [accountId], { phnos: [phnoOf(old)], phoneNumberIds: [old.phoneNumberId] });
  });

  it('answers like a first connect when there is no default yet', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('owner', accountId), body: signup() });
    expect(res.status).toBe(201);
    expect(res.body.isDefault).toBe(true);
  });

  it('answers 409 for a number connected anywhere', async () => {
    const first = await newAccount();
    const second = await newAccount();
    const taken = signup();
    await connect(first, signup());
    await connect(second, taken);
    const res = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('owner', first), body: taken });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('NUMBER_ALREADY_CONNECTED');
  });

  it('is refused to admins', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'PUT', path: '/v1/numbers/default', as: as('admin', accountId), body: signup() });
    expect(res.status).toBe(403);
  });
});

describe('PUT /v1/numbers/{phno}/catalog', () => {
  it('binds a catalog to the default number', async () => {
    const accountId = await newAccount();
    const main = signup();
    await connect(accountId, main);
    const res = await send({ method: 'PUT', path: `/v1/numbers/${phnoOf(main)}/catalog`, as: as('admin', accountId), body: { catalogId: '987654321' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ whatsapp_phno: phnoOf(main), catalogId: '987654321' });
  });

  it('answers 403 FEATURE_UNAVAILABLE naming the feature and the number on an additional number', async () => {
    const accountId = await newAccount(1);
    await connect(accountId, signup());
    const extra = signup();
    await connect(accountId, extra);
    const res = await send({ method: 'PUT', path: `/v1/numbers/${phnoOf(extra)}/catalog`, as: as('admin', accountId), body: { catalogId: '987654321' } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'catalog', whatsapp_phno: phnoOf(extra) });
  });

  it('answers 404 for another account\'s number', async () => {
    const owner = await newAccount();
    const main = signup();
    await connect(owner, main);
    const stranger = await newAccount();
    const res = await send({ method: 'PUT', path: `/v1/numbers/${phnoOf(main)}/catalog`, as: as('admin', stranger), body: { catalogId: '987654321' } });
    expect(res.status).toBe(404);
  });
});

describe('DELETE /v1/admin/accounts/{accountId}/numbers/{phno}', () => {
  it('frees an additional number and its slot (support) with 204', async () => {
    const accountId = await newAccount(1);
    await connect(accountId, signup());
    const extra = signup();
    await connect(accountId, extra);
    const res = await send({ method: 'DELETE', path: `/v1/admin/accounts/${accountId}/numbers/${phnoOf(extra)}`, as: support });
    expect(res.status).toBe(204);
    const account = await send({ method: 'GET', path: '/v1/account', as: as('owner', accountId) });
    expect(account.body.usage.additionalNumbers).toBe(0);
    await expectNumbersConsistent(table, [accountId], { phnos: [phnoOf(extra)], phoneNumberIds: [extra.phoneNumberId], wabaIds: [extra.wabaId] });
  });

  it('is refused to owners with 403', async () => {
    const accountId = await newAccount();
    const main = signup();
    await connect(accountId, main);
    const res = await send({ method: 'DELETE', path: `/v1/admin/accounts/${accountId}/numbers/${phnoOf(main)}`, as: as('owner', accountId) });
    expect(res.status).toBe(403);
  });

  it('answers 409 DEFAULT_REQUIRED for the default while others remain, then promotes the named one', async () => {
    const accountId = await newAccount(1);
    const main = signup();
    const extra = signup();
    await connect(accountId, main);
    await connect(accountId, extra);
    const path = `/v1/admin/accounts/${accountId}/numbers/${phnoOf(main)}`;
    const refused = await send({ method: 'DELETE', path, as: support });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'DEFAULT_REQUIRED', candidates: [phnoOf(extra)] });
    const done = await send({ method: 'DELETE', path, as: support, query: { newDefault: phnoOf(extra) } });
    expect(done.status).toBe(204);
    const listed = await send({ method: 'GET', path: '/v1/numbers', as: as('agent', accountId) });
    expect(listed.body.items).toMatchObject([{ whatsapp_phno: phnoOf(extra), isDefault: true, features: { catalog: true } }]);
    await expectNumbersConsistent(table, [accountId], { phnos: [phnoOf(main)], phoneNumberIds: [main.phoneNumberId] });
  });

  it('answers 404 for a number the account does not have', async () => {
    const accountId = await newAccount();
    const res = await send({ method: 'DELETE', path: `/v1/admin/accounts/${accountId}/numbers/15559999999`, as: support });
    expect(res.status).toBe(404);
  });
});

describe('POST /v1/admin/accounts/{accountId}/merge', () => {
  it('is refused to owners with 403', async () => {
    const target = await newAccount();
    const source = await newAccount();
    const res = await send({ method: 'POST', path: `/v1/admin/accounts/${target}/merge`, as: as('owner', target), body: { sourceAccountId: source } });
    expect(res.status).toBe(403);
  });

  it('merges for support staff and answers with the target account', async () => {
    const target = await newAccount(1);
    await connect(target, signup());
    const source = await newAccount();
    const moved = signup();
    await connect(source, moved);
    const res = await send({ method: 'POST', path: `/v1/admin/accounts/${target}/merge`, as: support, body: { sourceAccountId: source } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      sourceAccountId: source,
      targetAccountId: target,
      status: 'completed',
      numbers: [{ whatsapp_phno: phnoOf(moved), isDefault: false }],
      creditsMovedMicros: 50_000_000,
      account: { accountId: target, usage: { additionalNumbers: 1 }, credits: { balanceMicros: 100_000_000 } },
    });
    const sourceNow = await send({ method: 'GET', path: '/v1/numbers', as: as('owner', source) });
    expect(sourceNow.status).toBe(404);
    await expectNumbersConsistent(table, [target, source], { phnos: [phnoOf(moved)] });
  });

  it('answers 400 when an account is merged into itself', async () => {
    const target = await newAccount();
    const res = await send({ method: 'POST', path: `/v1/admin/accounts/${target}/merge`, as: support, body: { sourceAccountId: target } });
    expect(res.status).toBe(400);
  });

  it('answers 404 for an unknown source', async () => {
    const target = await newAccount();
    const res = await send({ method: 'POST', path: `/v1/admin/accounts/${target}/merge`, as: support, body: { sourceAccountId: 'acc_doesnotexist1' } });
    expect(res.status).toBe(404);
  });
});
