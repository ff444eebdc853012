/**
 * An agent's template from the inbox (`POST /v1/conversations/{id}/messages
 * {replyMaterialId}` with template material, the window closed), through the
 * API router on DynamoDB Local: approved on the number, charged by the rate
 * card within the number's cap, counted against the portfolio messaging
 * limit (429 when it has no room), settled by what WhatsApp did.
 */
import { agentFor } from '../support/access.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoMarketingPreferenceStore } from '../../functions/adapters/dynamo/marketing-preferences.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { WhatsAppRejected } from '../../functions/core/errors.js';
import { MARKETING_CATEGORY } from '../../functions/core/marketing-preferences.js';
import { updateNumber } from '../../functions/core/numbers.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import { call } from '../support/api-events.js';
import { FLAT_RATE_CARD, RecordingSender, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { PRICE, limitView, limitWorld, limitedAccount, openWindow, setTier } from '../support/messaging-limit.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('agent-templates');
});

const HOUR = 3_600_000;
/** Meta refuses sends to these users (e.g. 131026: not on WhatsApp). */
const REFUSED = '1399';

async function inbox() {
  const messaging = new RecordingSender((request) =>
    request.to.startsWith(REFUSED) ? new WhatsAppRejected(131026, 'Message undeliverable') : undefined,
  );
  const world = limitWorld(table, { messaging });
  const { accountId, numbers } = await limitedAccount(world, 2, 10 * PRICE);
  const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
  await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
  const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging, rateCard: FLAT_RATE_CARD, clock: world.clock }));
  const agent = await agentFor((request) => call(api, request), accountId);
  const as = (role: 'agent' | 'admin') => (role === 'agent' ? agent : { role, accountId });
  const material = async (template: string) => {
    const res = await call(api, { method: 'POST', path: '/v1/automations/reply-material', as: as('admin'), body: { name: template, content: { type: 'template', name: template, language: 'en_US' } } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  /** The agent sends the material to a user who wrote two days ago (window closed). */
  const post = (number: { whatsapp_phno: string }, waId: string, replyMaterialId: string) =>
    call(api, { method: 'POST', path: `/v1/conversations/${conversationIdOf(number.whatsapp_phno, waId)}/messages`, as: as('agent'), body: { replyMaterialId } });
  const sendTo = async (number: { whatsapp_phno: string }, waId: string, replyMaterialId: string) => {
    await openWindow(world, accountId, number.whatsapp_phno, [waId], 48 * HOUR);
    return post(number, waId, replyMaterialId);
  };
  const balance = () => world.deps.accounts.balance(accountId);
  return { world, messaging, accountId, main, sales, material, post, sendTo, balance };
}

describe('an agent template with the window closed', () => {
  it('is sent, charged the rate card price once, and takes one messaging-limit unit', async () => {
    const { world, messaging, accountId, main, material, sendTo, balance } = await inbox();
    const promo = await material('promo');
    const before = await balance();
    const res = await sendTo(main, '13210000001', promo);
    expect(res.status).toBe(202);
    expect(res.body.wamid).toMatch(/^wamid\./);
    expect(messaging.sends).toHaveLength(1);
    expect(messaging.sends[0]).toMatchObject({ to: '13210000001', template: { name: 'promo', language: 'en_US' } });
    expect(await balance()).toBe(before - PRICE);
    expect((await limitView(world, accountId)).usedLast24h).toBe(1);
  });

  it('answers 429 MESSAGING_LIMIT_REACHED once the number has no room, sending and charging nothing', async () => {
    const { world, messaging, accountId, sales, material, sendTo, balance } = await inbox();
    await updateNumber(world.deps, accountId, sales.whatsapp_phno, { messagingLimitShare: { percent: 1 } });
    const promo = await material('promo');
    const before = await balance();
    const [a, b, c] = recipients(3, '1322');
    const results = await Promise.all([sendTo(sales, a!, promo), sendTo(sales, b!, promo), sendTo(sales, c!, promo)]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 202, 429]);
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.body.error.code).toBe('MESSAGING_LIMIT_REACHED');
    expect(Date.parse(refused.body.error.resumesAt)).toBeGreaterThan(world.clock.now().getTime() + 24 * HOUR);
    expect(messaging.sends).toHaveLength(2);
    expect(await balance()).toBe(before - 2 * PRICE);
  });

  it('refuses a template not approved on the number, and one the pool cannot pay, before anything goes out', async () => {
    const { messaging, main, material, sendTo, balance } = await inbox();
    const unknown = await material('never_approved');
    const notApproved = await sendTo(main, '13230000001', unknown);
    expect(notApproved.status).toBe(409);
    expect(notApproved.body.error.code).toBe('TEMPLATE_NOT_APPROVED');

    const promo = await material('promo');
    // Ten prices in the pool: the eleventh send cannot be paid.
    const sent = [];
    for (const waId of recipients(11, '1324')) sent.push((await sendTo(main, waId, promo)).status);
    expect(sent.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(sent[10]).toBe(409);
    expect(await balance()).toBe(0);
    expect(messaging.sends).toHaveLength(10);
  });

  it('costs nothing inside the free entry window an ad click opened (72 hours)', async () => {
    const { world, messaging, accountId, main, material, post, balance } = await inbox();
    const promo = await material('promo');
    const waId = '13250000001';
    await openWindow(world, accountId, main.whatsapp_phno, [waId], 48 * HOUR);
    const key = entities.conversation.key({ accountId, whatsappPhno: main.whatsapp_phno, contactKey: waId });
    await table.doc.send(
      new UpdateCommand({ TableName: table.tableName, Key: key, UpdateExpression: 'SET freeEntryUntil = :f', ExpressionAttributeValues: { ':f': new Date(world.clock.now().getTime() + 24 * HOUR).toISOString() } }),
    );
    const before = await balance();
    expect((await post(main, waId, promo)).status).toBe(202);
    expect(messaging.sends).toHaveLength(1);
    expect(await balance()).toBe(before);
  });

  it('refuses a marketing template to a user who stopped marketing messages from the number (409 RECIPIENT_OPTED_OUT)', async () => {
    const { world, messaging, accountId, main, sales, material, sendTo, balance } = await inbox();
    const promo = await material('promo');
    const waId = '13260000001';
    const at = world.clock.now().toISOString();
    await new DynamoMarketingPreferenceStore(table.doc, table.tableName).record({
      accountId,
      whatsappPhno: main.whatsapp_phno,
      contactKey: waId,
      waId,
      category: MARKETING_CATEGORY,
      value: 'stop',
      at,
      updatedAt: at,
    });
    const before = await balance();
    const refused = await sendTo(main, waId, promo);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RECIPIENT_OPTED_OUT');
    expect(await balance()).toBe(before);
    // The stop was said to the default number only: the other number may still send.
    expect((await sendTo(sales, waId, promo)).status).toBe(202);
    expect(messaging.sends.map((s) => s.phoneNumberId)).toEqual([sales.phoneNumberId]);
  });

  it('gives the price back when WhatsApp refuses the send', async () => {
    const { world, main, material, sendTo, balance, accountId } = await inbox();
    const promo = await material('promo');
    const before = await balance();
    const res = await sendTo(main, `${REFUSED}0000001`, promo);
    expect(res.status).toBe(422);
    expect(await balance()).toBe(before);
    // The unit stays held (a refused send may have reached Meta's count): never fewer than reality.
    expect((await limitView(world, accountId)).usedLast24h).toBe(1);
  });
});
