/**
 * Templates on DynamoDB Local through the API: submitted once per WABA of the
 * connected numbers, a status per number kept current from Meta's events
 * (never moved back by a late one), and brought to numbers connected later.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { applyTemplateStatusEvent } from '../../functions/core/template-status.js';
import { syncTemplatesToNumber } from '../../functions/core/templates.js';
import { newAccount, race } from '../support/accounts.js';
import { call } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender, broadcastWorld, connectTestNumber } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('templates');
});

const BODY = { name: 'order_update', language: 'en_US', category: 'UTILITY', components: [{ type: 'BODY', text: 'Your order shipped.' }] };

async function setup(wabas: (string | undefined)[]) {
  const messaging = new RecordingSender();
  const world = broadcastWorld(table, { messaging });
  const account = await newAccount(world.deps, {}, 0);
  const numbers = [];
  for (const wabaId of wabas) numbers.push(await connectTestNumber(world, account.accountId, wabaId ? { wabaId } : {}));
  const deps = createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging });
  const api = createApi(deps);
  const as = { role: 'admin' as const, accountId: account.accountId };
  const statusEvent = (phno: string, wabaId: string, event: string, occurredAt: string, extra: Record<string, unknown> = {}) =>
    applyTemplateStatusEvent(deps, {
      accountId: account.accountId,
      whatsapp_phno: phno,
      wabaId,
      occurredAt,
      receivedAt: occurredAt,
      update: { event, message_template_name: BODY.name, message_template_language: BODY.language, ...extra },
    });
  return { world, deps, api, as, accountId: account.accountId, numbers, messaging, statusEvent };
}

const uniqueWaba = () => `7${Date.now()}${Math.floor(Math.random() * 1000)}`.slice(0, 15);

describe('POST /v1/templates', () => {
  it('submits once per WABA, numbers sharing a WABA share the submission', async () => {
    const shared = uniqueWaba();
    const { api, as, messaging, numbers } = await setup([shared, shared, undefined]);
    const res = await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    expect(res.status).toBe(202);
    expect(messaging.submissions.map((s) => s.wabaId).sort()).toEqual([shared, numbers[2]!.wabaId].sort());
    expect(res.body).toEqual({
      name: 'order_update',
      language: 'en_US',
      numbers: numbers.map((n) => ({ whatsapp_phno: n.whatsapp_phno, status: 'PENDING' })).sort((a, b) => a.whatsapp_phno.localeCompare(b.whatsapp_phno)),
    });
  });

  it('submits nothing again when the same template is posted again', async () => {
    const { api, as, messaging } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    const again = await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    expect(again.status).toBe(202);
    expect(messaging.submissions).toHaveLength(1);
  });

  it('refuses another body under the same name and language with 409 TEMPLATE_EXISTS', async () => {
    const { api, as } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    const res = await call(api, { method: 'POST', path: '/v1/templates', body: { ...BODY, category: 'MARKETING' }, as });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TEMPLATE_EXISTS');
  });

  it('submits once per WABA when the same template is posted concurrently', async () => {
    const { api, as, messaging } = await setup([undefined, undefined]);
    await race(Array.from({ length: 6 }, () => () => call(api, { method: 'POST', path: '/v1/templates', body: BODY, as })));
    expect(messaging.submissions).toHaveLength(2);
  });

  it('is refused to agents', async () => {
    const { api, accountId } = await setup([undefined]);
    const res = await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as: { role: 'agent', accountId } });
    expect(res.status).toBe(403);
  });

  it('answers 400 naming a bad name', async () => {
    const { api, as } = await setup([undefined]);
    const res = await call(api, { method: 'POST', path: '/v1/templates', body: { ...BODY, name: 'Order Update' }, as });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toEqual(['body', 'name']);
  });
});

describe('statuses from Meta', () => {
  it('shows APPROVED on the number its event names, and PENDING elsewhere', async () => {
    const { api, as, numbers, statusEvent } = await setup([undefined, undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'APPROVED', '2030-01-01T00:00:10.000Z');
    const res = await call(api, { method: 'GET', path: '/v1/templates', as: { ...as, role: 'agent' } });
    expect(res.status).toBe(200);
    const statuses = Object.fromEntries(res.body.items[0].numbers.map((n: { whatsapp_phno: string; status: string }) => [n.whatsapp_phno, n.status]));
    expect(statuses).toEqual({ [numbers[0]!.whatsapp_phno]: 'APPROVED', [numbers[1]!.whatsapp_phno]: 'PENDING' });
  });

  it('keeps the newer status when an older event arrives late', async () => {
    const { api, as, numbers, statusEvent } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'APPROVED', '2030-01-01T00:00:10.000Z');
    await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'PENDING', '2030-01-01T00:00:05.000Z');
    const res = await call(api, { method: 'GET', path: '/v1/templates', as });
    expect(res.body.items[0].numbers[0].status).toBe('APPROVED');
  });

  it('shows REJECTED with its reason', async () => {
    const { api, as, numbers, statusEvent } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'REJECTED', '2030-01-01T00:00:10.000Z', { reason: 'INVALID_FORMAT' });
    const res = await call(api, { method: 'GET', path: '/v1/templates', as });
    expect(res.body.items[0].numbers[0]).toEqual({ whatsapp_phno: numbers[0]!.whatsapp_phno, status: 'REJECTED', reason: 'INVALID_FORMAT' });
  });

  it('keeps a decision that arrived before the answer to the submission', async () => {
    const { api, as, numbers, messaging, statusEvent } = await setup([undefined]);
    messaging.onSubmit = async () => {
      await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'APPROVED', new Date().toISOString());
    };
    const res = await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    expect(res.body.numbers[0].status).toBe('APPROVED');
  });

  it('learns a template made outside this API from its event', async () => {
    const { api, as, numbers, statusEvent } = await setup([undefined]);
    await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'APPROVED', '2030-01-01T00:00:10.000Z', { message_template_category: 'MARKETING' });
    const res = await call(api, { method: 'GET', path: '/v1/templates', as });
    expect(res.body.items).toEqual([{ name: BODY.name, language: BODY.language, category: 'MARKETING', numbers: [{ whatsapp_phno: numbers[0]!.whatsapp_phno, status: 'APPROVED' }] }]);
  });

  it('ignores a Meta event that is not a status', async () => {
    const { numbers, statusEvent } = await setup([undefined]);
    expect(await statusEvent(numbers[0]!.whatsapp_phno, numbers[0]!.wabaId, 'SOMETHING_NEW', '2030-01-01T00:00:10.000Z')).toBe('ignored');
  });
});

describe('a number connected later', () => {
  it("takes its WABA's status without a new submission", async () => {
    const shared = uniqueWaba();
    const { world, api, as, accountId, numbers, messaging, statusEvent, deps } = await setup([shared]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    await statusEvent(numbers[0]!.whatsapp_phno, shared, 'APPROVED', '2030-01-01T00:00:10.000Z');
    const later = await connectTestNumber(world, accountId, { wabaId: shared });
    await syncTemplatesToNumber(deps, accountId, later.whatsapp_phno);
    expect(messaging.submissions).toHaveLength(1);
    const res = await call(api, { method: 'GET', path: '/v1/templates', as });
    expect(res.body.items[0].numbers).toContainEqual({ whatsapp_phno: later.whatsapp_phno, status: 'APPROVED' });
  });

  it('gets the templates when connected through POST /v1/numbers', async () => {
    const { world, api, as, accountId, messaging } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    await purchaseAddon(world.deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
    const wabaId = uniqueWaba();
    const connected = await call(api, {
      method: 'POST',
      path: '/v1/numbers',
      body: { name: 'Later', displayPhoneNumber: `1556${Date.now() % 10_000_000}`, phoneNumberId: `6${Date.now()}`.slice(0, 15), wabaId },
      as,
    });
    expect(connected.status).toBe(201);
    expect(messaging.submissions.map((s) => s.wabaId)).toContain(wabaId);
    const res = await call(api, { method: 'GET', path: '/v1/templates', as });
    expect(res.body.items[0].numbers).toContainEqual({ whatsapp_phno: connected.body.whatsapp_phno, status: 'PENDING' });
  });

  it('gets the template submitted to its new WABA', async () => {
    const { world, api, as, accountId, messaging, deps } = await setup([undefined]);
    await call(api, { method: 'POST', path: '/v1/templates', body: BODY, as });
    const later = await connectTestNumber(world, accountId);
    await syncTemplatesToNumber(deps, accountId, later.whatsapp_phno);
    expect(messaging.submissions.map((s) => s.wabaId)).toContain(later.wabaId);
    expect(messaging.submissions).toHaveLength(2);
  });
});
