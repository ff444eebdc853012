/**
 * The broadcast sender on DynamoDB Local, with a fake of our own
 * `MessageSender` port that records sends: one credit pool shared by every
 * number is never overspent, a number's cap is never exceeded, and a chunk
 * processed twice (also at the same time) sends and charges once.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBroadcast } from '../../functions/core/broadcasts.js';
import { WhatsAppRejected, WhatsAppThrottled } from '../../functions/core/errors.js';
import { ChunkInFlight } from '../../functions/core/backend-failures.js';
import { updateNumber } from '../../functions/core/numbers.js';
import { processChunk } from '../../functions/core/sender.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { newAccount, race } from '../support/accounts.js';
import {
  RecordingSender,
  approveTemplate,
  balanceOf,
  broadcastWorld,
  connectTestNumber,
  ledgerOf,
  makeBroadcast,
  recipients,
  sendAllChunks,
} from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('sender');
});

const PRICE = 1_000;

async function accountWithNumber(creditsMicros: number, world = broadcastWorld(table)) {
  const account = await newAccount(world.deps, {}, creditsMicros);
  const number = await connectTestNumber(world, account.accountId);
  await approveTemplate(world, account.accountId, number);
  return { world, accountId: account.accountId, number };
}

describe('sending a broadcast', () => {
  it('sends each recipient once, marked with its broadcast, and charges what was sent', async () => {
    const { world, accountId, number } = await accountWithNumber(50 * PRICE);
    const to = recipients(12);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await sendAllChunks(world, accountId, broadcastId);
    expect(world.messaging.sends.map((s) => s.to).sort()).toEqual([...to].sort());
    expect(new Set(world.messaging.sends.map((s) => s.bizOpaqueCallbackData))).toEqual(new Set([`bc:${broadcastId}`]));
    expect(new Set(world.messaging.sends.map((s) => s.phoneNumberId))).toEqual(new Set([number.phoneNumberId]));
    expect(await balanceOf(world, accountId)).toBe(50 * PRICE - 12 * PRICE);
  });

  it('ends completed with every recipient counted sent', async () => {
    const { world, accountId, number } = await accountWithNumber(50 * PRICE);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(7));
    await sendAllChunks(world, accountId, broadcastId);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.status).toBe('completed');
    expect(view.counts).toEqual({ recipients: 7, sent: 7, delivered: 0, read: 0, failed: 0, replied: 0, skippedOptOut: 0, deferred: 0 });
    expect(view.creditsSpentMicros).toBe(7 * PRICE);
  });

  it('spreads a broadcast over chunks and reserves and settles each once in the ledger, by number', async () => {
    const world = broadcastWorld(table, { chunkSize: 4 });
    const { accountId, number } = await accountWithNumber(50 * PRICE, world);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(10));
    await sendAllChunks(world, accountId, broadcastId);
    const ledger = (await ledgerOf(world, accountId)).filter((e) => String(e.refId).startsWith(broadcastId));
    expect(ledger.filter((e) => e.reason === 'broadcast:reserve')).toHaveLength(3);
    expect(ledger.filter((e) => e.reason === 'broadcast:settle')).toHaveLength(3);
    expect(ledger.every((e) => e.whatsapp_phno === number.whatsapp_phno)).toBe(true);
    expect(ledger.reduce((sum, e) => sum + (e.amount as number), 0)).toBe(-10 * PRICE);
  });
});

describe('one pool, never overspent', () => {
  it('sends exactly k messages when two numbers broadcast at once from a pool that affords k', async () => {
    const world = broadcastWorld(table, { chunkSize: 10 });
    const k = 23;
    const account = await newAccount(world.deps, {}, k * PRICE);
    const first = await connectTestNumber(world, account.accountId);
    const second = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, first);
    await approveTemplate(world, account.accountId, second);
    const a = await makeBroadcast(world, account.accountId, first.whatsapp_phno, recipients(40, '1303'));
    const b = await makeBroadcast(world, account.accountId, second.whatsapp_phno, recipients(40, '1404'));
    const chunks = [a, b].flatMap(({ broadcastId }) => [0, 1, 2, 3].map((chunk) => ({ broadcastId, chunk })));
    const { errors } = await race(chunks.map(({ broadcastId, chunk }) => () => processChunk(world.sender, { accountId: account.accountId, broadcastId, chunk })));
    expect(errors).toEqual([]);
    expect(world.messaging.sends).toHaveLength(k);
    expect(await balanceOf(world, account.accountId)).toBe(0);
  });

  it('fails the recipients it cannot pay for as insufficient_credits, and still completes', async () => {
    const world = broadcastWorld(table, { chunkSize: 10 });
    const { accountId, number } = await accountWithNumber(13 * PRICE, world);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(30));
    await sendAllChunks(world, accountId, broadcastId);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.status).toBe('completed');
    expect(view.counts.sent).toBe(13);
    expect(view.counts.failed).toBe(17);
    expect(view.failedReasons).toEqual({ insufficient_credits: 17 });
    expect(await balanceOf(world, accountId)).toBe(0);
  });

  it('never lets the balance go below zero, whatever the race', async () => {
    const world = broadcastWorld(table, { chunkSize: 5 });
    const account = await newAccount(world.deps, {}, 17 * PRICE + 400);
    const number = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, number);
    const broadcasts = await Promise.all([1, 2, 3].map((i) => makeBroadcast(world, account.accountId, number.whatsapp_phno, recipients(15, `120${i}`))));
    await race(broadcasts.flatMap(({ broadcastId }) => [0, 1, 2].map((chunk) => () => processChunk(world.sender, { accountId: account.accountId, broadcastId, chunk }))));
    expect(world.messaging.sends).toHaveLength(17);
    expect(await balanceOf(world, account.accountId)).toBe(400);
  });
});

describe("a number's cap inside the pool", () => {
  it('sends only what the cap allows while the pool has more', async () => {
    const world = broadcastWorld(table, { chunkSize: 10 });
    const { accountId, number } = await accountWithNumber(100 * PRICE, world);
    await updateNumber(world.deps, accountId, number.whatsapp_phno, { creditCapMicros: 6 * PRICE + 500 });
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(25));
    await sendAllChunks(world, accountId, broadcastId);
    expect(world.messaging.sends).toHaveLength(6);
    expect(await balanceOf(world, accountId)).toBe(94 * PRICE);
  });

  it('is never exceeded when two broadcasts of the number race', async () => {
    const world = broadcastWorld(table, { chunkSize: 4 });
    const { accountId, number } = await accountWithNumber(100 * PRICE, world);
    await updateNumber(world.deps, accountId, number.whatsapp_phno, { creditCapMicros: 9 * PRICE });
    const a = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(12, '1303'));
    const b = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(12, '1404'));
    await race([a, b].flatMap(({ broadcastId }) => [0, 1, 2].map((chunk) => () => processChunk(world.sender, { accountId, broadcastId, chunk }))));
    expect(world.messaging.sends).toHaveLength(9);
    const account = await world.deps.accounts.spendByNumber(accountId, (await import('../../functions/core/plan.js')).billingPeriod((await world.deps.accounts.get(accountId))!.billingAnchor, new Date()).key);
    expect(account).toEqual([{ whatsapp_phno: number.whatsapp_phno, spentMicros: 9 * PRICE }]);
  });

  it('leaves the other numbers of the pool free to spend', async () => {
    const world = broadcastWorld(table, { chunkSize: 10 });
    const account = await newAccount(world.deps, {}, 20 * PRICE);
    const capped = await connectTestNumber(world, account.accountId);
    const free = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, capped);
    await approveTemplate(world, account.accountId, free);
    await updateNumber(world.deps, account.accountId, capped.whatsapp_phno, { creditCapMicros: 2 * PRICE });
    const a = await makeBroadcast(world, account.accountId, capped.whatsapp_phno, recipients(5, '1303'));
    const b = await makeBroadcast(world, account.accountId, free.whatsapp_phno, recipients(5, '1404'));
    await sendAllChunks(world, account.accountId, a.broadcastId);
    await sendAllChunks(world, account.accountId, b.broadcastId);
    expect(world.messaging.sends.filter((s) => s.phoneNumberId === capped.phoneNumberId)).toHaveLength(2);
    expect(world.messaging.sends.filter((s) => s.phoneNumberId === free.phoneNumberId)).toHaveLength(5);
  });
});

describe('a chunk processed twice', () => {
  it('sends and charges once when both runs overlap', async () => {
    const world = broadcastWorld(table, { chunkSize: 30 });
    const { accountId, number } = await accountWithNumber(100 * PRICE, world);
    const to = recipients(30);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    const runs = await race(Array.from({ length: 4 }, () => () => processChunk(world.sender, { accountId, broadcastId, chunk: 0 })));
    // A run that saw another still sending asks to be retried; the retry finds the chunk settled.
    expect(runs.errors.every((e) => e instanceof ChunkInFlight)).toBe(true);
    for (const _ of runs.errors) await processChunk(world.sender, { accountId, broadcastId, chunk: 0 });
    expect(to.every((waId) => world.messaging.sentTo(waId) === 1)).toBe(true);
    expect(await balanceOf(world, accountId)).toBe(70 * PRICE);
    const ledger = (await ledgerOf(world, accountId)).filter((e) => String(e.refId).startsWith(broadcastId));
    expect(ledger.map((e) => e.reason).sort()).toEqual(['broadcast:reserve', 'broadcast:settle']);
  });

  it('does nothing the second time once the chunk is settled', async () => {
    const { world, accountId, number } = await accountWithNumber(100 * PRICE);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(5));
    await processChunk(world.sender, { accountId, broadcastId, chunk: 0 });
    const again = await processChunk(world.sender, { accountId, broadcastId, chunk: 0 });
    expect(again.outcome).toBe('already-settled');
    expect(world.messaging.sends).toHaveLength(5);
    expect((await getBroadcast(world.api, accountId, broadcastId)).counts.sent).toBe(5);
  });

  it('never re-sends a recipient a crashed run left sending, and settles it as unknown once stale', async () => {
    const world = broadcastWorld(table, { settings: { staleSendingSeconds: 60 } });
    const { accountId, number } = await accountWithNumber(100 * PRICE, world);
    const to = recipients(3);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    // A run reserved, claimed the first recipient and crashed before recording the send.
    await world.sender.credits.reserveCredits({
      accountId,
      reservationId: `${broadcastId}#0`,
      amountMicros: 3 * PRICE,
      idempotencyKey: `reserve:${broadcastId}#0`,
      reason: 'broadcast:reserve',
      whatsappPhno: number.whatsapp_phno,
      refId: broadcastId,
      spend: { period: 'p', capMicros: null },
      attributes: { recipients: to },
    });
    const longAgo = new Date(Date.now() - 120_000).toISOString();
    await world.sender.broadcasts.claimRecipient(broadcastId, { waId: to[0]!, chunk: 0, priceMicros: PRICE, period: 'p', claimedAt: longAgo });
    const outcome = await processChunk(world.sender, { accountId, broadcastId, chunk: 0 });
    expect(world.messaging.sentTo(to[0]!)).toBe(0);
    expect(world.messaging.sends).toHaveLength(2);
    expect(outcome.usedMicros).toBe(3 * PRICE);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.failedReasons).toEqual({ send_outcome_unknown: 1 });
    expect(view.status).toBe('completed');
  });

  it('asks to be retried while a recent claim of another run is still sending', async () => {
    const { world, accountId, number } = await accountWithNumber(100 * PRICE);
    const to = recipients(2);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await world.sender.credits.reserveCredits({
      accountId,
      reservationId: `${broadcastId}#0`,
      amountMicros: 2 * PRICE,
      idempotencyKey: `reserve:${broadcastId}#0`,
      reason: 'broadcast:reserve',
      whatsappPhno: number.whatsapp_phno,
      attributes: { recipients: to },
    });
    await world.sender.broadcasts.claimRecipient(broadcastId, { waId: to[0]!, chunk: 0, priceMicros: PRICE, period: 'p', claimedAt: new Date().toISOString() });
    await expect(processChunk(world.sender, { accountId, broadcastId, chunk: 0 })).rejects.toBeInstanceOf(ChunkInFlight);
    expect(world.messaging.sends.map((s) => s.to)).toEqual([to[1]]);
  });
});

describe('when WhatsApp says no', () => {
  it('retries a throttled recipient and sends it once', async () => {
    const messaging = new RecordingSender((request, attempt) => (request.to.endsWith('02') && attempt <= 2 ? new WhatsAppThrottled(130429) : undefined));
    const { world, accountId, number } = await accountWithNumber(100 * PRICE, broadcastWorld(table, { messaging }));
    const to = recipients(3);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to);
    await sendAllChunks(world, accountId, broadcastId);
    expect(to.map((waId) => messaging.sentTo(waId))).toEqual([1, 1, 1]);
  });

  it('fails a recipient still throttled after the retries as throttled, and does not charge it', async () => {
    const messaging = new RecordingSender((request) => (request.to.endsWith('02') ? new WhatsAppThrottled(131056) : undefined));
    const { world, accountId, number } = await accountWithNumber(100 * PRICE, broadcastWorld(table, { messaging }));
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(3));
    await sendAllChunks(world, accountId, broadcastId);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.failedReasons).toEqual({ throttled: 1 });
    expect(await balanceOf(world, accountId)).toBe(98 * PRICE);
  });

  it('fails a rejected recipient and gives its reserved price back', async () => {
    const messaging = new RecordingSender((request) => (request.to.endsWith('01') ? new WhatsAppRejected(131009, 'bad parameter') : undefined));
    const { world, accountId, number } = await accountWithNumber(100 * PRICE, broadcastWorld(table, { messaging }));
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(4));
    await sendAllChunks(world, accountId, broadcastId);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.counts).toMatchObject({ sent: 3, failed: 1 });
    expect(view.creditsSpentMicros).toBe(3 * PRICE);
    expect(await balanceOf(world, accountId)).toBe(97 * PRICE);
  });

  it('sends nothing from a number disconnected since the broadcast was made', async () => {
    const { world, accountId, number } = await accountWithNumber(100 * PRICE);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(3));
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...entities.number.key({ accountId, whatsappPhno: number.whatsapp_phno }), ...number, accountId, phoneNumberId: '123456789' } }));
    await sendAllChunks(world, accountId, broadcastId);
    expect(world.messaging.sends).toHaveLength(0);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.failedReasons).toEqual({ number_disconnected: 3 });
    expect(await balanceOf(world, accountId)).toBe(100 * PRICE);
  });
});

describe('Credits Low', () => {
  it('is published once when a reservation takes the balance under the threshold', async () => {
    const world = broadcastWorld(table, { chunkSize: 2, settings: { creditsLowThresholdMicros: 5 * PRICE } });
    const { accountId, number } = await accountWithNumber(8 * PRICE, world);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(8));
    await sendAllChunks(world, accountId, broadcastId);
    const low = world.events.ofType(DETAIL_TYPES.creditsLow);
    expect(low).toHaveLength(1);
    expect(low[0]!.detail).toMatchObject({ accountId, whatsapp_phno: number.whatsapp_phno, thresholdMicros: 5 * PRICE, balanceMicros: 4 * PRICE });
  });

  it('is told again after a top-up lifted the balance over the threshold', async () => {
    const world = broadcastWorld(table, { chunkSize: 2, settings: { creditsLowThresholdMicros: 5 * PRICE } });
    const { accountId, number } = await accountWithNumber(6 * PRICE, world);
    const first = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(2, '1303'));
    await sendAllChunks(world, accountId, first.broadcastId);
    await world.deps.quotas.addCredits({ accountId, amountMicros: 10 * PRICE, idempotencyKey: 'topup-1', reason: 'topup' });
    const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: entities.creditPool.key({ accountId }), ConsistentRead: true }));
    expect(Item!.lowBalanceNotifiedAt).toBeUndefined();
    const second = await makeBroadcast(world, accountId, number.whatsapp_phno, recipients(10, '1404'));
    await sendAllChunks(world, accountId, second.broadcastId);
    expect(world.events.ofType(DETAIL_TYPES.creditsLow)).toHaveLength(2);
  });
});
