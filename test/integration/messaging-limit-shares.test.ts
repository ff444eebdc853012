/**
 * Per-number shares of the portfolio messaging limit on DynamoDB Local
 * (docs/quotas.md, "Portfolio messaging limit"): a percent share caps a
 * number, a reserved share keeps units for one number alone; both are checked
 * in the transaction that takes the units, so no race gets past them. Set with
 * `PATCH /v1/numbers/{phno} {messagingLimitShare}` (admin and up).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { updateNumber } from '../../functions/core/numbers.js';
import { call } from '../support/api-events.js';
import { RecordingPublisher, RecordingSender, makeBroadcast, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { failures, limitView, limitWorld, limitedAccount, reach, runAllChunks, setTier, view } from '../support/messaging-limit.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('messaging-limit-shares');
});

async function portfolio(chunkSize: number) {
  const world = limitWorld(table, { chunkSize });
  const { accountId, numbers } = await limitedAccount(world, 2);
  const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
  await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
  return { world, accountId, main, sales };
}

describe('a percent share', () => {
  it('is never exceeded when three broadcasts of the number race another number', async () => {
    const { world, accountId, main, sales } = await portfolio(10);
    await updateNumber(world.deps, accountId, sales.whatsapp_phno, { messagingLimitShare: { percent: 40 } });
    const salesBroadcasts = await Promise.all(['1301', '1302', '1303'].map((prefix) => makeBroadcast(world, accountId, sales.whatsapp_phno, recipients(80, prefix))));
    const mainBroadcast = await makeBroadcast(world, accountId, main.whatsapp_phno, recipients(100, '1304'));
    const settled = await runAllChunks(world, accountId, [...salesBroadcasts, mainBroadcast]);
    expect(failures(settled)).toEqual([]);
    expect(reach(world, [sales.phoneNumberId]).unique).toBe(100);
    expect(reach(world, [main.phoneNumberId]).unique).toBe(100);
    const limit = await limitView(world, accountId);
    expect(limit.byNumber.find((n) => n.whatsapp_phno === sales.whatsapp_phno)).toEqual({
      whatsapp_phno: sales.whatsapp_phno,
      usedLast24h: 100,
      share: { percent: 40 },
      available: 0,
    });
    expect(limit.byNumber.find((n) => n.whatsapp_phno === main.whatsapp_phno)).toMatchObject({ usedLast24h: 100, share: null, available: 50 });
  });
});

describe('a reserved share of the default number', () => {
  it('stays available while another number broadcasts 400 at once, chunk against chunk', async () => {
    const { world, accountId, main, sales } = await portfolio(10);
    await updateNumber(world.deps, accountId, main.whatsapp_phno, { messagingLimitShare: { reserved: 20 } });
    const big = await makeBroadcast(world, accountId, sales.whatsapp_phno, recipients(400, '1401'));
    // The default's reminder starts while the big broadcast is still being sent.
    const bigRun = runAllChunks(world, accountId, [big]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reminder = await makeBroadcast(world, accountId, main.whatsapp_phno, recipients(20, '1402'));
    const reminderRun = runAllChunks(world, accountId, [reminder]);
    const settled = (await Promise.all([bigRun, reminderRun])).flat();
    expect(failures(settled)).toEqual([]);
    expect(reach(world, [main.phoneNumberId]).unique).toBe(20);
    expect(reach(world, [sales.phoneNumberId]).unique).toBe(230);
    expect((await view(world, accountId, big.broadcastId)).counts).toMatchObject({ sent: 230, deferred: 170 });
  });

  it('is held while the big broadcast runs alone, and used by the default afterwards', async () => {
    const { world, accountId, main, sales } = await portfolio(50);
    await updateNumber(world.deps, accountId, main.whatsapp_phno, { messagingLimitShare: { reserved: 20 } });
    const big = await makeBroadcast(world, accountId, sales.whatsapp_phno, recipients(400, '1403'));
    await runAllChunks(world, accountId, [big]);
    let limit = await limitView(world, accountId);
    expect(limit.usedLast24h).toBe(230);
    expect(limit.byNumber).toEqual([
      { whatsapp_phno: main.whatsapp_phno, usedLast24h: 0, share: { reserved: 20 }, available: 20 },
      { whatsapp_phno: sales.whatsapp_phno, usedLast24h: 230, share: null, available: 0 },
    ]);
    const reminder = await makeBroadcast(world, accountId, main.whatsapp_phno, recipients(25, '1404'));
    await runAllChunks(world, accountId, [reminder]);
    expect((await view(world, accountId, reminder.broadcastId)).counts).toMatchObject({ sent: 20, deferred: 5 });
    limit = await limitView(world, accountId);
    expect(limit.usedLast24h).toBe(250);
  });

  it('changed while rounds race is never overstepped: a round decided on the old shares decides again', async () => {
    const { world, accountId, main, sales } = await portfolio(10);
    const big = await makeBroadcast(world, accountId, sales.whatsapp_phno, recipients(300, '1405'));
    const run = runAllChunks(world, accountId, [big]);
    await updateNumber(world.deps, accountId, main.whatsapp_phno, { messagingLimitShare: { reserved: 100 } });
    const settled = await run;
    expect(failures(settled)).toEqual([]);
    // Whatever the sales rounds took before the share existed, afterwards they leave the default's 100 alone.
    const salesReach = reach(world, [sales.phoneNumberId]).unique;
    expect(salesReach).toBeLessThanOrEqual(250);
    const limit = await limitView(world, accountId);
    const mainLeft = limit.byNumber.find((n) => n.whatsapp_phno === main.whatsapp_phno)!.available!;
    expect(mainLeft).toBe(Math.min(100, 250 - salesReach));
  });
});

describe('PATCH /v1/numbers/{phno} {messagingLimitShare}', () => {
  async function api() {
    const { world, accountId, main, sales } = await portfolio(50);
    const handler = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
    const patch = (phno: string, body: unknown, role: 'admin' | 'agent' = 'admin') =>
      call(handler, { method: 'PATCH', path: `/v1/numbers/${phno}`, body, as: { role, accountId } });
    return { world, accountId, main, sales, handler, patch };
  }

  it('sets and clears a share, shown on the number and on the account', async () => {
    const { accountId, main, sales, handler, patch } = await api();
    const set = await patch(main.whatsapp_phno, { messagingLimitShare: { reserved: 20 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ whatsapp_phno: main.whatsapp_phno, portfolioId: accountId, messagingLimitShare: { reserved: 20 } });
    expect((await patch(sales.whatsapp_phno, { messagingLimitShare: { percent: 60 }, name: 'Marketing' })).body).toMatchObject({
      name: 'Marketing',
      messagingLimitShare: { percent: 60 },
    });
    const numbers = await call(handler, { method: 'GET', path: '/v1/numbers', as: { role: 'agent', accountId } });
    expect(numbers.body.items.map((n: { messagingLimitShare: unknown }) => n.messagingLimitShare)).toEqual([{ reserved: 20 }, { percent: 60 }]);
    const account = await call(handler, { method: 'GET', path: '/v1/account', as: { role: 'admin', accountId } });
    expect(account.body.messagingLimit).toEqual({
      portfolioId: accountId,
      tier: 'TIER_250',
      limit: 250,
      usedLast24h: 0,
      byNumber: [
        { whatsapp_phno: main.whatsapp_phno, usedLast24h: 0, share: { reserved: 20 }, available: 250 },
        { whatsapp_phno: sales.whatsapp_phno, usedLast24h: 0, share: { percent: 60 }, available: 150 },
      ],
      otherPortfolios: [],
    });
    expect((await patch(main.whatsapp_phno, { messagingLimitShare: null })).body.messagingLimitShare).toBeNull();
  });

  it.each([
    [{ messagingLimitShare: { percent: 0 } }],
    [{ messagingLimitShare: { percent: 101 } }],
    [{ messagingLimitShare: { percent: 10, reserved: 5 } }],
    [{ messagingLimitShare: { reserved: 2.5 } }],
    [{ messagingLimitShare: 'half' }],
  ])('answers 400 naming the field for %j', async (body) => {
    const { main, patch } = await api();
    const res = await patch(main.whatsapp_phno, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.issues[0].path.slice(0, 2)).toEqual(['body', 'messagingLimitShare']);
  });

  it('is for admins and up: an agent gets 403', async () => {
    const { main, patch } = await api();
    expect((await patch(main.whatsapp_phno, { messagingLimitShare: { reserved: 5 } }, 'agent')).status).toBe(403);
  });
});
