/**
 * Integrations through the same router the Lambda runs, on DynamoDB Local:
 * `POST/GET/DELETE /v1/integrations` (201 with a secret shown once, the list
 * of zero or one, 204), one per account (a real race of concurrent POSTs:
 * exactly one 201), 400s naming the field (type, config, a URL the
 * request-forgery guard refuses), 403 `FEATURE_UNAVAILABLE` for an
 * additional number, 409 without a default, roles, account isolation, and
 * the bound number following a default replacement.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type ResolvedAddress, assertSafeUrl } from '../../functions/adapters/http/safe-http.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { connectNumber, replaceDefaultNumber } from '../../functions/core/numbers.js';
import { subscriptionSecret } from '../../functions/core/outgoing-webhooks.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { RecordingSender } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

const SIGNING_KEY = 'test-master-signing-key';

/** Host names as a DNS answer would resolve them: one public, one that points into the VPC. */
const DNS: Record<string, ResolvedAddress[]> = {
  'hooks.example.com': [{ address: '93.184.216.34', family: 4 }],
  'crm.internal.example.com': [{ address: '10.0.3.7', family: 4 }],
};

let table: TestTable;
let api: ReturnType<typeof createApi>;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('integrations-api');
  deps = adaptersFor(table);
  // The guard as in AWS (https only, no loopback), over a DNS of the test's own.
  const policy = { allowLoopback: false, allowHttp: false, resolve: async (host: string) => DNS[host] ?? [] };
  const apiDeps = createApiDeps(table.doc, table.tableName, {
    events: new RecordingPublisher(),
    messaging: new RecordingSender(),
    webhookTransport: { check: (url) => assertSafeUrl(url, policy), post: async () => ({ status: 200 }) },
    webhookSigningKey: async () => SIGNING_KEY,
  });
  api = createApi(apiDeps, { onUnexpectedError: (error) => console.error('UNEXPECTED', error) });
});

const send = (request: ApiRequest) => call(api, request);
const admin = (accountId: string) => ({ role: 'admin' as const, accountId });
const paths = (body: { error: { issues: { path: (string | number)[] }[] } }) => body.error.issues.map((issue) => issue.path.join('.'));
const HOOK = 'https://hooks.example.com/hooks/catch/123/abc/';

let seq = 0;
function freshNumber() {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++seq).padStart(3, '0')}`;
  return { whatsapp_phno: `1557${n}`, phoneNumberId: `5${n}01`, wabaId: `6${n}01` };
}

/** An account with its default number and, when asked, one additional number. */
async function account(options: { additional?: boolean; numbers?: boolean } = {}) {
  const { accountId } = await newAccount(deps);
  const main = freshNumber();
  const other = freshNumber();
  if (options.numbers !== false) {
    await connectNumber(deps, accountId, { name: 'Main', ...main }, `connect-${main.whatsapp_phno}`);
    if (options.additional) {
      await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
      await connectNumber(deps, accountId, { name: 'Vendas', ...other }, `connect-${other.whatsapp_phno}`);
    }
  }
  return { accountId, main, other };
}

describe('POST /v1/integrations', () => {
  it('creates the integration on the default number: 201 with its config, number and the secret derived from the master key', async () => {
    const { accountId, main } = await account();
    const res = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK } } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'http', config: { url: HOOK }, whatsapp_phno: main.whatsapp_phno });
    expect(res.body.id).toMatch(/^int_/);
    expect(res.body.secret).toBe(subscriptionSecret(SIGNING_KEY, res.body.id));

    const list = await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([{ id: res.body.id, type: 'http', config: { url: HOOK }, whatsapp_phno: main.whatsapp_phno, createdAt: res.body.createdAt }]);
    // The secret is shown once: never in a read.
    expect(JSON.stringify(list.body)).not.toContain(res.body.secret);
    const one = await send({ method: 'GET', path: `/v1/integrations/${res.body.id}`, as: admin(accountId) });
    expect(one.body).toEqual(list.body.items[0]);
  });

  it('accepts the default number named in the body, and answers 403 FEATURE_UNAVAILABLE for an additional number', async () => {
    const { accountId, main, other } = await account({ additional: true });
    const refused = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK }, whatsapp_phno: other.whatsapp_phno } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FEATURE_UNAVAILABLE', feature: 'integrations', whatsapp_phno: other.whatsapp_phno });
    expect((await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) })).body.items).toEqual([]);

    const created = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK }, whatsapp_phno: `+${main.whatsapp_phno}` } });
    expect(created.status).toBe(201);
    expect(created.body.whatsapp_phno).toBe(main.whatsapp_phno);
  });

  it('answers 404 for a number the account does not have, 409 NO_DEFAULT_NUMBER without any number', async () => {
    const { accountId } = await account();
    const unknown = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK }, whatsapp_phno: '15559999999' } });
    expect(unknown.status).toBe(404);
    const empty = await account({ numbers: false });
    const none = await send({ method: 'POST', path: '/v1/integrations', as: admin(empty.accountId), body: { type: 'http', config: { url: HOOK } } });
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('NO_DEFAULT_NUMBER');
  });

  it('answers 400 naming the field: unknown type, missing or malformed url, unknown config field', async () => {
    const { accountId } = await account();
    const cases: [unknown, string][] = [
      [{ type: 'salesforce', config: { url: HOOK } }, 'body.type'],
      [{ config: { url: HOOK } }, 'body.type'],
      [{ type: 'http', config: {} }, 'body.config.url'],
      [{ type: 'http', config: { url: 'not a url' } }, 'body.config.url'],
      [{ type: 'http', config: { url: 'ftp://hooks.example.com/x' } }, 'body.config.url'],
      [{ type: 'http', config: { url: HOOK, token: 'x' } }, 'body.config'],
      [{ type: 'http', config: { url: HOOK }, whatsapp_phno: 'abc' }, 'body.whatsapp_phno'],
    ];
    for (const [body, path] of cases) {
      const res = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(paths(res.body), JSON.stringify(body)).toContain(path);
    }
    expect((await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) })).body.items).toEqual([]);
  });

  it('refuses URLs the request-forgery guard refuses, with 400 on body.config.url: http, private after DNS, loopback, metadata, credentials', async () => {
    const { accountId } = await account();
    const urls = [
      'http://hooks.example.com/x',
      'https://crm.internal.example.com/inbound',
      'https://127.0.0.1/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:10.0.0.1]/x',
      'https://user:pass@hooks.example.com/x',
      'https://nowhere.example.com/x',
    ];
    for (const url of urls) {
      const res = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url } } });
      expect(res.status, url).toBe(400);
      expect(paths(res.body), url).toEqual(['body.config.url']);
    }
    expect((await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) })).body.items).toEqual([]);
  });

  it('keeps one per account: a second POST answers 409 INTEGRATION_EXISTS naming the first', async () => {
    const { accountId } = await account();
    const first = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK } } });
    const second = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: `${HOOK}other` } } });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'INTEGRATION_EXISTS', id: first.body.id });
    const list = await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) });
    expect(list.body.items.map((i: { config: { url: string } }) => i.config.url)).toEqual([HOOK]);
  });

  it('of concurrent POSTs of one account, exactly one answers 201 and the others 409 (conditional write)', async () => {
    const { accountId } = await account();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: `${HOOK}${i}` } } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    const winner = answers.find((a) => a.status === 201)!;
    for (const loser of answers.filter((a) => a.status === 409)) expect(loser.body.error.id).toBe(winner.body.id);
    const list = await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].id).toBe(winner.body.id);
  });

  it('replays the first answer for a repeated Idempotency-Key instead of a 409', async () => {
    const { accountId } = await account();
    const request = { method: 'POST', path: '/v1/integrations', as: admin(accountId), headers: { 'Idempotency-Key': 'int-1' }, body: { type: 'http', config: { url: HOOK } } };
    const first = await send(request);
    const again = await send(request);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('is for admins and up: an agent answers 403 FORBIDDEN', async () => {
    const { accountId } = await account();
    const res = await send({ method: 'POST', path: '/v1/integrations', as: { role: 'agent', accountId }, body: { type: 'http', config: { url: HOOK } } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect((await send({ method: 'GET', path: '/v1/integrations', as: { role: 'agent', accountId } })).status).toBe(403);
  });
});

describe('GET and DELETE /v1/integrations/{id}', () => {
  it('deletes (204), then the list is empty, the id answers 404, and a new integration may be created', async () => {
    const { accountId } = await account();
    const created = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK } } });
    const path = `/v1/integrations/${created.body.id}`;
    expect((await send({ method: 'DELETE', path, as: admin(accountId) })).status).toBe(204);
    expect((await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) })).body.items).toEqual([]);
    expect((await send({ method: 'GET', path, as: admin(accountId) })).status).toBe(404);
    expect((await send({ method: 'DELETE', path, as: admin(accountId) })).status).toBe(404);
    const next = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK } } });
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe(created.body.id);
    // The old id never deletes the new integration.
    expect((await send({ method: 'DELETE', path, as: admin(accountId) })).status).toBe(404);
    expect((await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) })).body.items).toHaveLength(1);
  });

  it("never reaches another account's integration: 404 for read and delete", async () => {
    const mine = await account();
    const theirs = await account();
    const created = await send({ method: 'POST', path: '/v1/integrations', as: admin(theirs.accountId), body: { type: 'http', config: { url: HOOK } } });
    const path = `/v1/integrations/${created.body.id}`;
    expect((await send({ method: 'GET', path, as: admin(mine.accountId) })).status).toBe(404);
    expect((await send({ method: 'DELETE', path, as: admin(mine.accountId) })).status).toBe(404);
    expect((await send({ method: 'GET', path, as: admin(theirs.accountId) })).status).toBe(200);
  });

  it('answers 400 naming path.id for an id this API never issued', async () => {
    const { accountId } = await account();
    const res = await send({ method: 'DELETE', path: '/v1/integrations/INT%23x', as: admin(accountId) });
    expect(res.status).toBe(400);
    expect(paths(res.body)).toEqual(['path.id']);
  });

  it('shows the new default number after a default replacement: the integration follows the default', async () => {
    const { accountId, main } = await account();
    const created = await send({ method: 'POST', path: '/v1/integrations', as: admin(accountId), body: { type: 'http', config: { url: HOOK } } });
    expect(created.body.whatsapp_phno).toBe(main.whatsapp_phno);
    const next = freshNumber();
    await replaceDefaultNumber(deps, accountId, { name: 'New main', ...next }, `replace-${next.whatsapp_phno}`);
    const list = await send({ method: 'GET', path: '/v1/integrations', as: admin(accountId) });
    expect(list.body.items).toEqual([expect.objectContaining({ id: created.body.id, whatsapp_phno: next.whatsapp_phno })]);
  });
});
