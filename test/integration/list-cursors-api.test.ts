/**
 * Every paginated listing of the API refuses a cursor it did not issue for
 * that very listing, with 400 VALIDATION_FAILED on `query.cursor`, before
 * anything reaches DynamoDB. The list routes are found in the route table
 * (every GET whose query takes a `cursor`), so a new listing is covered the
 * day it is added.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { AUTOMATION_KINDS } from '../../schemas/automations.js';
import { TABLE } from '../../schemas/table.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoWebhookSubscriptionStore } from '../../functions/adapters/dynamo/webhook-subscription-store.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender, putNumber, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

const SENDERS = ['16505550002', '16505550003'];

let table: TestTable;
let api: ReturnType<typeof createApi>;
let accountId: string;
/** A value for every path parameter a listing may have. */
let params: Record<string, string>;

const send = (request: ApiRequest) => call(api, request);
const owner = () => ({ role: 'owner' as const, accountId });
const asCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The API's paginated listings: every GET whose query schema takes a cursor. */
const listRoutes = apiRoutes.filter((route) => route.method === 'GET' && route.query instanceof z.ZodObject && 'cursor' in route.query.shape);

function pathOf(template: string): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    // `{id}` names a sequence in one listing and a webhook subscription in another.
    const value = name === 'id' && template.startsWith('/v1/webhook-subscriptions/') ? params.subscriptionId : params[name];
    if (value === undefined) throw new Error(`No value for {${name}} of ${template}: add one to the test's params`);
    return encodeURIComponent(value);
  });
}

/** The first page's cursor of a listing (it has more than one item). */
async function issuedCursor(path: string): Promise<string> {
  const res = await send({ method: 'GET', path, as: owner(), query: { limit: '1' } });
  expect(res.status, `${path} lists`).toBe(200);
  expect(res.body.nextCursor, `${path} has a second page`).toBeTruthy();
  return res.body.nextCursor;
}

beforeAll(async () => {
  table = await createTestTable('list-cursors');
  const deps = adaptersFor(table);
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
  ({ accountId } = await newAccount(deps, {}, 1_000_000));
  await putNumber(table, accountId, NUMBERS.default, true, 'Support');
  const inbox = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  // Two contacts and conversations; two messages in the first; two ledger entries (creation and a top-up).
  for (const from of [SENDERS[0]!, SENDERS[0]!, SENDERS[1]!]) {
    await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from }))));
  }
  expect((await send({ method: 'POST', path: '/v1/credits/topups', as: owner(), body: { amountMicros: 1_000 } })).status).toBe(200);
  // A subscription whose deliveries are listed (put through the store: its URL is not checked against DNS here).
  const subscription = { id: 'whs_listed0000000001', accountId, url: 'https://hooks.example.com/x', events: ['WhatsApp Message Received' as const], createdAt: new Date().toISOString() };
  await new DynamoWebhookSubscriptionStore(table.doc, table.tableName).create(subscription, 10);
  params = { conversationId: conversationIdOf(NUMBERS.default.whatsapp_phno, SENDERS[0]!), id: 'seq_listed00001', subscriptionId: subscription.id };
  // Two internal notes on the first conversation.
  for (const text of ['first note', 'second note']) {
    expect((await send({ method: 'POST', path: `/v1/conversations/${params.conversationId}/notes`, as: owner(), body: { text } })).status).toBe(201);
  }
});

describe('a forged cursor on every list route', () => {
  it('finds every paginated listing in the route table', () => {
    expect(listRoutes.map((route) => route.path).sort()).toEqual(
      [
        '/v1/broadcasts',
        '/v1/contacts',
        '/v1/conversations',
        '/v1/conversations/{conversationId}/messages',
        '/v1/conversations/{conversationId}/notes',
        '/v1/credits/ledger',
        ...AUTOMATION_KINDS.map((kind) => `/v1/automations/${kind}`),
        '/v1/sequences/{id}/enrollments',
        '/v1/teams',
        '/v1/users',
        '/v1/webhook-subscriptions',
        '/v1/webhook-subscriptions/{id}/deliveries',
      ].sort(),
    );
  });

  it.each(listRoutes.map((route) => [route.path]))('%s answers 400 VALIDATION_FAILED naming query.cursor', async (template) => {
    const path = pathOf(template);
    const otherListing = template === '/v1/credits/ledger' ? '/v1/conversations' : '/v1/credits/ledger';
    const forged: [string, string][] = [
      ['not base64 JSON', 'bm9wZQ'],
      ['JSON, not a key', asCursor([1, 2])],
      ['a key of no item', asCursor({ [TABLE.partitionKey]: 'forged', [TABLE.sortKey]: 'forged' })],
      [
        'a key of another item type of the account',
        asCursor(template === '/v1/teams' ? entities.user.key({ accountId, userId: 'usr_forged' }) : entities.team.key({ accountId, teamId: 'team_forged' })),
      ],
      ['a key with a number where a string goes', asCursor({ [TABLE.partitionKey]: 1, [TABLE.sortKey]: 2 })],
      ['a cursor issued by another listing', await issuedCursor(otherListing)],
    ];
    for (const [kind, cursor] of forged) {
      const res = await send({ method: 'GET', path, as: owner(), query: { cursor } });
      expect(res.status, `${template}, ${kind}`).toBe(400);
      expect(res.body.error.code, `${template}, ${kind}`).toBe('VALIDATION_FAILED');
      expect(res.body.error.issues[0].path, `${template}, ${kind}`).toEqual(['query', 'cursor']);
    }
  });

  it('still takes the cursors it issued', async () => {
    for (const template of ['/v1/contacts', '/v1/conversations', '/v1/conversations/{conversationId}/messages', '/v1/credits/ledger']) {
      const path = pathOf(template);
      const next = await send({ method: 'GET', path, as: owner(), query: { limit: '1', cursor: await issuedCursor(path) } });
      expect(next.status, template).toBe(200);
      expect(next.body.items, template).toHaveLength(1);
    }
  });
});
