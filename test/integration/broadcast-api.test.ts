/**
 * The broadcast routes on DynamoDB Local: a broadcast needs its template
 * APPROVED on the number, its recipients are normalised and de-duplicated
 * and stored in chunks (never on the bus), and broadcasts are listed and
 * read per number.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import { newAccount } from '../support/accounts.js';
import { call } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender, approveTemplate, broadcastWorld, connectTestNumber, recipients, sendAllChunks } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;
const bus = new RecordingPublisher();

beforeAll(async () => {
  table = await createTestTable('broadcast-api');
});

async function setup() {
  const world = broadcastWorld(table, { chunkSize: 3 });
  const account = await newAccount(world.deps, {}, 1_000_000);
  const number = await connectTestNumber(world, account.accountId);
  const api = createApi(createApiDeps(table.doc, table.tableName, { events: bus, messaging: new RecordingSender(), chunkSize: 3 }));
  const as = { role: 'admin' as const, accountId: account.accountId };
  return { world, api, as, accountId: account.accountId, number };
}

const post = (api: Awaited<ReturnType<typeof setup>>['api'], as: { role: 'admin'; accountId: string }, body: unknown, headers?: Record<string, string>) =>
  call(api, { method: 'POST', path: '/v1/broadcasts', body, as, ...(headers ? { headers } : {}) });

describe('POST /v1/broadcasts', () => {
  it('answers 202 with the broadcast id and puts Broadcast Requested on the bus, without the recipients', async () => {
    const { world, api, as, accountId, number } = await setup();
    await approveTemplate(world, accountId, number);
    const res = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(7) });
    expect(res.status).toBe(202);
    expect(res.body.broadcastId).toMatch(/^brd_[0-9a-f]{24}$/);
    const event = bus.events.find((e) => (e.detail as { broadcastId?: string }).broadcastId === res.body.broadcastId)!;
    expect(event.source).toBe(SOURCES.api);
    expect(event['detail-type']).toBe(DETAIL_TYPES.broadcastRequested);
    expect(event.detail).toEqual({ accountId, whatsapp_phno: number.whatsapp_phno, eventId: `brq:${res.body.broadcastId}`, broadcastId: res.body.broadcastId, chunkCount: 3 });
  });

  it('normalises and de-duplicates the recipients', async () => {
    const { world, api, as, accountId, number } = await setup();
    await approveTemplate(world, accountId, number);
    // Brazil's old 8-digit mobile and today's 9-digit form are one person.
    const res = await post(api, as, {
      whatsapp_phno: number.whatsapp_phno,
      template: { name: 'promo', language: 'en_US' },
      recipients: ['+55 11 98765-0001', '551187650001', '5511987650001', '+1 (650) 555-0002'],
    });
    const view = await call(api, { method: 'GET', path: `/v1/broadcasts/${res.body.broadcastId}`, as });
    expect(view.body.counts.recipients).toBe(2);
    expect(await world.api.broadcasts.chunkRecipients(res.body.broadcastId, 0)).toEqual(['5511987650001', '16505550002']);
  });

  it('refuses a template not approved on the number with 409 TEMPLATE_NOT_APPROVED', async () => {
    const { world, api, as, accountId, number } = await setup();
    const other = await connectTestNumber(world, accountId);
    await approveTemplate(world, accountId, other);
    const res = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(1) });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'TEMPLATE_NOT_APPROVED', whatsapp_phno: number.whatsapp_phno, status: 'PENDING' });
  });

  it('answers 404 for a number the account does not have', async () => {
    const { api, as } = await setup();
    const res = await post(api, as, { whatsapp_phno: '15559999999', template: { name: 'promo', language: 'en_US' }, recipients: recipients(1) });
    expect(res.status).toBe(404);
  });

  it('answers 400 naming a recipient that is not a phone number', async () => {
    const { api, as, number } = await setup();
    const res = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: ['16505550002', 'hello'] });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['body', 'recipients', 1]);
  });

  it('answers 400 for an empty recipient list', async () => {
    const { api, as, number } = await setup();
    const res = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: [] });
    expect(res.status).toBe(400);
  });

  it('replays the first answer for the same Idempotency-Key and makes one broadcast', async () => {
    const { world, api, as, accountId, number } = await setup();
    await approveTemplate(world, accountId, number);
    const body = { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(2) };
    const first = await post(api, as, body, { 'Idempotency-Key': 'brd-1' });
    const second = await post(api, as, body, { 'Idempotency-Key': 'brd-1' });
    expect(second.body).toEqual(first.body);
    const list = await call(api, { method: 'GET', path: '/v1/broadcasts', query: { whatsapp_phno: number.whatsapp_phno }, as });
    expect(list.body.items).toHaveLength(1);
  });
});

describe('GET /v1/broadcasts', () => {
  it("lists one number's broadcasts newest first", async () => {
    const { world, api, as, accountId, number } = await setup();
    const other = await connectTestNumber(world, accountId);
    await approveTemplate(world, accountId, number);
    await approveTemplate(world, accountId, other);
    const make = async (phno: string) =>
      (await post(api, as, { whatsapp_phno: phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(1) })).body.broadcastId as string;
    const first = await make(number.whatsapp_phno);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await make(number.whatsapp_phno);
    await make(other.whatsapp_phno);
    const res = await call(api, { method: 'GET', path: '/v1/broadcasts', query: { whatsapp_phno: number.whatsapp_phno }, as: { role: 'agent', accountId } });
    expect(res.status).toBe(200);
    expect(res.body.items.map((b: { broadcastId: string }) => b.broadcastId)).toEqual([second, first]);
    const all = await call(api, { method: 'GET', path: '/v1/broadcasts', as });
    expect(all.body.items).toHaveLength(3);
  });

  it('shows a broadcast queued, then completed with its counts and credits', async () => {
    const { world, api, as, accountId, number } = await setup();
    await approveTemplate(world, accountId, number);
    const { body } = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(4) });
    const queued = await call(api, { method: 'GET', path: `/v1/broadcasts/${body.broadcastId}`, as });
    expect(queued.body).toMatchObject({ status: 'queued', counts: { recipients: 4, sent: 0 } });
    await sendAllChunks(world, accountId, body.broadcastId);
    const done = await call(api, { method: 'GET', path: `/v1/broadcasts/${body.broadcastId}`, as });
    expect(done.body).toMatchObject({
      broadcastId: body.broadcastId,
      whatsapp_phno: number.whatsapp_phno,
      template: { name: 'promo', language: 'en_US', category: 'MARKETING' },
      status: 'completed',
      counts: { recipients: 4, sent: 4, delivered: 0, read: 0, failed: 0, replied: 0 },
      creditsSpentMicros: 4_000,
    });
  });

  it("answers 404 for another account's broadcast", async () => {
    const { world, api, as, accountId, number } = await setup();
    await approveTemplate(world, accountId, number);
    const { body } = await post(api, as, { whatsapp_phno: number.whatsapp_phno, template: { name: 'promo', language: 'en_US' }, recipients: recipients(1) });
    const stranger = await newAccount(world.deps, {}, 0);
    const res = await call(api, { method: 'GET', path: `/v1/broadcasts/${body.broadcastId}`, as: { role: 'admin', accountId: stranger.accountId } });
    expect(res.status).toBe(404);
  });
});
