/**
 * The webhook's table adapters on DynamoDB Local: route rows as the numbers
 * feature writes them, and channel-status writes that only touch existing
 * numbers and only move forward in Meta's time.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoChannelStatusWriter } from '../../functions/adapters/dynamo/channel-status-writer.js';
import { DynamoRouteReader } from '../../functions/adapters/dynamo/route-reader.js';
import { ingestDelivery } from '../../functions/core/ingestion.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { FIXTURE_ROUTES, fixtureJson, seedNumberItem, seedRoute } from '../support/webhook.js';

let table: TestTable;
let routes: DynamoRouteReader;
let writer: DynamoChannelStatusWriter;

beforeAll(async () => {
  table = await createTestTable('webhook');
  routes = new DynamoRouteReader(table.doc, table.tableName);
  writer = new DynamoChannelStatusWriter(table.doc, table.tableName);
  for (const route of Object.values(FIXTURE_ROUTES)) await seedRoute(table.doc, table.tableName, route);
});

const numberItem = async (accountId: string, phno: string) =>
  (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: entities.number.key({ accountId, whatsappPhno: phno }), ConsistentRead: true }))).Item;

describe('DynamoRouteReader', () => {
  it('finds a number by its phone_number_id', async () => {
    expect(await routes.byPhoneNumberId('110000000000002')).toEqual(FIXTURE_ROUTES.vendas);
  });

  it('finds nothing for a phone_number_id no account connected', async () => {
    expect(await routes.byPhoneNumberId('119999999999999')).toBeUndefined();
  });

  it('lists every number of a WABA and no other', async () => {
    const found = await routes.byWaba('210000000000001');
    expect(found.map((route) => route.whatsapp_phno).sort()).toEqual(['15550001001', '15550001002']);
  });

  it('routes the fixtures through the real rows', async () => {
    const { events, unrouted } = await ingestDelivery(fixtureJson('two-numbers-one-delivery.json').entry, routes, '2026-11-27T12:00:00.000Z');
    expect(events.map((e) => e.detail.whatsapp_phno)).toEqual(['15550001001', '15550001002', '5511900001003']);
    expect(unrouted).toEqual([]);
  });

  it('refuses a malformed route row rather than routing with half of it', async () => {
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...entities.phoneNumberIdRoute.key({ phoneNumberId: '110000000000099' }), accountId: 'acc_x' } }));
    await expect(routes.byPhoneNumberId('110000000000099')).rejects.toThrow(/Malformed route row/);
  });
});

describe('DynamoChannelStatusWriter', () => {
  const change = { accountId: 'acc_status01', whatsapp_phno: '15550007001', lastChannelEvent: 'phone_number_quality_update:UPGRADE' };

  it('updates an existing number item', async () => {
    await seedNumberItem(table.doc, table.tableName, { ...FIXTURE_ROUTES.default, ...change });
    expect(await writer.apply({ ...change, at: '2026-11-27T10:00:00.000Z', messagingLimitTier: 'TIER_10K' })).toBe('applied');
    expect(await numberItem(change.accountId, change.whatsapp_phno)).toMatchObject({
      messagingLimitTier: 'TIER_10K',
      status: 'CONNECTED',
      qualityRating: 'GREEN',
      messagingLimitTierAt: '2026-11-27T10:00:00.000Z',
      lastChannelEvent: 'phone_number_quality_update:UPGRADE',
    });
  });

  it('never creates a number item', async () => {
    expect(await writer.apply({ ...change, whatsapp_phno: '15550007999', at: '2026-11-27T10:00:00.000Z', status: 'BANNED' })).toBe('not-found');
    expect(await numberItem(change.accountId, '15550007999')).toBeUndefined();
  });

  it('ignores an update older than the last one applied', async () => {
    const phno = '15550007002';
    await seedNumberItem(table.doc, table.tableName, { ...FIXTURE_ROUTES.default, ...change, whatsapp_phno: phno });
    await writer.apply({ ...change, whatsapp_phno: phno, at: '2026-11-27T12:00:00.000Z', status: 'FLAGGED', qualityRating: 'RED' });
    expect(await writer.apply({ ...change, whatsapp_phno: phno, at: '2026-11-27T11:00:00.000Z', status: 'CONNECTED', qualityRating: 'GREEN' })).toBe('stale');
    expect(await numberItem(change.accountId, phno)).toMatchObject({ status: 'FLAGGED', qualityRating: 'RED', statusAt: '2026-11-27T12:00:00.000Z' });
  });

  it('applies an older change of another attribute that arrives late', async () => {
    const phno = '15550007004';
    await seedNumberItem(table.doc, table.tableName, { ...FIXTURE_ROUTES.default, ...change, whatsapp_phno: phno });
    await writer.apply({ ...change, whatsapp_phno: phno, at: '2026-11-27T12:00:00.000Z', status: 'RESTRICTED', lastChannelEvent: 'account_update:ACCOUNT_RESTRICTION' });
    expect(await writer.apply({ ...change, whatsapp_phno: phno, at: '2026-11-27T11:00:00.000Z', messagingLimitTier: 'TIER_10K' })).toBe('applied');
    expect(await numberItem(change.accountId, phno)).toMatchObject({
      status: 'RESTRICTED',
      messagingLimitTier: 'TIER_10K',
      lastChannelEvent: 'account_update:ACCOUNT_RESTRICTION',
    });
  });

  it('applies the same update twice without harm (a redelivery)', async () => {
    const phno = '15550007003';
    await seedNumberItem(table.doc, table.tableName, { ...FIXTURE_ROUTES.default, ...change, whatsapp_phno: phno });
    const update = { ...change, whatsapp_phno: phno, at: '2026-11-27T12:00:00.000Z', status: 'RESTRICTED' };
    expect([await writer.apply(update), await writer.apply(update)]).toEqual(['applied', 'applied']);
    expect((await numberItem(change.accountId, phno))?.status).toBe('RESTRICTED');
  });
});
