/**
 * The portfolio messaging limit on DynamoDB Local, under real concurrency
 * (docs/quotas.md, "Portfolio messaging limit"): numbers of one account share
 * their portfolio's limit of unique users per moving 24 hours; two numbers
 * broadcasting at once never reach more than the limit; a user already
 * reached, or with an open service window, costs nothing more.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { processChunk } from '../../functions/core/sender.js';
import { makeBroadcast, recipients, balanceOf } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { PRICE, failures, limitView, limitWorld, limitedAccount, openWindow, reach, runAllChunks, setTier, view } from '../support/messaging-limit.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('messaging-limit-races');
});

describe('two numbers of one portfolio on TIER_250', () => {
  it('never reach more than 250 unique users, however their chunks race', async () => {
    const world = limitWorld(table, { chunkSize: 20 });
    const { accountId, numbers } = await limitedAccount(world, 2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
    const a = await makeBroadcast(world, accountId, main.whatsapp_phno, recipients(200, '1303'));
    const b = await makeBroadcast(world, accountId, sales.whatsapp_phno, recipients(200, '1404'));

    const settled = await runAllChunks(world, accountId, [a, b]);
    expect(failures(settled)).toEqual([]);
    const { unique, most, sends } = reach(world);
    expect(unique).toBe(250);
    expect(most).toBe(1);
    expect(sends).toBe(250);

    // The other 150 wait, holding no credit.
    const [va, vb] = [await view(world, accountId, a.broadcastId), await view(world, accountId, b.broadcastId)];
    expect(va.counts.sent + vb.counts.sent).toBe(250);
    expect(va.counts.deferred + vb.counts.deferred).toBe(150);
    expect(va.counts.failed + vb.counts.failed).toBe(0);
    expect(await balanceOf(world, accountId)).toBe(10_000 * PRICE - 250 * PRICE);
    const limit = await limitView(world, accountId);
    expect(limit).toMatchObject({ tier: 'TIER_250', limit: 250, usedLast24h: 250 });
    expect(limit.byNumber.reduce((sum, n) => sum + n.usedLast24h, 0)).toBe(250);
  });

  it('counts a user already reached once: the second number reaches it again for free', async () => {
    const world = limitWorld(table, { chunkSize: 50 });
    const { accountId, numbers } = await limitedAccount(world, 2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
    const users = recipients(300, '1505');
    const first = await makeBroadcast(world, accountId, main.whatsapp_phno, users.slice(0, 200));
    await runAllChunks(world, accountId, [first]);
    // 100 of these were reached by the first broadcast: only 100 more fit, 50 wait.
    const second = await makeBroadcast(world, accountId, sales.whatsapp_phno, users.slice(100, 300));
    await runAllChunks(world, accountId, [second]);

    const { unique } = reach(world);
    expect(unique).toBe(250);
    expect((await view(world, accountId, second.broadcastId)).counts).toMatchObject({ sent: 150, deferred: 50 });
    expect((await limitView(world, accountId)).usedLast24h).toBe(250);
  });

  it('stays within the limit when the same users are broadcast by both numbers at once', async () => {
    const world = limitWorld(table, { chunkSize: 25 });
    const { accountId, numbers } = await limitedAccount(world, 2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
    const users = recipients(400, '1606');
    const a = await makeBroadcast(world, accountId, main.whatsapp_phno, users.slice(0, 300));
    const b = await makeBroadcast(world, accountId, sales.whatsapp_phno, users.slice(100, 400));
    const settled = await runAllChunks(world, accountId, [a, b]);
    expect(failures(settled)).toEqual([]);
    // Racing numbers may both pay for one user (never the other way round): at most 250 distinct users.
    const { unique } = reach(world);
    expect(unique).toBeLessThanOrEqual(250);
    expect(unique).toBeGreaterThan(150);
    const limit = await limitView(world, accountId);
    expect(limit.usedLast24h).toBeLessThanOrEqual(250);
    expect(limit.usedLast24h).toBeGreaterThanOrEqual(unique);
  });

  it('a chunk delivered twice at once sends and takes units once', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    await setTier(world, accountId, numbers[0]!.whatsapp_phno, 'TIER_250');
    const b = await makeBroadcast(world, accountId, numbers[0]!.whatsapp_phno, recipients(300, '1707'));
    const settled = await runAllChunks(world, accountId, [b], 3);
    // A run that found another still sending asks to be retried (the queue redelivers); the retry finds it settled.
    for (const error of failures(settled)) expect(error.name).toBe('ChunkInFlight');
    for (let chunk = 0; chunk < 3; chunk++) await processChunk(world.sender, { accountId, broadcastId: b.broadcastId, chunk });
    expect(reach(world)).toMatchObject({ unique: 250, most: 1 });
    expect((await limitView(world, accountId)).usedLast24h).toBe(250);
    expect(await balanceOf(world, accountId)).toBe(10_000 * PRICE - 250 * PRICE);
  });
});

describe('users with an open service window', () => {
  it('cost nothing: 20 who wrote in plus the 250 the limit allows are sent', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const users = recipients(300, '1808');
    await openWindow(world, accountId, number.whatsapp_phno, users.slice(0, 20));
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, users);
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 270, deferred: 30 });
    expect((await limitView(world, accountId)).usedLast24h).toBe(250);
  });

  it('count when the window closes before the round could end', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const users = recipients(260, '1909');
    // Wrote 23 h 55 min ago: the window closes in 5 minutes, before a round's sends are sure to be over.
    await openWindow(world, accountId, number.whatsapp_phno, users.slice(0, 20), 24 * 3_600_000 - 5 * 60_000);
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, users);
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 250, deferred: 10 });
  });
});

describe('a portfolio whose tier Meta has not reported', () => {
  it('holds nothing back and counts nothing', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    const b = await makeBroadcast(world, accountId, numbers[0]!.whatsapp_phno, recipients(300, '1210'));
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 300, deferred: 0 });
    expect(await limitView(world, accountId)).toMatchObject({ tier: null, limit: null, usedLast24h: 0 });
  });

  it('sends all when the tier is unlimited, and still counts who was reached', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1);
    await setTier(world, accountId, numbers[0]!.whatsapp_phno, 'TIER_UNLIMITED');
    const b = await makeBroadcast(world, accountId, numbers[0]!.whatsapp_phno, recipients(300, '1211'));
    await runAllChunks(world, accountId, [b]);
    expect((await view(world, accountId, b.broadcastId)).counts).toMatchObject({ sent: 300, deferred: 0 });
    expect(await limitView(world, accountId)).toMatchObject({ tier: 'TIER_UNLIMITED', limit: null, usedLast24h: 300 });
  });
});
