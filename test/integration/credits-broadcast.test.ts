/**
 * The credit pool under broadcasts on DynamoDB Local: a chunk reserves in
 * one write and settles in one, so a 1,000-recipient broadcast costs a
 * handful of quota and ledger writes; a number's cap is held in the same
 * transaction as the pool; spend per number is shown on the account.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getAccountView } from '../../functions/core/accounts.js';
import { QuotaExceeded } from '../../functions/core/errors.js';
import { newAccount, race } from '../support/accounts.js';
import { approveTemplate, balanceOf, broadcastWorld, connectTestNumber, countingClient, makeBroadcast, recipients, sendAllChunks } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('credits-broadcast');
});

const PRICE = 1_000;

describe('quota and ledger writes of a broadcast', () => {
  it('stay at 20 or fewer for 1,000 recipients', async () => {
    const counting = countingClient(table.doc);
    const world = broadcastWorld(table, { doc: counting.doc, settings: { creditsLowThresholdMicros: 5_000_000 } });
    const account = await newAccount(world.deps, {}, 10_000 * PRICE);
    const number = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, number);
    const { broadcastId } = await makeBroadcast(world, account.accountId, number.whatsapp_phno, recipients(1_000));
    const before = counting.quotaWrites();
    await sendAllChunks(world, account.accountId, broadcastId);
    expect(world.messaging.sends).toHaveLength(1_000);
    const writes = counting.quotaWrites() - before;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(20);
  });
});

describe('a number cap in the reservation', () => {
  async function capped(capMicros: number | null, balance = 100 * PRICE) {
    const world = broadcastWorld(table);
    const account = await newAccount(world.deps, {}, balance);
    const reserve = (key: string, amountMicros: number, phno = '15550002001') =>
      world.deps.quotas.reserveCredits({
        accountId: account.accountId,
        reservationId: key,
        amountMicros,
        idempotencyKey: `reserve:${key}`,
        reason: 'broadcast:reserve',
        whatsappPhno: phno,
        spend: { period: '2030-01-01', capMicros },
      });
    return { world, accountId: account.accountId, reserve };
  }

  it('refuses a reservation over the cap with QUOTA_EXCEEDED naming the number', async () => {
    const { reserve } = await capped(5 * PRICE);
    await reserve('a', 4 * PRICE);
    const refused = await reserve('b', 2 * PRICE).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QuotaExceeded);
    expect((refused as QuotaExceeded).details).toMatchObject({ resource: 'credits', scope: 'number', whatsapp_phno: '15550002001', capMicros: 5 * PRICE });
  });

  it('changes nothing in the pool when the cap refuses', async () => {
    const { world, accountId, reserve } = await capped(3 * PRICE);
    await reserve('a', 3 * PRICE);
    await expect(reserve('b', PRICE)).rejects.toBeInstanceOf(QuotaExceeded);
    expect(await balanceOf(world, accountId)).toBe(97 * PRICE);
  });

  it('lets exactly the cap through when 50 reservations race', async () => {
    const { world, accountId, reserve } = await capped(7 * PRICE);
    const { ok } = await race(Array.from({ length: 50 }, (_, i) => () => reserve(`r${i}`, PRICE)));
    expect(ok).toHaveLength(7);
    expect(await world.deps.quotas.numberSpend(accountId, '2030-01-01', '15550002001')).toBe(7 * PRICE);
  });

  it('gives the unused part back to the number when settling', async () => {
    const { world, accountId, reserve } = await capped(10 * PRICE);
    await reserve('a', 6 * PRICE);
    await world.deps.quotas.settleReservation({ accountId, reservationId: 'a', usedMicros: 2 * PRICE, idempotencyKey: 'settle:a', reason: 'broadcast:settle', whatsappPhno: '15550002001' });
    expect(await world.deps.quotas.numberSpend(accountId, '2030-01-01', '15550002001')).toBe(2 * PRICE);
    expect(await balanceOf(world, accountId)).toBe(98 * PRICE);
  });

  it('holds the pool before the cap: an uncapped number stops at the balance', async () => {
    const { reserve } = await capped(null, 3 * PRICE);
    await expect(reserve('a', 4 * PRICE)).rejects.toBeInstanceOf(QuotaExceeded);
  });
});

describe('spend per number on the account', () => {
  it('shows what each number spent this period', async () => {
    const world = broadcastWorld(table);
    const account = await newAccount(world.deps, {}, 100 * PRICE);
    const first = await connectTestNumber(world, account.accountId);
    const second = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, first);
    await approveTemplate(world, account.accountId, second);
    const a = await makeBroadcast(world, account.accountId, first.whatsapp_phno, recipients(3, '1303'));
    const b = await makeBroadcast(world, account.accountId, second.whatsapp_phno, recipients(5, '1404'));
    await sendAllChunks(world, account.accountId, a.broadcastId);
    await sendAllChunks(world, account.accountId, b.broadcastId);
    const view = await getAccountView(world.deps, account.accountId);
    expect(view.spendByNumber).toEqual(
      [
        { whatsapp_phno: first.whatsapp_phno, spentMicros: 3 * PRICE },
        { whatsapp_phno: second.whatsapp_phno, spentMicros: 5 * PRICE },
      ].sort((x, y) => x.whatsapp_phno.localeCompare(y.whatsapp_phno)),
    );
    expect(view.credits.balanceMicros).toBe(92 * PRICE);
  });
});
