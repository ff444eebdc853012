/**
 * Marketing opt-outs on DynamoDB Local (docs/quotas.md, "Broadcasts:
 * marketing opt-outs"): the latest `user_preferences` word per (number,
 * contact) is kept forward-only by Meta's time, and a broadcast of a
 * MARKETING template skips who opted out before reserving credits or taking
 * messaging-limit units; UTILITY templates are not affected; concurrent runs
 * of a chunk skip the same recipients and charge once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import { DynamoMarketingPreferenceStore } from '../../functions/adapters/dynamo/marketing-preferences.js';
import { parseBroadcastRecord } from '../../functions/broadcast/events.js';
import { processBroadcastEvent } from '../../functions/core/broadcast-consumer.js';
import { getBroadcast } from '../../functions/core/broadcasts.js';
import { MARKETING_CATEGORY, isOptedOut } from '../../functions/core/marketing-preferences.js';
import { processChunk } from '../../functions/core/sender.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import { newAccount, race } from '../support/accounts.js';
import { type BroadcastWorld, approveTemplate, balanceOf, broadcastWorld, connectTestNumber, makeBroadcast, recipients, sendAllChunks } from '../support/broadcasts.js';
import { call } from '../support/api-events.js';
import { agentFor } from '../support/access.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, RecordingSender as InboxSender, putNumber, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';
import { PRICE, limitView, limitWorld, limitedAccount, runAllChunks, setTier } from '../support/messaging-limit.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('mktpref');
});

let seq = 0;

/** A `WhatsApp User Preferences Updated` as the broadcast rule's queue delivers it, parsed and processed by the consumer. */
async function preference(world: BroadcastWorld, accountId: string, whatsappPhno: string, waId: string, value: string, at: string) {
  const detail = {
    accountId,
    whatsapp_phno: whatsappPhno,
    phoneNumberId: '110000000000001',
    wabaId: '210000000000001',
    isDefaultNumber: true,
    eventId: `pref:${waId}:${MARKETING_CATEGORY}:${value}:${at}:${++seq}`,
    receivedAt: new Date().toISOString(),
    contact: { waId },
    category: MARKETING_CATEGORY,
    value,
    at,
  };
  const event = parseBroadcastRecord(JSON.stringify({ source: SOURCES.webhook, 'detail-type': DETAIL_TYPES.userPreferencesUpdated, detail }));
  return processBroadcastEvent(world.consumer, event);
}

async function optedOut(world: BroadcastWorld, accountId: string, whatsappPhno: string, waId: string) {
  const prefs = await new DynamoMarketingPreferenceStore(world.table.doc, world.table.tableName).forContacts(accountId, whatsappPhno, [waId], MARKETING_CATEGORY);
  return isOptedOut(prefs, whatsappPhno, waId, MARKETING_CATEGORY);
}

async function accountWithTemplates(world: BroadcastWorld, creditsMicros: number) {
  const account = await newAccount(world.deps, {}, creditsMicros);
  const number = await connectTestNumber(world, account.accountId);
  const marketing = await approveTemplate(world, account.accountId, number, 'promo', 'MARKETING');
  const utility = await approveTemplate(world, account.accountId, number, 'receipt', 'UTILITY');
  return { accountId: account.accountId, number, marketing, utility };
}

const T1 = '2026-11-01T10:00:00.000Z';
const T2 = '2026-11-01T11:00:00.000Z';
const T3 = '2026-11-01T12:00:00.000Z';

describe('keeping preferences', () => {
  it('keeps the latest word by Meta time: an older stop delivered after a newer resume changes nothing', async () => {
    const world = broadcastWorld(table);
    const { accountId, number } = await accountWithTemplates(world, 0);
    const waId = '12025550101';
    expect(await preference(world, accountId, number.whatsapp_phno, waId, 'stop', T1)).toBe('applied');
    expect(await optedOut(world, accountId, number.whatsapp_phno, waId)).toBe(true);
    expect(await preference(world, accountId, number.whatsapp_phno, waId, 'resume', T3)).toBe('applied');
    expect(await preference(world, accountId, number.whatsapp_phno, waId, 'stop', T2)).toBe('stale');
    expect(await optedOut(world, accountId, number.whatsapp_phno, waId)).toBe(false);
  });

  it('is idempotent: the same event twice is applied once', async () => {
    const world = broadcastWorld(table);
    const { accountId, number } = await accountWithTemplates(world, 0);
    expect(await preference(world, accountId, number.whatsapp_phno, '12025550102', 'stop', T1)).toBe('applied');
    expect(await preference(world, accountId, number.whatsapp_phno, '12025550102', 'stop', T1)).toBe('stale');
  });

  it('ends in the same state whatever order racing events commit in (later wins; at the same time, stop)', async () => {
    const world = broadcastWorld(table);
    const { accountId, number } = await accountWithTemplates(world, 0);
    const phno = number.whatsapp_phno;
    await Promise.all([
      preference(world, accountId, phno, '12025550103', 'resume', T3),
      preference(world, accountId, phno, '12025550103', 'stop', T2),
      preference(world, accountId, phno, '12025550103', 'stop', T1),
      preference(world, accountId, phno, '12025550104', 'resume', T2),
      preference(world, accountId, phno, '12025550104', 'stop', T2),
      preference(world, accountId, phno, '12025550104', 'resume', T2),
    ]);
    expect(await optedOut(world, accountId, phno, '12025550103')).toBe(false);
    expect(await optedOut(world, accountId, phno, '12025550104')).toBe(true);
  });

  it('is per number: a stop on one number leaves the other number free to send', async () => {
    const world = broadcastWorld(table);
    const { accountId, number } = await accountWithTemplates(world, 0);
    await preference(world, accountId, number.whatsapp_phno, '12025550105', 'stop', T1);
    expect(await optedOut(world, accountId, '15559999999', '12025550105')).toBe(false);
  });

  it('ignores a preference of nobody (no phone, no well-formed BSUID)', async () => {
    const world = broadcastWorld(table);
    const { accountId, number } = await accountWithTemplates(world, 0);
    expect(await preference(world, accountId, number.whatsapp_phno, '', 'stop', T1)).toBe('ignored');
  });
});

describe('a broadcast to opted-out recipients', () => {
  const to = recipients(10, '1303');
  const stopped = [to[1]!, to[4]!, to[8]!];

  async function optOut(world: BroadcastWorld, accountId: string, phno: string) {
    for (const waId of stopped) await preference(world, accountId, phno, waId, 'stop', T1);
  }

  it('of a MARKETING template sends 7 of 10, reserves credit for 7 and counts 3 skippedOptOut', async () => {
    const world = broadcastWorld(table);
    const { accountId, number, marketing } = await accountWithTemplates(world, 50 * PRICE);
    await optOut(world, accountId, number.whatsapp_phno);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to, marketing);
    const outcome = await processChunk(world.sender, { accountId, broadcastId, chunk: 0 });
    expect(outcome).toMatchObject({ sent: 7, failed: 0, skippedOptOut: 3, reservedMicros: 7 * PRICE, usedMicros: 7 * PRICE });
    const reservation = await world.sender.credits.reservation(accountId, `${broadcastId}#0`);
    expect(reservation?.amountMicros).toBe(7 * PRICE);
    expect(world.messaging.sends.map((s) => s.to).sort()).toEqual(to.filter((waId) => !stopped.includes(waId)).sort());
    expect(await balanceOf(world, accountId)).toBe(43 * PRICE);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ recipients: 10, sent: 7, failed: 0, skippedOptOut: 3 });
    expect(view.creditsSpentMicros).toBe(7 * PRICE);
    expect(view.failedReasons).toEqual({});
  });

  it('of a UTILITY template sends all 10', async () => {
    const world = broadcastWorld(table);
    const { accountId, number, utility } = await accountWithTemplates(world, 50 * PRICE);
    await optOut(world, accountId, number.whatsapp_phno);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to, utility);
    await sendAllChunks(world, accountId, broadcastId);
    expect(world.messaging.sends).toHaveLength(10);
    expect((await getBroadcast(world.api, accountId, broadcastId)).counts).toMatchObject({ sent: 10, skippedOptOut: 0 });
  });

  it('sends again to a user who resumed later', async () => {
    const world = broadcastWorld(table);
    const { accountId, number, marketing } = await accountWithTemplates(world, 50 * PRICE);
    await optOut(world, accountId, number.whatsapp_phno);
    await preference(world, accountId, number.whatsapp_phno, stopped[0]!, 'resume', T2);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to, marketing);
    await sendAllChunks(world, accountId, broadcastId);
    expect(world.messaging.sends.map((s) => s.to)).toContain(stopped[0]);
    expect((await getBroadcast(world.api, accountId, broadcastId)).counts).toMatchObject({ sent: 8, skippedOptOut: 2 });
  });

  it('skips the same three and charges once when the chunk runs several times at once', async () => {
    const world = broadcastWorld(table, { chunkSize: 5 });
    const { accountId, number, marketing } = await accountWithTemplates(world, 50 * PRICE);
    await optOut(world, accountId, number.whatsapp_phno);
    const { broadcastId } = await makeBroadcast(world, accountId, number.whatsapp_phno, to, marketing);
    const { errors } = await race([0, 1, 0, 1, 0, 1].map((chunk) => () => processChunk(world.sender, { accountId, broadcastId, chunk })));
    // A run that finds another still sending is retried by the queue: run each chunk once more to finish.
    await sendAllChunks(world, accountId, broadcastId);
    expect(errors.every((e) => (e as Error).name === 'ChunkInFlight')).toBe(true);
    expect(world.messaging.sends.map((s) => s.to).sort()).toEqual(to.filter((waId) => !stopped.includes(waId)).sort());
    expect(await balanceOf(world, accountId)).toBe(43 * PRICE);
    const view = await getBroadcast(world.api, accountId, broadcastId);
    expect(view.counts).toMatchObject({ recipients: 10, sent: 7, failed: 0, skippedOptOut: 3 });
    expect(view.status).toBe('completed');
  });

  it('takes messaging-limit units only for the 7 it sends', async () => {
    const world = limitWorld(table);
    const { accountId, numbers } = await limitedAccount(world, 1);
    const phno = numbers[0]!.whatsapp_phno;
    await setTier(world, accountId, phno, 'TIER_250');
    await optOut(world, accountId, phno);
    const { broadcastId } = await makeBroadcast(world, accountId, phno, to);
    await runAllChunks(world, accountId, [{ broadcastId }]);
    expect(world.messaging.sends).toHaveLength(7);
    expect((await limitView(world, accountId)).usedLast24h).toBe(7);
  });
});

describe('the contact view', () => {
  it('shows the latest word on marketing messages from its number, null when never given', async () => {
    const world = broadcastWorld(table);
    const { accountId } = await newAccount(world.deps);
    await putNumber(table, accountId, NUMBERS.default, true, 'Support');
    const inbox = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
    for (const from of ['5511987650001', '16505550002']) {
      await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from }))));
    }
    await preference(world, accountId, NUMBERS.default.whatsapp_phno, '5511987650001', 'stop', T1);
    // On another number the same user's word is not this contact's.
    await preference(world, accountId, NUMBERS.vendas.whatsapp_phno, '16505550002', 'stop', T1);
    const api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new InboxSender() }));
    const res = await call(api, { method: 'GET', path: '/v1/contacts', as: await agentFor((request) => call(api, request), accountId) });
    expect(res.status).toBe(200);
    const byWaId = Object.fromEntries(res.body.items.map((c: { waId: string; marketing: unknown }) => [c.waId, c.marketing]));
    expect(byWaId).toEqual({ '5511987650001': { optedOut: true, at: T1 }, '16505550002': null });
    await preference(world, accountId, NUMBERS.default.whatsapp_phno, '5511987650001', 'resume', T2);
    const again = await call(api, { method: 'GET', path: '/v1/contacts', as: await agentFor((request) => call(api, request), accountId) });
    expect(again.body.items.find((c: { waId: string }) => c.waId === '5511987650001').marketing).toEqual({ optedOut: false, at: T2 });
  });
});
