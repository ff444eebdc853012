/**
 * Deferred recipients on DynamoDB Local, in virtual time (docs/quotas.md,
 * "Portfolio messaging limit"): what the portfolio's limit cannot take now
 * waits with no credit held, its round scheduled for when the window frees
 * capacity; then each deferred recipient is sent once and charged once, even
 * when the scheduled round is delivered twice at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, releaseAtOf, hourOf } from '../../functions/core/messaging-limit.js';
import { processChunk } from '../../functions/core/sender.js';
import { RecordingSender, balanceOf, ledgerOf, makeBroadcast, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import {
  type LimitWorld,
  PRICE,
  VirtualClock,
  failures,
  limitView,
  limitWorld,
  limitedAccount,
  reach,
  runAllChunks,
  runDue,
  setTier,
  view,
} from '../support/messaging-limit.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('messaging-limit-deferred');
});

/** Runs the due rounds twice at once (a redelivery), then once more for any that asked to be retried. */
async function resume(world: LimitWorld) {
  const due = world.scheduler.takeDue(world.clock.now());
  const settled = await Promise.allSettled(due.flatMap((message) => [processChunk(world.sender, message), processChunk(world.sender, message)]));
  for (const error of failures(settled)) expect(error.name).toBe('ChunkInFlight');
  for (const message of due) await processChunk(world.sender, message);
  return due.length;
}

const net = async (world: LimitWorld, accountId: string, broadcastId: string) =>
  (await ledgerOf(world, accountId)).filter((e) => String(e.refId).startsWith(broadcastId)).reduce((sum, e) => sum + (e.amount as number), 0);

describe('a 400-recipient broadcast on TIER_250', () => {
  it('sends 250, defers 150 with no credit held, and sends those once when capacity returns', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const credits = 10_000 * PRICE;
    const { accountId, numbers } = await limitedAccount(world, 1, credits);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const startedAt = world.clock.now();
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(400, '1501'));
    expect(failures(await runAllChunks(world, accountId, [b]))).toEqual([]);

    const waiting = await view(world, accountId, b.broadcastId);
    expect(waiting.status).toBe('sending');
    expect(waiting.counts).toMatchObject({ recipients: 400, sent: 250, deferred: 150, failed: 0 });
    // The units taken now are released 24 h after their hour, plus the rounds' send window.
    expect(waiting.resumesAt).toBe(releaseAtOf(hourOf(startedAt)).toISOString());
    expect(await balanceOf(world, accountId)).toBe(credits - 250 * PRICE);
    expect(await net(world, accountId, b.broadcastId)).toBe(-250 * PRICE);

    // Nothing is due before the window frees capacity.
    world.clock.advance(24 * HOUR_MS);
    expect(await runDue(world)).toEqual([]);
    world.clock.set(new Date(waiting.resumesAt!));
    expect(await resume(world)).toBeGreaterThan(0);

    const done = await view(world, accountId, b.broadcastId);
    expect(done.status).toBe('completed');
    expect(done.counts).toMatchObject({ sent: 400, deferred: 0, failed: 0 });
    expect(done.resumesAt).toBeNull();
    expect(reach(world)).toEqual({ sends: 400, unique: 400, most: 1 });
    expect(await balanceOf(world, accountId)).toBe(credits - 400 * PRICE);
    expect(await net(world, accountId, b.broadcastId)).toBe(-400 * PRICE);
    expect(done.creditsSpentMicros).toBe(400 * PRICE);
    // The first 250 left the window; the 150 sent now are what it holds.
    expect((await limitView(world, accountId)).usedLast24h).toBe(150);
    expect(world.scheduler.pending()).toEqual([]);
  });

  it('fails deferred recipients the pool can no longer pay for when they resume, charging none twice', async () => {
    const world = limitWorld(table, { chunkSize: 100 });
    const { accountId, numbers } = await limitedAccount(world, 1, 300 * PRICE);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(400, '1502'));
    await runAllChunks(world, accountId, [b]);
    expect(await balanceOf(world, accountId)).toBe(50 * PRICE);
    world.clock.set(new Date((await view(world, accountId, b.broadcastId)).resumesAt!));
    await resume(world);
    const done = await view(world, accountId, b.broadcastId);
    expect(done.counts).toMatchObject({ sent: 300, failed: 100, deferred: 0 });
    expect(done.failedReasons).toEqual({ insufficient_credits: 100 });
    expect(reach(world).most).toBe(1);
    expect(await balanceOf(world, accountId)).toBe(0);
  });
});

describe('a user reached again inside the window', () => {
  it('costs no new unit, and keeps its unit until 24 hours after the later send', async () => {
    const world = limitWorld(table, { chunkSize: 125 });
    const { accountId, numbers } = await limitedAccount(world, 2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    await setTier(world, accountId, main.whatsapp_phno, 'TIER_250');
    const users = recipients(250, '1503');
    const first = await makeBroadcast(world, accountId, main.whatsapp_phno, users);
    await runAllChunks(world, accountId, [first]);

    // 23 hours later the other number reaches the same 250 users: free, their units move to this hour.
    world.clock.advance(23 * HOUR_MS);
    const again = await makeBroadcast(world, accountId, sales.whatsapp_phno, users);
    await runAllChunks(world, accountId, [again]);
    expect((await view(world, accountId, again.broadcastId)).counts).toMatchObject({ sent: 250, deferred: 0 });
    const movedAt = world.clock.now();

    // 26 hours after the first send its bucket is due, but those users were reached 3 hours ago: no room yet.
    world.clock.advance(3 * HOUR_MS);
    const newcomers = await makeBroadcast(world, accountId, main.whatsapp_phno, recipients(10, '1504'));
    await runAllChunks(world, accountId, [newcomers]);
    const waiting = await view(world, accountId, newcomers.broadcastId);
    expect(waiting.counts).toMatchObject({ sent: 0, deferred: 10 });
    expect(waiting.resumesAt).toBe(releaseAtOf(hourOf(movedAt)).toISOString());
    expect((await limitView(world, accountId)).usedLast24h).toBe(250);

    world.clock.set(new Date(waiting.resumesAt!));
    await resume(world);
    expect((await view(world, accountId, newcomers.broadcastId)).counts).toMatchObject({ sent: 10, deferred: 0 });
    expect((await limitView(world, accountId)).usedLast24h).toBe(10);
  });
});

describe('a round whose sends run past its send window', () => {
  it('leaves the rest to the next round: each recipient still sent once, charged once', async () => {
    const clock = new VirtualClock();
    let sends = 0;
    // A stall after the 40th send: the round's 15 minutes pass while it is still sending.
    const messaging = new RecordingSender(() => {
      if (++sends === 40) clock.advance(20 * 60_000);
      return undefined;
    });
    const world = limitWorld(table, { chunkSize: 100, messaging, clock });
    world.sender.settings.concurrency = 1;
    const { accountId, numbers } = await limitedAccount(world, 1);
    const number = numbers[0]!;
    await setTier(world, accountId, number.whatsapp_phno, 'TIER_250');
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(100, '1505'));
    const credits = await balanceOf(world, accountId);

    // Still within the grace a slow run may be in: the chunk asks to be retried.
    await expect(processChunk(world.sender, { accountId, broadcastId: b.broadcastId, chunk: 0 })).rejects.toMatchObject({ name: 'ChunkInFlight' });
    clock.advance(10 * 60_000);
    // Past it: the unclaimed ones go to the next round, at once.
    const settled = await processChunk(world.sender, { accountId, broadcastId: b.broadcastId, chunk: 0 });
    expect(settled.deferred).toBe(60);
    expect((await view(world, accountId, b.broadcastId)).counts.sent).toBe(40);
    await resume(world);

    expect(reach(world)).toEqual({ sends: 100, unique: 100, most: 1 });
    expect(await balanceOf(world, accountId)).toBe(credits - 100 * PRICE);
    expect(await net(world, accountId, b.broadcastId)).toBe(-100 * PRICE);
    expect((await view(world, accountId, b.broadcastId)).status).toBe('completed');
    // The late ones were paid for twice in units, never beyond the limit: conservative, not over.
    const { usedLast24h } = await limitView(world, accountId);
    expect(usedLast24h).toBeGreaterThanOrEqual(100);
    expect(usedLast24h).toBeLessThanOrEqual(250);
  });
});
