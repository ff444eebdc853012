/**
 * Where the portfolio's limit comes from, on DynamoDB Local: Meta's signed
 * `business_capability_update` (and the tier of `phone_number_quality_update`)
 * through the webhook sets the portfolio's tier, in Meta's time order, and
 * `GET /v1/account` shows it. Numbers of one account share the account's
 * portfolio unless their WABA names another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { receiveDelivery } from '../../functions/webhook/delivery.js';
import { createWebhookDeps } from '../../functions/webhook/deps.js';
import { call } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender, approveTemplate, makeBroadcast, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { limitView, limitWorld, limitedAccount, runAllChunks, view } from '../support/messaging-limit.js';
import { APP_SECRET, sign } from '../support/webhook.js';

let table: TestTable;
let webhook: ReturnType<typeof createWebhookDeps>;

beforeAll(async () => {
  table = await createTestTable('messaging-limit-webhook');
  webhook = createWebhookDeps(table.doc, table.tableName, {
    publisher: new RecordingPublisher(),
    appSecret: async () => APP_SECRET,
    verifyToken: async () => 'verify',
    routeCache: { ROUTE_CACHE_TTL_SECONDS: 0, ROUTE_CACHE_MISS_TTL_SECONDS: 0 },
  });
});

/** A delivery signed as Meta signs it, posted to the webhook. */
async function deliver(wabaId: string, time: number, field: string, value: Record<string, unknown>) {
  const body = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: wabaId, time, changes: [{ field, value }] }] }));
  const response = await receiveDelivery({ body: body.toString('utf8'), isBase64Encoded: false, headers: { 'x-hub-signature-256': sign(body) } }, webhook);
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body as string);
}

const capability = (tier: string | number) =>
  typeof tier === 'number' ? { max_daily_conversation_per_phone_number: tier } : { max_daily_conversations_per_business: tier, max_phone_numbers_per_business: 20 };

describe('business_capability_update', () => {
  it('sets the portfolio tier of every number of the WABA, and GET /v1/account shows it', async () => {
    const world = limitWorld(table);
    const { accountId, numbers } = await limitedAccount(world, 2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    expect(await deliver(main.wabaId, 1_800_000_000, 'business_capability_update', capability('TIER_2K'))).toEqual({ published: 1, unrouted: 0, invalid: 0 });
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
    const account = await call(api, { method: 'GET', path: '/v1/account', as: { role: 'admin', accountId } });
    expect(account.status).toBe(200);
    expect(account.body.messagingLimit).toEqual({
      portfolioId: accountId,
      tier: 'TIER_2K',
      limit: 2_000,
      usedLast24h: 0,
      byNumber: [
        { whatsapp_phno: main.whatsapp_phno, usedLast24h: 0, share: null, available: 2_000 },
        { whatsapp_phno: sales.whatsapp_phno, usedLast24h: 0, share: null, available: 2_000 },
      ],
      otherPortfolios: [],
    });
    // The number shows the tier too (Meta's per-number tier is the portfolio's now).
    const listed = await call(api, { method: 'GET', path: '/v1/numbers', as: { role: 'agent', accountId } });
    expect(listed.body.items[0]).toMatchObject({ messagingLimitTier: 'TIER_2K', portfolioId: accountId });
  });

  it("keeps Meta's order: an older update delivered late changes nothing, a newer quality update does", async () => {
    const world = limitWorld(table);
    const { accountId, numbers } = await limitedAccount(world, 1);
    const wabaId = numbers[0]!.wabaId;
    await deliver(wabaId, 1_800_000_100, 'business_capability_update', capability('TIER_10K'));
    await deliver(wabaId, 1_800_000_000, 'business_capability_update', capability('TIER_250'));
    expect(await limitView(world, accountId)).toMatchObject({ tier: 'TIER_10K', limit: 10_000 });
    await deliver(wabaId, 1_800_000_200, 'phone_number_quality_update', { display_phone_number: numbers[0]!.whatsapp_phno, event: 'UPGRADE', max_daily_conversations_per_business: 'TIER_100K' });
    expect(await limitView(world, accountId)).toMatchObject({ tier: 'TIER_100K', limit: 100_000 });
    // The legacy numeric form reads as its tier.
    await deliver(wabaId, 1_800_000_300, 'business_capability_update', capability(250));
    expect(await limitView(world, accountId)).toMatchObject({ tier: 'TIER_250', limit: 250 });
  });

  it('limits broadcasts from then on', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    await deliver(numbers[0]!.wabaId, 1_800_000_000, 'business_capability_update', capability('TIER_250'));
    const b = await makeBroadcast(world, accountId, numbers[0]!.whatsapp_phno, recipients(300, '1601'));
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 250, deferred: 50 });
  });
});

describe('numbers whose WABA names another portfolio', () => {
  it('count against that portfolio, shown beside the account’s own', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    const { purchaseAddon } = await import('../../functions/core/accounts.js');
    await purchaseAddon(world.deps, accountId, { type: 'number', quantity: 1 }, `addon-other-${accountId}`);
    const { connectNumber } = await import('../../functions/core/numbers.js');
    const other = await connectNumber(
      world.deps,
      accountId,
      { name: 'Other business', whatsapp_phno: `1666${Date.now() % 10_000_000}`, phoneNumberId: `96${Date.now() % 1e10}`, wabaId: `86${Date.now() % 1e10}`, portfolioId: '5550001' },
      `connect-other-${accountId}`,
    );
    expect(other.portfolioId).toBe('5550001');
    await approveTemplate(world, accountId, other);
    await deliver(numbers[0]!.wabaId, 1_800_000_000, 'business_capability_update', capability('TIER_250'));
    await deliver(other.wabaId, 1_800_000_000, 'business_capability_update', capability('TIER_2K'));
    const b = await makeBroadcast(world, accountId, other.whatsapp_phno, recipients(300, '1602'));
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 300, deferred: 0 });
    const limit = await limitView(world, accountId);
    expect(limit).toMatchObject({ portfolioId: accountId, tier: 'TIER_250', usedLast24h: 0 });
    expect(limit.otherPortfolios).toEqual([
      { portfolioId: '5550001', tier: 'TIER_2K', limit: 2_000, usedLast24h: 300, byNumber: [{ whatsapp_phno: other.whatsapp_phno, usedLast24h: 300, share: null, available: 1_700 }] },
    ]);
  });
});
