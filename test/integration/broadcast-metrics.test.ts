/**
 * Broadcast metrics from the bus on DynamoDB Local: statuses and replies of
 * broadcast messages count each recipient once per stage, whatever the order
 * or the repeats; Meta's `failed` refunds the message to the pool and the
 * number; `Broadcast Requested` puts one send-queue message per chunk.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyBroadcastReply, applyBroadcastStatus, enqueueBroadcastChunks } from '../../functions/core/broadcast-consumer.js';
import { getBroadcast } from '../../functions/core/broadcasts.js';
import { BroadcastSendNotRecorded } from '../../functions/core/backend-failures.js';
import { billingPeriod } from '../../functions/core/plan.js';
import { newAccount } from '../support/accounts.js';
import { approveTemplate, balanceOf, broadcastWorld, connectTestNumber, ledgerOf, makeBroadcast, recipients, sendAllChunks } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('broadcast-metrics');
});

const PRICE = 1_000;

async function sentBroadcast(count = 3, options: Parameters<typeof broadcastWorld>[1] = {}) {
  const world = broadcastWorld(table, options);
  const account = await newAccount(world.deps, {}, 100 * PRICE);
  const number = await connectTestNumber(world, account.accountId);
  await approveTemplate(world, account.accountId, number);
  const { broadcastId } = await makeBroadcast(world, account.accountId, number.whatsapp_phno, recipients(count));
  await sendAllChunks(world, account.accountId, broadcastId);
  const accountId = account.accountId;
  const wamids = world.messaging.sends.map((s) => s.wamid);
  const status = (wamid: string, value: string, errors?: { code: number }[]) =>
    applyBroadcastStatus(world.consumer, { accountId, broadcastId, status: { id: wamid, status: value, timestamp: '1700000000', ...(errors ? { errors } : {}) } });
  const counts = async () => (await getBroadcast(world.api, accountId, broadcastId)).counts;
  return { world, accountId, number, broadcastId, wamids, status, counts };
}

describe('delivery statuses', () => {
  it('counts delivered and read once each, however often they come', async () => {
    const { wamids, status, counts } = await sentBroadcast(2);
    await status(wamids[0]!, 'sent');
    await status(wamids[0]!, 'delivered');
    await status(wamids[0]!, 'delivered');
    await status(wamids[0]!, 'read');
    await status(wamids[0]!, 'read');
    expect(await counts()).toMatchObject({ sent: 2, delivered: 1, read: 1 });
  });

  it('counts a read that comes first as delivered and read', async () => {
    const { wamids, status, counts } = await sentBroadcast(1);
    expect(await status(wamids[0]!, 'read')).toBe('applied');
    expect(await counts()).toMatchObject({ delivered: 1, read: 1 });
  });

  it('ignores a delivered that arrives after the read', async () => {
    const { wamids, status, counts } = await sentBroadcast(1);
    await status(wamids[0]!, 'read');
    expect(await status(wamids[0]!, 'delivered')).toBe('ignored');
    expect(await counts()).toMatchObject({ delivered: 1, read: 1 });
  });

  it('counts each recipient once when the same statuses race', async () => {
    const { wamids, status, counts } = await sentBroadcast(1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => status(wamids[0]!, i % 2 ? 'read' : 'delivered')));
    expect(await counts()).toMatchObject({ delivered: 1, read: 1 });
  });

  it('asks for a retry when the status comes before the send was recorded', async () => {
    const { world, accountId, broadcastId } = await sentBroadcast(1);
    await expect(
      applyBroadcastStatus(world.consumer, { accountId, broadcastId, status: { id: 'wamid.not-yet', status: 'delivered', timestamp: '1' } }),
    ).rejects.toBeInstanceOf(BroadcastSendNotRecorded);
  });

  it('ignores a status that names no broadcast of ours', async () => {
    const { world, accountId } = await sentBroadcast(1);
    expect(await applyBroadcastStatus(world.consumer, { accountId, broadcastId: 'brd_unknown0000', status: { id: 'wamid.x', status: 'read', timestamp: '1' } })).toBe('ignored');
  });
});

describe('a message Meta reports failed', () => {
  it('moves the recipient from sent to failed', async () => {
    const { wamids, status, counts } = await sentBroadcast(3);
    await status(wamids[1]!, 'failed', [{ code: 131026 }]);
    expect(await counts()).toMatchObject({ recipients: 3, sent: 2, failed: 1 });
  });

  it('refunds its price once, to the pool, attributed to the number', async () => {
    const { world, accountId, number, wamids, status } = await sentBroadcast(3);
    await status(wamids[1]!, 'failed');
    await status(wamids[1]!, 'failed');
    expect(await balanceOf(world, accountId)).toBe(98 * PRICE);
    const refunds = (await ledgerOf(world, accountId)).filter((e) => e.reason === 'broadcast:refund');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: PRICE, whatsapp_phno: number.whatsapp_phno, idempotencyKey: `refund:${wamids[1]}` });
  });

  it("takes the refund off the number's spend and the broadcast's credits", async () => {
    const { world, accountId, number, broadcastId, wamids, status } = await sentBroadcast(3);
    await status(wamids[0]!, 'failed');
    const period = billingPeriod((await world.deps.accounts.get(accountId))!.billingAnchor, new Date()).key;
    expect(await world.deps.quotas.numberSpend(accountId, period, number.whatsapp_phno)).toBe(2 * PRICE);
    expect((await getBroadcast(world.api, accountId, broadcastId)).creditsSpentMicros).toBe(2 * PRICE);
  });

  it('ignores a failed for a message already delivered', async () => {
    const { wamids, status, counts } = await sentBroadcast(1);
    await status(wamids[0]!, 'delivered');
    expect(await status(wamids[0]!, 'failed')).toBe('ignored');
    expect(await counts()).toMatchObject({ sent: 1, delivered: 1, failed: 0 });
  });

  it('ignores statuses after a failed', async () => {
    const { wamids, status, counts } = await sentBroadcast(1);
    await status(wamids[0]!, 'failed');
    expect(await status(wamids[0]!, 'read')).toBe('ignored');
    expect(await counts()).toMatchObject({ sent: 0, delivered: 0, read: 0, failed: 1 });
  });
});

describe('replies', () => {
  it('counts a reply quoting a broadcast message once per recipient', async () => {
    const { world, accountId, wamids, counts } = await sentBroadcast(2);
    const reply = (id: string) => applyBroadcastReply(world.consumer, { accountId, message: { id, from: '1', timestamp: '1', type: 'text', context: { id: wamids[0]! } } });
    expect(await reply('wamid.in.1')).toBe('applied');
    expect(await reply('wamid.in.2')).toBe('ignored');
    expect(await counts()).toMatchObject({ replied: 1 });
  });

  it('ignores a reply to a message that is not a broadcast message', async () => {
    const { world, accountId, counts } = await sentBroadcast(1);
    expect(await applyBroadcastReply(world.consumer, { accountId, message: { id: 'w', timestamp: '1', type: 'text', context: { id: 'wamid.other' } } })).toBe('ignored');
    expect(await counts()).toMatchObject({ replied: 0 });
  });

  it("ignores a reply naming another account's broadcast message", async () => {
    const { world, wamids, counts } = await sentBroadcast(1);
    expect(await applyBroadcastReply(world.consumer, { accountId: 'acc_other00000', message: { id: 'w', timestamp: '1', type: 'text', context: { id: wamids[0]! } } })).toBe('ignored');
    expect(await counts()).toMatchObject({ replied: 0 });
  });
});

describe('Broadcast Requested', () => {
  it('puts one send-queue message per chunk, once', async () => {
    const world = broadcastWorld(table, { chunkSize: 4 });
    const account = await newAccount(world.deps, {}, 100 * PRICE);
    const number = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, number);
    const { broadcastId } = await makeBroadcast(world, account.accountId, number.whatsapp_phno, recipients(10));
    const detail = { accountId: account.accountId, whatsapp_phno: number.whatsapp_phno, eventId: `brq:${broadcastId}`, broadcastId, chunkCount: 3 };
    expect(await enqueueBroadcastChunks(world.consumer, detail)).toBe('enqueued');
    expect(await enqueueBroadcastChunks(world.consumer, detail)).toBe('duplicate');
    expect(world.queued).toEqual([0, 1, 2].map((chunk) => ({ accountId: account.accountId, broadcastId, chunk })));
  });
});
