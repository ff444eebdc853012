/**
 * The inbox consumer on DynamoDB Local, through its Lambda handler with SQS
 * batches: idempotent under concurrent redeliveries, tolerant of any order,
 * one contact per number and person.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { recordOutboundMessage } from '../../functions/core/inbox-consumer.js';
import { systemClock } from '../../functions/commons/ids.js';
import { race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { NUMBERS, envelope, eventsFromPayload, fixtureText, permutations, sqsBatch, statusEvent, textEvent } from '../support/inbox.js';

const byAccount = entities.conversation.indexes.gsi1;

let table: TestTable;
let repo: DynamoInboxRepository;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let accountSeq = 0;

beforeAll(async () => {
  table = await createTestTable('inbox-consumer');
  repo = new DynamoInboxRepository(table.doc, table.tableName, systemClock);
  // The handler reads its table at import, as in a Lambda cold start.
  process.env.TABLE_NAME = table.tableName;
  process.env.DYNAMODB_ENDPOINT = table.endpoint;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  handler = (await import('../../functions/inbox/handler.js')).handler as typeof handler;
});

const newAccountId = () => `acc_inbox${Date.now().toString(36)}${++accountSeq}`;
const context = {} as Context;
const consume = (...bodies: Parameters<typeof sqsBatch>[0]) => handler(sqsBatch(bodies), context);

async function conversation(accountId: string, phno: string, contactKey: string) {
  return repo.getConversation({ accountId, whatsappPhno: phno, contactKey });
}

async function messages(accountId: string, phno: string, contactKey: string) {
  const { Items } = await table.doc.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': entities.message.partition({ accountId, whatsappPhno: phno, contactKey }) }, ConsistentRead: true }),
  );
  return Items ?? [];
}

async function contact(accountId: string, phno: string, contactKey: string) {
  const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: entities.contact.key({ accountId, whatsappPhno: phno, contactKey }), ConsistentRead: true }));
  return Item;
}

describe('inbound messages', () => {
  it('stores the fixture text message with its contact and conversation, tagged with the number', async () => {
    const accountId = newAccountId();
    const response = await consume(...eventsFromPayload(fixtureText('text-message.json'), accountId));
    expect(response.batchItemFailures).toEqual([]);

    const stored = await contact(accountId, '15550001001', '5511987650001');
    expect(stored).toMatchObject({
      name: 'Maria Souza',
      waId: '5511987650001',
      attributes: { whatsapp_phno: '15550001001' },
      firstSeenAt: '2025-11-27T08:00:00.000Z',
      lastSeenAt: '2025-11-27T08:00:00.000Z',
    });
    expect(await conversation(accountId, '15550001001', '5511987650001')).toMatchObject({
      contactName: 'Maria Souza',
      unreadCount: 1,
      lastMessageAt: '2025-11-27T08:00:00.000Z',
      lastMessagePreview: 'Oi! Vocês entregam em Campinas?',
      windowOpenUntil: '2025-11-28T08:00:00.000Z',
    });
    const [message] = await messages(accountId, '15550001001', '5511987650001');
    expect(message).toMatchObject({
      sk: entities.message.sk.build({ timestamp: '2025-11-27T08:00:00.000Z', wamid: 'wamid.IN_TEXT_0001' }),
      direction: 'in',
      messageType: 'text',
      text: 'Oi! Vocês entregam em Campinas?',
      status: 'received',
      whatsapp_phno: '15550001001',
    });
  });

  it('stores one message and raises unread by one when five deliveries of it race', async () => {
    const accountId = newAccountId();
    const event = textEvent(accountId, { from: '5511987650001', wamid: 'wamid.RACE_1' });
    const { ok, errors } = await race(Array.from({ length: 5 }, () => () => consume(event)));
    expect(errors).toEqual([]);
    expect(ok.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    expect(await messages(accountId, '15550001001', '5511987650001')).toHaveLength(1);
    expect((await conversation(accountId, '15550001001', '5511987650001'))!.unreadCount).toBe(1);
  });

  it('writes a dedupe record scoped to the number that expires after at least 8 days', async () => {
    const accountId = newAccountId();
    await consume(textEvent(accountId, { from: '5511987650001', wamid: 'wamid.DEDUP_1' }));
    const { Item } = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: entities.consumerDedupe.key({ phoneNumberId: NUMBERS.default.phoneNumberId, eventId: 'wamid.DEDUP_1', consumer: 'inbox' }) }),
    );
    expect(Item!.expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 8 * 24 * 3600);
  });

  it('stores both numbers\' messages of one delivery, each under its own contact', async () => {
    const accountId = newAccountId();
    const response = await consume(...eventsFromPayload(fixtureText('two-numbers-one-delivery.json'), accountId));
    expect(response.batchItemFailures).toEqual([]);
    const onDefault = await contact(accountId, '15550001001', '16505550002');
    const onVendas = await contact(accountId, '15550001002', '16505550002');
    expect(onDefault!.attributes).toEqual({ whatsapp_phno: '15550001001' });
    expect(onVendas!.attributes).toEqual({ whatsapp_phno: '15550001002' });
    expect((await messages(accountId, '15550001001', '16505550002')).map((m) => m.text)).toEqual(['hello support']);
    expect((await messages(accountId, '15550001002', '16505550002')).map((m) => m.text)).toEqual(['price list please']);
    expect((await messages(accountId, '5511900001003', '5511987650001')).map((m) => m.text)).toEqual(['quero comprar']);
  });

  it('does not move a conversation back when an older message arrives late', async () => {
    const accountId = newAccountId();
    const from = '5511987650001';
    await consume(textEvent(accountId, { from, wamid: 'wamid.NEW', text: 'newer', timestamp: 1_800_000_100 }));
    await consume(textEvent(accountId, { from, wamid: 'wamid.OLD', text: 'older', timestamp: 1_800_000_000, name: 'Old Name' }));
    const stored = await conversation(accountId, '15550001001', from);
    expect(stored).toMatchObject({
      lastMessagePreview: 'newer',
      lastMessageAt: new Date(1_800_000_100_000).toISOString(),
      windowOpenUntil: new Date(1_800_000_100_000 + 86_400_000).toISOString(),
      contactName: 'Maria Souza',
      unreadCount: 2,
    });
    const { Items } = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: byAccount.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': byAccount.attributes.pk },
        ExpressionAttributeValues: { ':pk': byAccount.partition({ accountId }) },
      }),
    );
    expect(Items!.map((i) => i[byAccount.attributes.sk])).toEqual([byAccount.sk.build({ lastMessageAt: new Date(1_800_000_100_000).toISOString(), whatsappPhno: '15550001001', contactKey: from })]);
    expect((await messages(accountId, '15550001001', from)).map((m) => m.text)).toEqual(['older', 'newer']);
  });

  it('ends at the latest message, window and read-receipt target when twelve messages of one conversation race, each delivered twice', async () => {
    const accountId = newAccountId();
    const from = '5511987650002';
    const base = 1_800_000_000;
    const events = Array.from({ length: 12 }, (_, i) => textEvent(accountId, { from, wamid: `wamid.STORM_${i}`, text: `message ${i}`, timestamp: base + i * 7 }));
    const deliveries = [...events, ...events].sort(() => Math.random() - 0.5);
    const { ok, errors } = await race(deliveries.map((event) => () => consume(event)));
    expect(errors).toEqual([]);
    expect(ok.flatMap((r) => r.batchItemFailures)).toEqual([]);
    const latest = new Date((base + 11 * 7) * 1000).toISOString();
    expect(await conversation(accountId, '15550001001', from)).toMatchObject({
      lastMessagePreview: 'message 11',
      lastMessageAt: latest,
      windowOpenUntil: new Date(Date.parse(latest) + 86_400_000).toISOString(),
      lastInboundWamid: 'wamid.STORM_11',
      lastInboundAt: latest,
      unreadCount: 12,
      status: 'open',
    });
    expect(await messages(accountId, '15550001001', from)).toHaveLength(12);
  });

  it('moves the read-receipt target and the window, not the preview, when an inbound message older than our reply arrives late', async () => {
    const accountId = newAccountId();
    const from = '5511987650003';
    const first = Math.floor(Date.now() / 1000) - 120;
    await consume(textEvent(accountId, { from, wamid: 'wamid.FIRST', text: 'first', timestamp: first }));
    await recordOutboundMessage(
      { inbox: repo },
      { accountId, whatsappPhno: '15550001001', contactKey: from, phoneNumberId: NUMBERS.default.phoneNumberId, identity: { contactKey: from, waId: from }, wamid: 'wamid.REPLY', messageType: 'text', text: 'our reply', timestamp: new Date().toISOString() },
    );
    // Sent before our reply, delivered after it.
    await consume(textEvent(accountId, { from, wamid: 'wamid.LATE', text: 'late', timestamp: first + 60 }));
    expect(await conversation(accountId, '15550001001', from)).toMatchObject({
      lastMessagePreview: 'our reply',
      lastInboundWamid: 'wamid.LATE',
      windowOpenUntil: new Date((first + 60) * 1000 + 86_400_000).toISOString(),
    });
  });

  it('keeps firstSeenAt and moves lastSeenAt only forward', async () => {
    const accountId = newAccountId();
    const from = '16505550002';
    await consume(textEvent(accountId, { from, timestamp: 1_800_000_500, name: 'John Doe' }));
    await consume(textEvent(accountId, { from, timestamp: 1_800_000_900, name: 'Johnny' }));
    await consume(textEvent(accountId, { from, timestamp: 1_800_000_100, name: 'Stale' }));
    expect(await contact(accountId, '15550001001', from)).toMatchObject({
      firstSeenAt: new Date(1_800_000_500_000).toISOString(),
      lastSeenAt: new Date(1_800_000_900_000).toISOString(),
      name: 'Johnny',
    });
  });

  it('makes one contact of a Brazilian mobile seen in its legacy and current forms', async () => {
    const accountId = newAccountId();
    await consume(textEvent(accountId, { from: '551187650009', wamid: 'wamid.BR_LEGACY' }));
    await consume(textEvent(accountId, { from: '5511987650009', wamid: 'wamid.BR_CURRENT' }));
    expect(await messages(accountId, '15550001001', '5511987650009')).toHaveLength(2);
    expect(await contact(accountId, '15550001001', '551187650009')).toBeUndefined();
    expect((await conversation(accountId, '15550001001', '5511987650009'))!.unreadCount).toBe(2);
  });

  it('keys a username-only user (no `from`, only a BSUID) by the BSUID', async () => {
    const accountId = newAccountId();
    const response = await consume(textEvent(accountId, { userId: 'US.13491208655302741918', wamid: 'wamid.BSUID_1' }));
    expect(response.batchItemFailures).toEqual([]);
    expect(await contact(accountId, '15550001001', 'US.13491208655302741918')).toMatchObject({ userId: 'US.13491208655302741918', attributes: { whatsapp_phno: '15550001001' } });
    expect(await messages(accountId, '15550001001', 'US.13491208655302741918')).toHaveLength(1);
  });

  it('keeps a user who hides their number under the contact first seen with it', async () => {
    const accountId = newAccountId();
    await consume(textEvent(accountId, { from: '16505550002', userId: 'US.777000111', wamid: 'wamid.WITH_PHONE' }));
    await consume(textEvent(accountId, { userId: 'US.777000111', wamid: 'wamid.USERNAME_ONLY' }));
    expect(await messages(accountId, '15550001001', '16505550002')).toHaveLength(2);
    expect(await contact(accountId, '15550001001', 'US.777000111')).toBeUndefined();
  });

  it('stores every fixture message type with its display text', async () => {
    const accountId = newAccountId();
    const fixtures = ['image-message.json', 'interactive-button-reply.json', 'location-message.json', 'reaction-message.json', 'unsupported-message.json'];
    const response = await consume(...fixtures.flatMap((name) => eventsFromPayload(fixtureText(name), accountId)));
    expect(response.batchItemFailures).toEqual([]);
    expect((await messages(accountId, '15550001002', '5511987650001'))[0]).toMatchObject({ messageType: 'image', text: 'este modelo' });
    expect((await messages(accountId, '5511900001003', '5511987650001'))[0]).toMatchObject({ messageType: 'location', text: 'Loja Centro' });
    const john = (await messages(accountId, '15550001001', '16505550002')).map((m) => [m.messageType, m.text]);
    expect(john).toEqual([
      ['interactive', 'Talk to sales'],
      ['reaction', '👍'],
      ['unsupported', '[unsupported]'],
    ]);
  });
});

describe('batch handling', () => {
  it('reports only the malformed record as failed and stores the rest', async () => {
    const accountId = newAccountId();
    const good = textEvent(accountId, { from: '5511987650001', wamid: 'wamid.GOOD' });
    const batch = sqsBatch([good, '{not json', envelope('WhatsApp Message Received', { accountId })]);
    const response = await handler(batch, context);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([batch.Records[1]!.messageId, batch.Records[2]!.messageId].sort());
    expect(await messages(accountId, '15550001001', '5511987650001')).toHaveLength(1);
  });

  it('ignores detail types the inbox does not handle', async () => {
    const response = await consume(envelope('WhatsApp Number Updated', { accountId: 'acc_x', whatsapp_phno: '1', eventId: 'e' }));
    expect(response.batchItemFailures).toEqual([]);
  });
});

describe('statuses', () => {
  const recipient = '5511987650001';

  async function statusOf(accountId: string, wamid: string) {
    const items = await messages(accountId, '15550001001', recipient);
    return items.find((m) => m.wamid === wamid);
  }

  it.each(permutations(['sent', 'delivered', 'read']).map((order) => [order.join(' → '), order]))('ends at read when they arrive %s', async (_, order) => {
    const accountId = newAccountId();
    const wamid = `wamid.ORDER_${(order as string[]).join('_')}`;
    await recordOutboundMessage({ inbox: repo }, outbound(accountId, wamid));
    for (const status of order as string[]) {
      expect((await consume(statusEvent(accountId, { wamid, status, recipient }))).batchItemFailures).toEqual([]);
    }
    expect(await statusOf(accountId, wamid)).toMatchObject({ status: 'read', statusRank: 3, text: 'Sim, entregamos!' });
  });

  it.each(permutations(['sent', 'delivered', 'read']).map((order) => [order.join(' → '), order]))(
    'ends at read when they arrive %s before the send is recorded',
    async (_, order) => {
      const accountId = newAccountId();
      const wamid = `wamid.EARLY_${(order as string[]).join('_')}`;
      for (const status of order as string[]) await consume(statusEvent(accountId, { wamid, status, recipient }));
      await recordOutboundMessage({ inbox: repo }, outbound(accountId, wamid));
      const stored = await messages(accountId, '15550001001', recipient);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ wamid, status: 'read', direction: 'out', messageType: 'text', text: 'Sim, entregamos!' });
    },
  );

  it('ends at read when all three race with the send', async () => {
    const accountId = newAccountId();
    const wamid = 'wamid.RACE_STATUSES';
    const { errors } = await race<unknown>([
      () => recordOutboundMessage({ inbox: repo }, outbound(accountId, wamid)),
      ...['read', 'sent', 'delivered'].map((status) => () => consume(statusEvent(accountId, { wamid, status, recipient }))),
    ]);
    expect(errors).toEqual([]);
    const stored = await messages(accountId, '15550001001', recipient);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'read', text: 'Sim, entregamos!' });
  });

  it('keeps Meta\'s error on failed, and failed stays terminal', async () => {
    const accountId = newAccountId();
    const wamid = 'wamid.FAILS';
    await recordOutboundMessage({ inbox: repo }, outbound(accountId, wamid));
    const errors = [{ code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' }];
    await consume(statusEvent(accountId, { wamid, status: 'failed', recipient, errors }));
    await consume(statusEvent(accountId, { wamid, status: 'delivered', recipient }));
    expect(await statusOf(accountId, wamid)).toMatchObject({
      status: 'failed',
      error: { code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' },
    });
  });

  it('applies a status that names no recipient to a recorded send, and fails (for a retry) one that comes first', async () => {
    const accountId = newAccountId();
    const anonymous = (wamid: string) => {
      const event = statusEvent(accountId, { wamid, status: 'delivered' });
      delete (event.detail.status as Record<string, unknown>).recipient_id;
      return event;
    };
    await recordOutboundMessage({ inbox: repo }, outbound(accountId, 'wamid.KNOWN'));
    expect((await consume(anonymous('wamid.KNOWN'))).batchItemFailures).toEqual([]);
    expect(await statusOf(accountId, 'wamid.KNOWN')).toMatchObject({ status: 'delivered' });
    expect((await consume(anonymous('wamid.UNKNOWN'))).batchItemFailures).toHaveLength(1);
  });

  it('stores the fixture\'s out-of-order statuses as read', async () => {
    const accountId = newAccountId();
    await consume(...eventsFromPayload(fixtureText('statuses-out-of-order.json'), accountId));
    expect(await statusOf(accountId, 'wamid.OUT_0001')).toMatchObject({ status: 'read', direction: 'out' });
  });

  function outbound(accountId: string, wamid: string) {
    return {
      accountId,
      whatsappPhno: '15550001001',
      contactKey: recipient,
      phoneNumberId: NUMBERS.default.phoneNumberId,
      identity: { contactKey: recipient, waId: recipient },
      wamid,
      messageType: 'text',
      text: 'Sim, entregamos!',
      timestamp: new Date().toISOString(),
    };
  }
});
