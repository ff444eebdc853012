/**
 * Tenant isolation through the API handler on DynamoDB Local, over the whole
 * route table (`apiRoutes`), so a route added tomorrow is covered the day it
 * is added:
 *
 * - a caller of one account naming another account's resource in the path
 *   (any role allowed on the route, support acting on its account with
 *   `X-Account-Id`, an API key on the key routes) gets 404 NOT_FOUND, and the
 *   other account's data reads exactly as before (fast-check over random
 *   accounts, roles and routes, plus every route once);
 * - a role below a route's minimum gets 403 FORBIDDEN whatever it names
 *   (agents never reach admin, owner or support routes);
 * - an API key gets 403 FORBIDDEN on every dashboard-only route;
 * - a pagination cursor issued to one account, used by another on the same
 *   listing, is refused (400 on query.cursor) and never shows the first
 *   account's items.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DynamoIntegrationStore } from '../../functions/adapters/dynamo/integration-store.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoTemplateRepository } from '../../functions/adapters/dynamo/template-repository.js';
import { DynamoWebhookSubscriptionStore } from '../../functions/adapters/dynamo/webhook-subscription-store.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import type { Route } from '../../functions/api/router.js';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { makeAuthorizerHandler } from '../../functions/authorizer/app.js';
import { createAuthorizerDeps } from '../../functions/authorizer/deps.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { lambdaContext } from '../../local/http-event.js';
import type { ApiKeyAuthorizerContext } from '../../schemas/api-keys.js';
import type { Role } from '../../schemas/common.js';
import { agentSeat } from '../support/access.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type ApiRequest, type Caller, apiEvent, call } from '../support/api-events.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, RecordingSender, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let authorizer: ReturnType<typeof makeAuthorizerHandler>;
const send = (request: ApiRequest) => call(api, request);

const RANK: Record<Role, number> = { agent: 1, admin: 2, owner: 3, support: 4 };
const ROLES: Role[] = ['agent', 'admin', 'owner', 'support'];

/** Everything one account has that a path can name, and its callers. */
interface Tenant {
  accountId: string;
  main: FixtureNumber;
  other: FixtureNumber;
  senders: [string, string];
  conversationId: string;
  secondConversationId: string;
  teamId: string;
  userId: string;
  agent: Caller;
  broadcastId: string;
  subscriptionId: string;
  deliveryId: string;
  integrationId: string;
  apiKeyId: string;
  apiKey: string;
  /** `{kind}` → an id of that automation kind (two of each exist). */
  automations: Record<string, string>;
}

const tenants: Tenant[] = [];

/** Ids of the right shape that no account has: what another account's ids must be indistinguishable from. */
const GHOST: Tenant = {
  accountId: 'acc_ghost00000001',
  main: { whatsapp_phno: '15589999999001', phoneNumberId: '799999999901', wabaId: '899999999901' },
  other: { whatsapp_phno: '15589999999002', phoneNumberId: '799999999902', wabaId: '899999999902' },
  senders: ['16505559999', '16505559998'],
  conversationId: '15589999999001_16505559999',
  secondConversationId: '15589999999001_16505559998',
  teamId: 'team_ghost000001',
  userId: 'usr_ghost0000001',
  agent: { role: 'agent', accountId: 'acc_ghost00000001', userId: 'usr_ghost0000001' },
  broadcastId: 'brd_ghost0000001',
  subscriptionId: 'whs_ghost0000001',
  deliveryId: 'dlv_ghost0000001',
  integrationId: 'int_ghost0000001',
  apiKeyId: 'key_ghost001',
  apiKey: 'wak_ghost001_none',
  automations: Object.fromEntries(['keywords', 'default-actions', 'routes', 'reply-material', 'chatbots', 'ai-agents', 'sequences'].map((kind) => [kind, 'aut_ghost0000001'])),
};

/** The route's path with the tenant's ids in it. */
function pathFor(route: Route<unknown>, t: Tenant): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = paramValue(route.path, name, t);
    if (value === undefined) throw new Error(`No value for {${name}} of ${route.path}: add one to pathFor`);
    return encodeURIComponent(value);
  });
}

function paramValue(template: string, name: string, t: Tenant): string | undefined {
  switch (name) {
    case 'accountId':
      return t.accountId;
    case 'teamId':
      return t.teamId;
    case 'userId':
      return t.userId;
    case 'phno':
      return t.main.whatsapp_phno;
    case 'conversationId':
    case 'contactId':
      return t.conversationId;
    case 'broadcastId':
      return t.broadcastId;
    case 'deliveryId':
      return t.deliveryId;
    case 'id': {
      if (template.startsWith('/v1/automations/')) return t.automations[template.split('/')[3]!];
      if (template.startsWith('/v1/sequences/')) return t.automations.sequences;
      if (template.startsWith('/v1/integrations/')) return t.integrationId;
      if (template.startsWith('/v1/api-keys/')) return t.apiKeyId;
      if (template.startsWith('/v1/webhook-subscriptions/')) return t.subscriptionId;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A valid body for each route that takes one, built from the caller's own account (so only the path names the other). */
function bodyFor(route: Route<unknown>, own: Tenant): unknown {
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, unknown> = {
    'PUT /v1/teams/{teamId}/members': { userIds: [own.userId] },
    'PUT /v1/teams/{teamId}/numbers': { whatsapp_phnos: [own.main.whatsapp_phno] },
    'PATCH /v1/numbers/{phno}': { name: 'Renamed' },
    'PUT /v1/numbers/{phno}/catalog': { catalogId: '9900000000001' },
    'POST /v1/admin/accounts/{accountId}/merge': { sourceAccountId: own.accountId },
    'POST /v1/conversations/{conversationId}/messages': { text: 'hello from elsewhere' },
    'POST /v1/conversations/{conversationId}/assign': { teamId: own.teamId },
    'POST /v1/conversations/{conversationId}/status': { status: 'resolved' },
    'POST /v1/conversations/{conversationId}/notes': { text: 'a note from elsewhere' },
    'POST /v1/conversations/{conversationId}/typing': {},
    'PATCH /v1/contacts/{contactId}': { name: 'Renamed' },
    'PUT /v1/automations/keywords/{id}': { keywords: ['price'], action: { type: 'reply', text: 'Changed' } },
    'PUT /v1/automations/default-actions/{id}': { event: 'fallback', text: 'Changed' },
    'PUT /v1/automations/routes/{id}': { name: 'Changed', teamId: own.teamId },
    'PUT /v1/automations/reply-material/{id}': { name: 'Changed', content: { type: 'text', text: 'Changed' } },
    'PUT /v1/automations/chatbots/{id}': { name: 'Changed', steps: [{ id: 'start', text: 'Changed' }] },
    'PUT /v1/automations/ai-agents/{id}': { name: 'Changed', instructions: 'Changed', knowledge: ['Changed'] },
    'PUT /v1/automations/sequences/{id}': { name: 'Changed', steps: [{ delay: { minutes: 5 }, message: { text: 'Changed' } }] },
    'POST /v1/sequences/{id}/enrollments': { conversationId: own.conversationId },
  };
  if (key in bodies) return bodies[key];
  // Routes that name nothing in their path are reached here only by callers the gate refuses before any body is read.
  if (route.body && /\{\w+\}/.test(route.path) && route.scope === 'account') throw new Error(`No body for ${key}: add one to bodyFor`);
  return route.body ? {} : undefined;
}

/** The routes that name something of an account in their path (platform routes name the account itself). */
const pathRoutes = apiRoutes.filter((route) => route.scope === 'account' && /\{\w+\}/.test(route.path));

function callerOf(t: Tenant, role: Role): { as: Caller; headers?: Record<string, string> } {
  if (role === 'support') return { as: { role: 'support', sub: 'ops-1' }, headers: { 'x-account-id': t.accountId } };
  if (role === 'agent') return { as: t.agent };
  return { as: { role, accountId: t.accountId } };
}

/** A request made with the tenant's API key, through the authorizer handler, as API Gateway hands it on. */
async function withKey(t: Tenant, request: Omit<ApiRequest, 'as'>) {
  const decision = await authorizer(
    {
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/api/v1/numbers',
      identitySource: [t.apiKey],
      routeKey: '$default',
      rawPath: `/api${request.path}`,
      rawQueryString: '',
      headers: { 'x-api-key': t.apiKey },
      requestContext: { http: { method: request.method, path: `/api${request.path}` } },
    } as unknown as APIGatewayRequestAuthorizerEventV2,
    lambdaContext('authorizer'),
  );
  expect(decision.isAuthorized).toBe(true);
  const event = apiEvent({ ...request, path: `/api${request.path}` });
  (event.requestContext as unknown as { authorizer: { lambda: ApiKeyAuthorizerContext } }).authorizer = { lambda: decision.context as ApiKeyAuthorizerContext };
  const response = await api(event);
  return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
}

/** Every GET of the account (lists and each named thing) as its owner sees it: what isolation must leave unchanged. */
async function snapshot(t: Tenant): Promise<Record<string, unknown>> {
  const reads: Record<string, unknown> = {};
  for (const route of apiRoutes) {
    if (route.method !== 'GET' || route.scope !== 'account') continue;
    const path = pathFor(route, t);
    const res = await send({ method: 'GET', path, as: { role: 'owner', accountId: t.accountId } });
    expect(res.status, `${path} as its owner`).toBe(200);
    reads[path] = res.body;
  }
  // Last-used times move with every key request of the account's own key: not a change to isolate.
  for (const key of (reads['/v1/api-keys'] as { items: { lastUsedAt?: unknown }[] }).items) delete key.lastUsedAt;
  return reads;
}

let numberSeq = 0;
function freshNumber(): FixtureNumber {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;
  return { whatsapp_phno: `1558${n}`, phoneNumberId: `7${n}01`, wabaId: `8${n}01` };
}

async function tenant(index: number): Promise<Tenant> {
  const deps = adaptersFor(table);
  const { accountId } = await newAccount(deps, { users: 10, teams: 10, chatbotSessions: 10, aiResponses: 10 }, 50_000_000);
  const owner = { role: 'owner' as const, accountId };
  const admin = { role: 'admin' as const, accountId };
  const ok = async (request: ApiRequest, status = 201) => {
    const res = await send(request);
    expect(res.status, `${request.method} ${request.path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };
  const main = freshNumber();
  const other = freshNumber();
  // Connected as `POST /v1/numbers` does (the account's default pointer included: API keys act on it).
  await connectNumber(deps, accountId, { name: 'Main', ...main }, `connect-${main.whatsapp_phno}`);
  await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
  await connectNumber(deps, accountId, { name: 'Other', ...other }, `connect-${other.whatsapp_phno}`);
  // Each tenant's contacts are its own people: no id is shared by accident.
  const senders: [string, string] = [`1650555${index}001`, `1650555${index}002`];
  const inbox = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  const t0 = Math.floor(Date.now() / 1000) - 60;
  for (const [i, from] of [senders[0], senders[0], senders[1]].entries()) {
    await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from, number: main, timestamp: t0 + i, text: `hello ${i}` }))));
  }
  const conversationId = `${main.whatsapp_phno}_${senders[0]}`;
  const secondConversationId = `${main.whatsapp_phno}_${senders[1]}`;
  for (const text of ['first note', 'second note']) await ok({ method: 'POST', path: `/v1/conversations/${conversationId}/notes`, as: owner, body: { text } });
  await ok({ method: 'POST', path: '/v1/credits/topups', as: owner, body: { amountMicros: 1_000 } }, 200);
  const seat = await agentSeat(send, accountId);
  await agentSeat(send, accountId);

  const automations: Record<string, string> = {};
  const automationBodies: Record<string, (n: number) => unknown> = {
    keywords: (n) => ({ keywords: [`word${n}`], action: { type: 'reply', text: `Answer ${n}` } }),
    'default-actions': (n) => ({ event: n === 0 ? 'fallback' : 'welcome', text: `Default ${n}` }),
    routes: (n) => ({ name: `Route ${n}`, teamId: seat.teamId, keywords: [`route${n}`] }),
    'reply-material': (n) => ({ name: `Material ${n}`, content: { type: 'text', text: `Material ${n}` } }),
    chatbots: (n) => ({ name: `Bot ${n}`, steps: [{ id: 'start', text: `Bot ${n}` }] }),
    'ai-agents': (n) => ({ name: `Agent ${n}`, instructions: 'Be brief.', knowledge: [`Fact ${n}`], scope: { whatsapp_phno: n === 0 ? main.whatsapp_phno : other.whatsapp_phno } }),
    sequences: (n) => ({ name: `Sequence ${n}`, steps: [{ delay: { minutes: 5 }, message: { text: `Step ${n}` } }] }),
  };
  for (const [kind, body] of Object.entries(automationBodies)) {
    for (const n of [0, 1]) {
      const created = await ok({ method: 'POST', path: `/v1/automations/${kind}`, as: admin, body: body(n) });
      if (n === 0) automations[kind] = created.id;
    }
  }
  for (const id of [conversationId, secondConversationId]) {
    await ok({ method: 'POST', path: `/v1/sequences/${automations.sequences}/enrollments`, as: admin, body: { conversationId: id } });
  }

  // Stored directly: the API would resolve these URLs through DNS.
  const at = new Date().toISOString();
  const integrationId = `int_iso${index}0000001`;
  await new DynamoIntegrationStore(table.doc, table.tableName).create({ integrationId, accountId, type: 'http', config: { url: 'https://crm.example.com/in' }, createdAt: at });
  const subscriptions = new DynamoWebhookSubscriptionStore(table.doc, table.tableName);
  const subscriptionId = `whs_iso${index}0000001`;
  for (const id of [subscriptionId, `whs_iso${index}0000002`]) {
    await subscriptions.create({ id, accountId, url: 'https://hooks.example.com/x', events: ['WhatsApp Message Received'], createdAt: at }, 10);
  }
  const deliveryIds = [`dlv_iso${index}0000001`, `dlv_iso${index}0000002`];
  for (const deliveryId of deliveryIds) {
    await subscriptions.createDelivery({
      accountId,
      subscriptionId,
      deliveryId,
      eventId: `wamid.${deliveryId}`,
      type: 'WhatsApp Message Received',
      whatsapp_phno: main.whatsapp_phno,
      body: '{}',
      status: 'failed',
      round: 0,
      attempts: 8,
      createdAt: at,
      updatedAt: at,
      failedAt: at,
    });
  }

  // Two broadcasts of an approved template.
  const templates = new DynamoTemplateRepository(table.doc, table.tableName);
  await templates.createIfAbsent({ accountId, name: 'promo', language: 'en_US', category: 'MARKETING', components: [{ type: 'BODY', text: 'Hi' }], numbers: {}, wabas: {}, createdAt: at, updatedAt: at });
  await templates.applyMetaStatus({ accountId, name: 'promo', language: 'en_US' }, { whatsappPhno: main.whatsapp_phno, wabaId: main.wabaId, status: 'APPROVED', occurredAt: at }, at);
  let broadcastId = '';
  for (const n of [0, 1]) {
    const created = await ok({ method: 'POST', path: '/v1/broadcasts', as: admin, body: { whatsapp_phno: main.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: [`1202000000${n}`] } }, 202);
    broadcastId ||= created.broadcastId ?? created.id;
  }
  const key = await ok({ method: 'POST', path: '/v1/api-keys', as: owner, body: { name: 'CRM' } });

  return {
    accountId,
    main,
    other,
    senders,
    conversationId,
    secondConversationId,
    teamId: seat.teamId,
    userId: seat.userId,
    agent: seat.as,
    broadcastId,
    subscriptionId,
    deliveryId: deliveryIds[0]!,
    integrationId,
    apiKeyId: key.id,
    apiKey: key.key,
    automations,
  };
}

beforeAll(async () => {
  table = await createTestTable('tenant-isolation');
  api = createApi(
    createApiDeps(table.doc, table.tableName, {
      events: new RecordingPublisher(),
      messaging: new RecordingSender(),
      webhookQueue: { enqueue: async () => undefined },
      stepScheduler: { schedule: async () => undefined },
      webhookSigningKey: async () => 'test-signing-key',
    }),
    { onUnexpectedError: (error) => console.error('UNEXPECTED', error) },
  );
  authorizer = makeAuthorizerHandler(createAuthorizerDeps(table.doc, table.tableName));
  for (const i of [0, 1, 2]) tenants.push(await tenant(i));
}, 120_000);

describe('the route table', () => {
  it('has a value for every path parameter and a valid body for every route naming something in its path', () => {
    for (const route of apiRoutes) {
      expect(() => pathFor(route, tenants[0]!), route.path).not.toThrow();
      expect(() => bodyFor(route, tenants[0]!), `${route.method} ${route.path}`).not.toThrow();
    }
    // The sample names real things: each named GET reads 200 for its own account (the snapshot asserts it).
    expect(pathRoutes.length).toBeGreaterThan(40);
  });
});

describe("another account's ids in the path", () => {
  async function attempt(route: Route<unknown>, victim: Tenant, attacker: Tenant, role: Role) {
    const { as, headers } = callerOf(attacker, role);
    return send({ method: route.method, path: pathFor(route, victim), as, headers, body: bodyFor(route, attacker) });
  }

  it('answer 404 on every route, to the lowest role allowed and to support acting on its account, and change nothing', async () => {
    const [victim, attacker] = [tenants[0]!, tenants[1]!];
    const before = await snapshot(victim);
    const leaks: string[] = [];
    for (const route of pathRoutes) {
      for (const role of new Set<Role>([route.role, 'support'])) {
        const res = await attempt(route, victim, attacker, role);
        if (res.status !== 404 || res.body?.error?.code !== 'NOT_FOUND') leaks.push(`${route.method} ${route.path} as ${role}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(await snapshot(victim)).toEqual(before);
  });

  it('answer 404 for random accounts, roles and routes (fast-check), and change nothing', async () => {
    const before = await Promise.all(tenants.map(snapshot));
    const pair = fc.tuple(fc.integer({ min: 0, max: tenants.length - 1 }), fc.integer({ min: 1, max: tenants.length - 1 })).map(([v, d]) => [v, (v + d) % tenants.length] as const);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pathRoutes),
        pair,
        fc.integer({ min: 0, max: 3 }),
        async (route, [v, a], roleSeed) => {
          const allowed = ROLES.filter((role) => RANK[role] >= RANK[route.role]);
          const role = allowed[roleSeed % allowed.length]!;
          const res = await attempt(route, tenants[v]!, tenants[a]!, role);
          expect(res.status, `${route.method} ${route.path} as ${role}`).toBe(404);
          expect(res.body.error.code).toBe('NOT_FOUND');
        },
      ),
      { numRuns: 120 },
    );
    expect(await Promise.all(tenants.map(snapshot))).toEqual(before);
  });

  it("answer an API key on the key routes exactly as for ids that exist nowhere, and a key never reads another account's lists", async () => {
    const [victim, attacker] = [tenants[1]!, tenants[2]!];
    const keyRoutes = pathRoutes.filter((r) => r.apiKey);
    expect(keyRoutes.length).toBeGreaterThanOrEqual(3);
    for (const route of keyRoutes) {
      const res = await withKey(attacker, { method: route.method, path: pathFor(route, victim), body: bodyFor(route, attacker) });
      const ghost = await withKey(attacker, { method: route.method, path: pathFor(route, GHOST), body: bodyFor(route, attacker) });
      // A key acts on its default number only: another number is 403 FEATURE_UNAVAILABLE whoever has it, so nothing tells
      // another account's conversation from none; a broadcast id of another account is 404 like one never made.
      expect([403, 404], `${route.method} ${route.path}`).toContain(res.status);
      expect({ status: res.status, code: res.body.error.code }, `${route.method} ${route.path}`).toEqual({ status: ghost.status, code: ghost.body.error.code });
    }
    const conversations = await withKey(attacker, { method: 'GET', path: '/v1/conversations' });
    expect(conversations.status).toBe(200);
    expect(conversations.body.items.length).toBeGreaterThan(0);
    expect(conversations.body.items.every((c: { conversationId: string }) => c.conversationId.startsWith(`${attacker.main.whatsapp_phno}_`))).toBe(true);
  });
});

describe("another account's ids in a body", () => {
  it('are refused as ids that exist nowhere (4xx, the same answer), and change nothing of either account', async () => {
    const [victim, caller] = [tenants[0]!, tenants[1]!];
    const admin = { role: 'admin' as const, accountId: caller.accountId };
    const requests = (named: Tenant): ApiRequest[] => [
      { method: 'POST', path: `/v1/conversations/${caller.conversationId}/assign`, as: admin, body: { teamId: named.teamId } },
      { method: 'POST', path: `/v1/conversations/${caller.conversationId}/assign`, as: admin, body: { userId: named.userId } },
      { method: 'PUT', path: `/v1/teams/${caller.teamId}/members`, as: admin, body: { userIds: [named.userId] } },
      { method: 'PUT', path: `/v1/teams/${caller.teamId}/numbers`, as: admin, body: { whatsapp_phnos: [named.main.whatsapp_phno] } },
      { method: 'POST', path: '/v1/automations/routes', as: admin, body: { name: 'Stolen team', teamId: named.teamId } },
      { method: 'POST', path: '/v1/automations/keywords', as: admin, body: { keywords: ['steal'], action: { type: 'startChatbot', chatbotId: named.automations.chatbots } } },
      { method: 'POST', path: '/v1/automations/default-actions', as: admin, body: { event: 'fallback', replyMaterialId: named.automations['reply-material'] } },
      { method: 'POST', path: '/v1/automations/keywords', as: admin, body: { keywords: ['steal'], scope: { whatsapp_phno: named.main.whatsapp_phno }, action: { type: 'reply', text: 'x' } } },
      { method: 'POST', path: `/v1/sequences/${caller.automations.sequences}/enrollments`, as: admin, body: { conversationId: named.conversationId } },
      { method: 'POST', path: `/v1/conversations/${caller.conversationId}/messages`, as: admin, body: { replyMaterialId: named.automations['reply-material'] } },
      { method: 'POST', path: '/v1/broadcasts', as: admin, body: { whatsapp_phno: named.main.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: ['12025550100'] } },
    ];
    const before = await Promise.all([snapshot(victim), snapshot(caller)]);
    const real = requests(victim);
    const ghost = requests(GHOST);
    const answers: string[] = [];
    for (const [i, request] of real.entries()) {
      const res = await send(request);
      const none = await send(ghost[i]!);
      const what = `${request.method} ${request.path} ${JSON.stringify(request.body)}`;
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect({ status: res.status, code: res.body.error.code }, what).toEqual({ status: none.status, code: none.body.error.code });
      answers.push(`${res.status} ${res.body.error.code}`);
    }
    expect(answers).toHaveLength(real.length);
    expect(await Promise.all([snapshot(victim), snapshot(caller)])).toEqual(before);
  });
});

describe('roles', () => {
  it('a role below the route minimum gets 403 FORBIDDEN on every route, whatever it names (fast-check)', async () => {
    const gated = apiRoutes.filter((route) => route.role !== 'agent');
    const before = await Promise.all(tenants.map(snapshot));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gated), fc.integer({ min: 0, max: tenants.length - 1 }), fc.integer({ min: 0, max: tenants.length - 1 }), fc.integer({ min: 0, max: 2 }), async (route, own, named, roleSeed) => {
        const below = ROLES.filter((role) => RANK[role] < RANK[route.role]);
        const role = below[roleSeed % below.length]!;
        const { as, headers } = callerOf(tenants[own]!, role);
        const res = await send({ method: route.method, path: pathFor(route, tenants[named]!), as, headers, body: bodyFor(route, tenants[own]!) });
        expect(res.status, `${route.method} ${route.path} as ${role}`).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      }),
      { numRuns: 150 },
    );
    expect(await Promise.all(tenants.map(snapshot))).toEqual(before);
  });

  it('agents reach no admin, owner or support route: every one of them, 403', async () => {
    const t = tenants[0]!;
    const reached: string[] = [];
    for (const route of apiRoutes.filter((r) => r.role !== 'agent')) {
      const res = await send({ method: route.method, path: pathFor(route, t), as: t.agent, body: bodyFor(route, t) });
      if (res.status !== 403) reached.push(`${route.method} ${route.path}: ${res.status}`);
    }
    expect(reached).toEqual([]);
  });

  it('an owner never reaches a support route', async () => {
    const t = tenants[0]!;
    for (const route of apiRoutes.filter((r) => r.role === 'support')) {
      const res = await send({ method: route.method, path: pathFor(route, t), as: { role: 'owner', accountId: t.accountId }, body: route.path.endsWith('/merge') ? { sourceAccountId: tenants[1]!.accountId } : route.body ? {} : undefined });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
    }
  });
});

describe('API keys', () => {
  it('get 403 FORBIDDEN on every dashboard-only route, their own account named or not', async () => {
    const dashboardOnly = apiRoutes.filter((route) => !route.apiKey);
    expect(dashboardOnly.length).toBeGreaterThan(60);
    const t = tenants[2]!;
    const reached: string[] = [];
    for (const route of dashboardOnly) {
      for (const named of [t, tenants[0]!]) {
        const res = await withKey(t, { method: route.method, path: pathFor(route, named), body: bodyFor(route, t) });
        if (res.status !== 403 || !/dashboard token/.test(res.body?.error?.message ?? '')) reached.push(`${route.method} ${route.path}: ${res.status}`);
      }
    }
    expect(reached).toEqual([]);
  });
});

describe('pagination cursors', () => {
  /** The paginated listings: every GET whose query takes a cursor. */
  const listRoutes = apiRoutes.filter((route) => route.method === 'GET' && route.query instanceof z.ZodObject && 'cursor' in route.query.shape);

  it("refuse a cursor issued to another account on the same listing (400 on query.cursor), never showing the other's items", async () => {
    expect(listRoutes.length).toBeGreaterThan(15);
    for (const route of listRoutes) {
      for (const [issuer, user] of [
        [tenants[0]!, tenants[1]!],
        [tenants[2]!, tenants[0]!],
      ] as const) {
        const first = await send({ method: 'GET', path: pathFor(route, issuer), as: { role: 'owner', accountId: issuer.accountId }, query: { limit: '1' } });
        expect(first.status, route.path).toBe(200);
        const cursor = first.body.nextCursor as string;
        expect(cursor, `${route.path} has a second page for the issuer`).toBeTruthy();
        // The issuer's own second page: the cursor works where it was issued.
        const second = await send({ method: 'GET', path: pathFor(route, issuer), as: { role: 'owner', accountId: issuer.accountId }, query: { limit: '1', cursor } });
        expect(second.status, route.path).toBe(200);
        expect(second.body.items, route.path).toHaveLength(1);

        const res = await send({ method: 'GET', path: pathFor(route, user), as: { role: 'owner', accountId: user.accountId }, query: { limit: '1', cursor } });
        expect(res.status, `${route.path} with another account's cursor`).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
        expect(res.body.error.issues[0].path).toEqual(['query', 'cursor']);
        expect(JSON.stringify(res.body)).not.toContain(issuer.accountId);
      }
    }
  });

  it('refuse it through an API key too', async () => {
    const [issuer, user] = [tenants[0]!, tenants[1]!];
    const first = await withKey(issuer, { method: 'GET', path: '/v1/conversations', query: { limit: '1' } });
    expect(first.status).toBe(200);
    expect(first.body.nextCursor).toBeTruthy();
    const res = await withKey(user, { method: 'GET', path: '/v1/conversations', query: { limit: '1', cursor: first.body.nextCursor } });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['query', 'cursor']);
  });
});
