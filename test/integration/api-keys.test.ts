/**
 * API keys on DynamoDB Local, through the same authorizer handler and API
 * router the Lambdas run: `POST/GET/DELETE /v1/api-keys` (owner only, the
 * key shown once and stored as its hash, the per-account limit under a
 * race), the authorizer's allow/deny and its `lastUsedAt` bookkeeping
 * (throttled, concurrent uses), and requests made with a key on
 * `/api/v1/…`: allowed routes only, the default number only (403
 * `FEATURE_UNAVAILABLE` for another), and the new default at once after a
 * replacement.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoApiKeyStore } from '../../functions/adapters/dynamo/api-key-store.js';
import { apiKey } from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { makeAuthorizerHandler } from '../../functions/authorizer/app.js';
import { createAuthorizerDeps } from '../../functions/authorizer/deps.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { hashApiKey, verifyApiKey } from '../../functions/core/api-keys.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { lambdaContext } from '../../local/http-event.js';
import { API_KEY_LIMIT, type ApiKeyAuthorizerContext } from '../../schemas/api-keys.js';
import { adaptersFor, newAccount, race } from '../support/accounts.js';
import { type ApiRequest, apiEvent, call } from '../support/api-events.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, RecordingSender, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let deps: ReturnType<typeof adaptersFor>;
let inbox: DynamoInboxRepository;
let authorizer: ReturnType<typeof makeAuthorizerHandler>;
const sender = new RecordingSender();

beforeAll(async () => {
  table = await createTestTable('api-keys');
  deps = adaptersFor(table);
  inbox = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: sender }), {
    onUnexpectedError: (error) => console.error('UNEXPECTED', error),
  });
  authorizer = makeAuthorizerHandler(createAuthorizerDeps(table.doc, table.tableName));
});

const MARIA = '5511987650001';
const owner = (accountId: string) => ({ role: 'owner' as const, accountId });
const admin = (accountId: string) => ({ role: 'admin' as const, accountId });

let numberSeq = 0;
function freshNumber(): FixtureNumber {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;
  return { whatsapp_phno: `1557${n}`, phoneNumberId: `5${n}01`, wabaId: `6${n}01` };
}

/** An account with its default and one additional number, and Maria writing to both. */
async function account() {
  const { accountId } = await newAccount(deps);
  const main = freshNumber();
  await connectNumber(deps, accountId, { name: 'Support', ...main }, `connect-${main.whatsapp_phno}`);
  await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
  const other = freshNumber();
  await connectNumber(deps, accountId, { name: 'Vendas', ...other }, `connect-${other.whatsapp_phno}`);
  await writes(accountId, main);
  await writes(accountId, other);
  return { accountId, main, other };
}

async function writes(accountId: string, number: FixtureNumber) {
  await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from: MARIA, number }))));
}

async function createKey(accountId: string, name = 'CRM sync') {
  const res = await call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name } });
  expect(res.status).toBe(201);
  return res.body as { id: string; name: string; key: string; prefix: string; createdAt: string };
}

function authorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  const event = apiEvent({ method: 'GET', path: '/api/v1/numbers', headers });
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:us-east-1:000000000000:api/$default/GET/api/v1/numbers',
    identitySource: Object.values(headers),
    routeKey: 'ANY /api/v1/{proxy+}',
    rawPath: event.rawPath,
    rawQueryString: '',
    cookies: [],
    headers: event.headers,
    requestContext: event.requestContext,
  };
}

async function authorize(key: string) {
  return authorizer(authorizerEvent({ 'x-api-key': key }), lambdaContext('authorizer'));
}

/** A request made with an API key, as API Gateway hands it on after the authorizer allowed it. */
async function withKey(key: string, request: Omit<ApiRequest, 'as'>) {
  const decision = await authorize(key);
  expect(decision.isAuthorized).toBe(true);
  const event = apiEvent({ ...request, path: `/api${request.path}` });
  (event.requestContext as unknown as { authorizer: { lambda: ApiKeyAuthorizerContext } }).authorizer = { lambda: decision.context as ApiKeyAuthorizerContext };
  const response = await api(event);
  return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined, headers: (response.headers ?? {}) as Record<string, string> };
}

const conversationOf = (number: FixtureNumber) => `${number.whatsapp_phno}_${MARIA}`;

describe('POST /v1/api-keys', () => {
  it('creates a key shown once: the answer has it, the listing and an Idempotency-Key replay never do', async () => {
    const { accountId } = await account();
    const first = await call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name: 'CRM sync' }, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.stringMatching(/^key_[a-z0-9]{8}$/), name: 'CRM sync', key: expect.stringMatching(/^wak_[a-z0-9]{8}_/), prefix: expect.any(String), createdAt: expect.any(String) });
    expect(first.body.key.startsWith(`${first.body.prefix}_`)).toBe(true);
    const replay = await call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name: 'CRM sync' }, headers: { 'idempotency-key': 'k-1' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ id: first.body.id, name: 'CRM sync', prefix: first.body.prefix, createdAt: first.body.createdAt });
    const list = await call(api, { method: 'GET', path: '/v1/api-keys', as: owner(accountId) });
    expect(list.body.items).toEqual([{ id: first.body.id, name: 'CRM sync', prefix: first.body.prefix, createdAt: first.body.createdAt, lastUsedAt: null }]);
    expect(JSON.stringify(list.body)).not.toContain(first.body.key);
  });

  it('stores the SHA-256 of the key, never the key', async () => {
    const { accountId } = await account();
    const created = await createKey(accountId);
    const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: apiKey.key({ keyId: created.id }), ConsistentRead: true }));
    expect(Item?.keyHash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(Item)).not.toContain(created.key.slice(created.prefix.length + 1));
  });

  it('is for owners only: an admin is refused 403, and so are GET and DELETE', async () => {
    const { accountId } = await account();
    const created = await createKey(accountId);
    for (const request of [
      { method: 'POST', path: '/v1/api-keys', body: { name: 'x' } },
      { method: 'GET', path: '/v1/api-keys' },
      { method: 'DELETE', path: `/v1/api-keys/${created.id}` },
    ]) {
      const res = await call(api, { ...request, as: admin(accountId) });
      expect(res.status, `${request.method} ${request.path}`).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('answers 400 naming body.name for a missing or blank name', async () => {
    const { accountId } = await account();
    const res = await call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name: '  ' } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual(['body.name']);
  });

  it(`holds at most ${API_KEY_LIMIT} keys per account, under concurrent creations; a deletion frees a slot`, async () => {
    const { accountId } = await account();
    const { ok } = await race(Array.from({ length: API_KEY_LIMIT + 3 }, (_, i) => () => call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name: `k${i}` } })));
    const created = ok.filter((r) => r.status === 201);
    const refused = ok.filter((r) => r.status !== 201);
    expect(created).toHaveLength(API_KEY_LIMIT);
    expect(refused.map((r) => [r.status, r.body.error.code, r.body.error.resource, r.body.error.limit])).toEqual(Array(3).fill([409, 'QUOTA_EXCEEDED', 'apiKeys', API_KEY_LIMIT]));
    expect((await call(api, { method: 'GET', path: '/v1/api-keys', as: owner(accountId) })).body.items).toHaveLength(API_KEY_LIMIT);
    expect((await call(api, { method: 'DELETE', path: `/v1/api-keys/${created[0]!.body.id}`, as: owner(accountId) })).status).toBe(204);
    expect((await call(api, { method: 'POST', path: '/v1/api-keys', as: owner(accountId), body: { name: 'again' } })).status).toBe(201);
  });
});

describe('DELETE /v1/api-keys/{id}', () => {
  it('deletes the key (204): the authorizer refuses it from the next request; another account cannot delete it (404)', async () => {
    const { accountId } = await account();
    const other = await account();
    const created = await createKey(accountId);
    expect((await authorize(created.key)).isAuthorized).toBe(true);
    const foreign = await call(api, { method: 'DELETE', path: `/v1/api-keys/${created.id}`, as: owner(other.accountId) });
    expect(foreign.status).toBe(404);
    expect((await authorize(created.key)).isAuthorized).toBe(true);
    expect((await call(api, { method: 'DELETE', path: `/v1/api-keys/${created.id}`, as: owner(accountId) })).status).toBe(204);
    expect(await authorize(created.key)).toEqual({ isAuthorized: false, context: {} });
    expect((await call(api, { method: 'DELETE', path: `/v1/api-keys/${created.id}`, as: owner(accountId) })).status).toBe(404);
  });
});

describe('the API-key authorizer', () => {
  it("allows a key with its account, the admin role and its id; denies a missing, malformed, unknown or forged one", async () => {
    const { accountId } = await account();
    const created = await createKey(accountId);
    expect(await authorize(created.key)).toEqual({ isAuthorized: true, context: { accountId, role: 'admin', keyId: created.id, via: 'apiKey' } });
    const forged = `${created.prefix}_${'A'.repeat(43)}`;
    for (const key of [forged, 'wak_zzzzzzzz_' + 'B'.repeat(43), 'Bearer nothing']) {
      expect(await authorize(key), key).toEqual({ isAuthorized: false, context: {} });
    }
    expect(await authorizer(authorizerEvent({}), lambdaContext('authorizer'))).toEqual({ isAuthorized: false, context: {} });
  });

  it('writes lastUsedAt once for two uses within a minute, and once for many concurrent uses', async () => {
    const { accountId } = await account();
    const store = new DynamoApiKeyStore(table.doc, table.tableName, { now: () => new Date() });
    let writes = 0;
    const counting = {
      get: (keyId: string) => store.get(keyId),
      touch: async (keyId: string, at: string, since: string) => {
        const wrote = await store.touch(keyId, at, since);
        if (wrote) writes++;
        return wrote;
      },
    };
    const clock = (iso: string) => ({ now: () => new Date(iso) });
    const sequential = await createKey(accountId, 'sequential');
    await verifyApiKey({ apiKeys: counting, clock: clock('2026-03-01T10:00:00.000Z') }, sequential.key);
    await verifyApiKey({ apiKeys: counting, clock: clock('2026-03-01T10:00:40.000Z') }, sequential.key);
    expect(writes).toBe(1);
    expect((await store.get(sequential.id))?.lastUsedAt).toBe('2026-03-01T10:00:00.000Z');

    writes = 0;
    const concurrent = await createKey(accountId, 'concurrent');
    const { ok, errors } = await race(Array.from({ length: 12 }, () => () => verifyApiKey({ apiKeys: counting, clock: clock('2026-03-01T10:00:00.000Z') }, concurrent.key)));
    expect(errors).toEqual([]);
    expect(ok.every((context) => context?.keyId === concurrent.id)).toBe(true);
    expect(writes).toBe(1);
    const listed = (await call(api, { method: 'GET', path: '/v1/api-keys', as: owner(accountId) })).body.items as { id: string; lastUsedAt: string | null }[];
    expect(listed.find((k) => k.id === concurrent.id)?.lastUsedAt).toBe('2026-03-01T10:00:00.000Z');
  });
});

describe('requests made with an API key (/api/v1/…)', () => {
  it('sends from the default number (202, through the Graph API), and is refused 403 FEATURE_UNAVAILABLE on an additional number', async () => {
    const { accountId, main, other } = await account();
    const { key } = await createKey(accountId);
    const sent = await withKey(key, { method: 'POST', path: `/v1/conversations/${conversationOf(main)}/messages`, body: { text: 'Olá via API' } });
    expect(sent.status).toBe(202);
    expect(sender.texts.some((t) => t.phoneNumberId === main.phoneNumberId && t.text === 'Olá via API')).toBe(true);
    const refused = await withKey(key, { method: 'POST', path: `/v1/conversations/${conversationOf(other)}/messages`, body: { text: 'no' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: other.whatsapp_phno });
    expect(sender.texts.some((t) => t.phoneNumberId === other.phoneNumberId)).toBe(false);
  });

  it('reads the default number only: conversations narrowed to it, another number\'s listing or messages refused 403', async () => {
    const { accountId, main, other } = await account();
    const { key } = await createKey(accountId);
    const list = await withKey(key, { method: 'GET', path: '/v1/conversations' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { whatsapp_phno: string }) => c.whatsapp_phno)).toEqual([main.whatsapp_phno]);
    const narrowed = await withKey(key, { method: 'GET', path: '/v1/conversations', query: { whatsapp_phno: other.whatsapp_phno } });
    expect(narrowed.status).toBe(403);
    expect(narrowed.body.error.code).toBe('FEATURE_UNAVAILABLE');
    expect((await withKey(key, { method: 'GET', path: `/v1/conversations/${conversationOf(main)}/messages` })).status).toBe(200);
    const messages = await withKey(key, { method: 'GET', path: `/v1/conversations/${conversationOf(other)}/messages` });
    expect(messages.status).toBe(403);
    expect(messages.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: other.whatsapp_phno });
    // A dashboard token still sees every number.
    const all = await call(api, { method: 'GET', path: '/v1/conversations', as: admin(accountId) });
    expect(new Set(all.body.items.map((c: { whatsapp_phno: string }) => c.whatsapp_phno))).toEqual(new Set([main.whatsapp_phno, other.whatsapp_phno]));
  });

  it('broadcasts from the default number only: another number answers 403 before anything is stored', async () => {
    const { accountId, main, other } = await account();
    const { key } = await createKey(accountId);
    const body = (number: FixtureNumber) => ({ whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'pt_BR' }, recipients: [MARIA] });
    const refused = await withKey(key, { method: 'POST', path: '/v1/broadcasts', body: body(other) });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: other.whatsapp_phno });
    // On the default number the key gets as far as the template check (never submitted here).
    const allowed = await withKey(key, { method: 'POST', path: '/v1/broadcasts', body: body(main) });
    expect(allowed.status).toBe(409);
    expect(allowed.body.error.code).toBe('TEMPLATE_NOT_APPROVED');
    expect((await withKey(key, { method: 'GET', path: '/v1/broadcasts' })).status).toBe(200);
    expect((await withKey(key, { method: 'GET', path: '/v1/broadcasts', query: { whatsapp_phno: other.whatsapp_phno } })).status).toBe(403);
  });

  it('lists numbers and templates', async () => {
    const { accountId } = await account();
    const { key } = await createKey(accountId);
    const numbers = await withKey(key, { method: 'GET', path: '/v1/numbers' });
    expect(numbers.status).toBe(200);
    expect(numbers.body.items).toHaveLength(2);
    expect((await withKey(key, { method: 'GET', path: '/v1/templates' })).status).toBe(200);
  });

  it('is refused 403 FORBIDDEN on dashboard-only routes (POST /v1/api-keys, PATCH /v1/account, GET /v1/contacts)', async () => {
    const { accountId } = await account();
    const { key } = await createKey(accountId);
    for (const request of [
      { method: 'POST', path: '/v1/api-keys', body: { name: 'escalate' } },
      { method: 'PATCH', path: '/v1/account', body: { timeZone: 'UTC' } },
      { method: 'GET', path: '/v1/contacts' },
    ]) {
      const res = await withKey(key, request);
      expect(res.status, `${request.method} ${request.path}`).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.message).toContain('dashboard token');
    }
    expect((await call(api, { method: 'GET', path: '/v1/api-keys', as: owner(accountId) })).body.items).toHaveLength(1);
  });

  it('keeps the two prefixes apart: a key context on /v1/… and a token on /api/v1/… answer 401', async () => {
    const { accountId } = await account();
    const { key } = await createKey(accountId);
    const decision = await authorize(key);
    const event = apiEvent({ method: 'GET', path: '/v1/numbers' });
    (event.requestContext as unknown as { authorizer: unknown }).authorizer = { lambda: decision.context };
    expect((await api(event)).statusCode).toBe(401);
    expect((await call(api, { method: 'GET', path: '/api/v1/numbers', as: owner(accountId) })).status).toBe(401);
  });

  it('replays a send with the same Idempotency-Key instead of sending twice', async () => {
    const { accountId, main } = await account();
    const { key } = await createKey(accountId);
    const request = { method: 'POST', path: `/v1/conversations/${conversationOf(main)}/messages`, body: { text: 'once only' }, headers: { 'idempotency-key': 'send-1' } };
    const first = await withKey(key, request);
    const again = await withKey(key, request);
    expect(first.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(sender.texts.filter((t) => t.text === 'once only')).toHaveLength(1);
  });

  it('follows a replaced default at once: the new default sends, the old one is refused', async () => {
    const { accountId, main } = await account();
    const { key } = await createKey(accountId);
    expect((await withKey(key, { method: 'POST', path: `/v1/conversations/${conversationOf(main)}/messages`, body: { text: 'before' } })).status).toBe(202);
    const next = freshNumber();
    const replaced = await call(api, {
      method: 'PUT',
      path: '/v1/numbers/default',
      as: owner(accountId),
      body: { name: 'New main', displayPhoneNumber: next.whatsapp_phno, phoneNumberId: next.phoneNumberId, wabaId: next.wabaId },
    });
    expect(replaced.status).toBeLessThan(300);
    await writes(accountId, next);
    const sent = await withKey(key, { method: 'POST', path: `/v1/conversations/${conversationOf(next)}/messages`, body: { text: 'after' } });
    expect(sent.status).toBe(202);
    expect(sender.texts.some((t) => t.phoneNumberId === next.phoneNumberId && t.text === 'after')).toBe(true);
    const old = await withKey(key, { method: 'POST', path: `/v1/conversations/${conversationOf(main)}/messages`, body: { text: 'old' } });
    expect(old.status).toBe(403);
    expect(old.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'apiWebhooks', whatsapp_phno: main.whatsapp_phno });
    const list = await withKey(key, { method: 'GET', path: '/v1/conversations' });
    expect(list.body.items.map((c: { whatsapp_phno: string }) => c.whatsapp_phno)).toEqual([next.whatsapp_phno]);
  });
});
