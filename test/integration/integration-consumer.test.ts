/**
 * The integration consumer (`functions/integration/app.ts`) on DynamoDB
 * Local with the recording sink: a message on the default number pushes its
 * contact and conversation records once; a redelivered event pushes the
 * same `recordId`s and writes nothing to the table; an ad click shows on
 * the conversation's record; a message on an
 * additional number pushes nothing; after a default replacement the new
 * default's records flow and the old one's stop at once, whatever the
 * webhook's `isDefaultNumber` said; a failing sink fails the record (retry,
 * then DLQ) and the retry pushes the same records.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoIntegrationStore } from '../../functions/adapters/dynamo/integration-store.js';
import { RecordingIntegrationSink } from '../../functions/adapters/local/recording-integration-sink.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import type { IntegrationSink } from '../../functions/core/integration-ports.js';
import { connectNumber, replaceDefaultNumber } from '../../functions/core/numbers.js';
import { makeIntegrationHandler } from '../../functions/integration/app.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, sqsBatch, textEvent } from '../support/inbox.js';
import { lambdaContext } from '../../local/http-event.js';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;
let store: DynamoIntegrationStore;
let sink: RecordingIntegrationSink;
/** What the consumer pushes to; a test may make it fail. */
let failing: Error | undefined;
let handler: ReturnType<typeof makeIntegrationHandler>;

beforeAll(async () => {
  table = await createTestTable('integration-consumer');
  deps = adaptersFor(table);
  store = new DynamoIntegrationStore(table.doc, table.tableName);
  sink = new RecordingIntegrationSink();
  const guarded: IntegrationSink = {
    push: async (integration, record) => {
      if (failing) throw failing;
      await sink.push(integration, record);
    },
  };
  handler = makeIntegrationHandler({ integrations: store, numbers: deps.numbers, sink: guarded });
});

const MARIA = '5511987650001';
const HOOK = 'https://hooks.example.com/hooks/catch/1/a/';

let seq = 0;
function freshNumber(): FixtureNumber {
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++seq).padStart(3, '0')}`;
  return { whatsapp_phno: `1558${n}`, phoneNumberId: `7${n}01`, wabaId: `8${n}01` };
}

/** An account with a default and an additional number, and (unless told) its integration. */
async function account(options: { integration?: boolean } = {}) {
  const { accountId } = await newAccount(deps);
  const main = freshNumber();
  const other = freshNumber();
  await connectNumber(deps, accountId, { name: 'Main', ...main }, `connect-${main.whatsapp_phno}`);
  await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
  await connectNumber(deps, accountId, { name: 'Vendas', ...other }, `connect-${other.whatsapp_phno}`);
  const integrationId = `int_${accountId.slice(4)}`;
  if (options.integration !== false) {
    await store.create({ integrationId, accountId, type: 'http', config: { url: HOOK }, createdAt: new Date().toISOString() });
  }
  return { accountId, main, other, integrationId };
}

/** A message as the webhook publishes it, with the role the webhook's route said the number has. */
function message(accountId: string, number: FixtureNumber, isDefaultNumber: boolean, text = 'Olá, quero saber o preço') {
  const event = textEvent(accountId, { number, from: MARIA, name: 'Maria Souza', text, timestamp: 1764662400 });
  event.detail.isDefaultNumber = isDefaultNumber;
  return event;
}

async function deliver(...events: ReturnType<typeof message>[]) {
  return handler(sqsBatch(events), lambdaContext('integration'));
}

const pushesOf = (accountId: string) => sink.recorded().filter((p) => p.accountId === accountId);

async function accountItems(accountId: string) {
  const { Items } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
  return (Items ?? []).filter((item) => JSON.stringify(item).includes(accountId)).length;
}

describe('integration consumer', () => {
  it("pushes the default number's contact and conversation records, once per event", async () => {
    const { accountId, main, integrationId } = await account();
    const event = message(accountId, main, true);
    const result = await deliver(event);
    expect(result.batchItemFailures).toEqual([]);
    const pushes = pushesOf(accountId);
    expect(pushes.map((p) => p.record.kind)).toEqual(['contact.upserted', 'conversation.updated']);
    expect(pushes.every((p) => p.integrationId === integrationId && p.url === HOOK)).toBe(true);
    const wamid = event.detail.eventId as string;
    expect(pushes[0]!.record).toEqual({
      recordId: `contact.upserted:${main.phoneNumberId}:${wamid}`,
      kind: 'contact.upserted',
      eventId: wamid,
      occurredAt: '2025-12-02T08:00:00.000Z',
      contact: { waId: MARIA, name: 'Maria Souza', whatsapp_phno: main.whatsapp_phno, attributes: { whatsapp_phno: main.whatsapp_phno } },
    });
    expect(pushes[1]!.record).toEqual({
      recordId: `conversation.updated:${main.phoneNumberId}:${wamid}`,
      kind: 'conversation.updated',
      eventId: wamid,
      occurredAt: '2025-12-02T08:00:00.000Z',
      conversation: {
        id: `${main.whatsapp_phno}_${MARIA}`,
        contactWaId: MARIA,
        whatsapp_phno: main.whatsapp_phno,
        lastMessageAt: '2025-12-02T08:00:00.000Z',
        lastMessagePreview: 'Olá, quero saber o preço',
        direction: 'in',
        adReferral: null,
      },
    });
  });

  it("carries the click-to-WhatsApp ad a message came from on the conversation's record", async () => {
    const { accountId, main } = await account();
    const event = message(accountId, main, true);
    (event.detail.message as Record<string, unknown>).referral = { source_id: '120200000000001', source_type: 'ad', source_url: 'https://fb.me/ad-example', headline: 'Black Friday', ctwa_clid: 'ARAk-click' };
    await deliver(event);
    expect(pushesOf(accountId)[1]!.record).toMatchObject({
      conversation: {
        adReferral: { sourceId: '120200000000001', sourceType: 'ad', sourceUrl: 'https://fb.me/ad-example', headline: 'Black Friday', body: null, ctwaClid: 'ARAk-click', at: '2025-12-02T08:00:00.000Z', wamid: event.detail.eventId },
      },
    });
  });

  it('pushes the same records (same recordIds) for a redelivered event, and writes nothing to the table', async () => {
    const { accountId, main } = await account();
    const event = message(accountId, main, true);
    const before = await accountItems(accountId);
    await deliver(event);
    await deliver(event);
    const pushes = pushesOf(accountId);
    expect(pushes).toHaveLength(4);
    expect(pushes[2]!.record).toEqual(pushes[0]!.record);
    expect(pushes[3]!.record).toEqual(pushes[1]!.record);
    expect(new Set(pushes.map((p) => p.record.recordId)).size).toBe(2);
    expect(await accountItems(accountId)).toBe(before);
  });

  it('pushes nothing for a message on an additional number', async () => {
    const { accountId, other } = await account();
    const result = await deliver(message(accountId, other, false));
    expect(result.batchItemFailures).toEqual([]);
    expect(pushesOf(accountId)).toEqual([]);
  });

  it('pushes nothing for an account without an integration, nor after it is deleted', async () => {
    const none = await account({ integration: false });
    await deliver(message(none.accountId, none.main, true));
    expect(pushesOf(none.accountId)).toEqual([]);

    const { accountId, main, integrationId } = await account();
    expect(await store.remove(accountId, integrationId)).toBe(true);
    await deliver(message(accountId, main, true));
    expect(pushesOf(accountId)).toEqual([]);
  });

  it("follows a default replacement at once: the new default's records flow, the old one's (still in flight) stop", async () => {
    const { accountId, main } = await account();
    const next = freshNumber();
    await replaceDefaultNumber(deps, accountId, { name: 'New main', ...next }, `replace-${next.whatsapp_phno}`);
    // The old default's message was tagged default by the webhook before the replacement.
    await deliver(message(accountId, main, true, 'from the old default'));
    expect(pushesOf(accountId)).toEqual([]);
    await deliver(message(accountId, next, true, 'from the new default'));
    const pushes = pushesOf(accountId);
    expect(pushes.map((p) => p.record.kind)).toEqual(['contact.upserted', 'conversation.updated']);
    expect(pushes[1]!.record).toMatchObject({ conversation: { whatsapp_phno: next.whatsapp_phno, lastMessagePreview: 'from the new default' } });
  });

  it("decides by the account's default now, not by the webhook's (possibly cached) isDefaultNumber", async () => {
    const { accountId, main, other } = await account();
    await deliver(message(accountId, main, false, 'tagged additional by a stale route'), message(accountId, other, true, 'tagged default by a stale route'));
    const pushes = pushesOf(accountId);
    expect(pushes.map((p) => p.record.kind)).toEqual(['contact.upserted', 'conversation.updated']);
    expect(pushes.every((p) => JSON.stringify(p.record).includes(main.whatsapp_phno))).toBe(true);
  });

  it('fails the record when the push fails (retried, then dead-lettered), and the retry pushes the same records', async () => {
    const { accountId, main } = await account();
    const event = message(accountId, main, true);
    const batch = sqsBatch([event]);
    failing = new Error('endpoint down');
    try {
      const failed = await handler(batch, lambdaContext('integration'));
      expect(failed.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0]!.messageId }]);
      expect(pushesOf(accountId)).toEqual([]);
    } finally {
      failing = undefined;
    }
    const retried = await handler(batch, lambdaContext('integration'));
    expect(retried.batchItemFailures).toEqual([]);
    expect(pushesOf(accountId).map((p) => p.record.recordId)).toEqual([
      `contact.upserted:${main.phoneNumberId}:${event.detail.eventId}`,
      `conversation.updated:${main.phoneNumberId}:${event.detail.eventId}`,
    ]);
  });

  it('fails a malformed record instead of dropping it', async () => {
    const batch = sqsBatch(['{"source":"whatsapp.webhook","detail-type":"WhatsApp Message Received","detail":{"accountId":1}}']);
    const result = await handler(batch, lambdaContext('integration'));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0]!.messageId }]);
  });
});
