/**
 * Account merges on DynamoDB Local: numbers, add-ons, credits and history move
 * into the target; the 15-number cap and the add-ons refuse a merge before
 * anything changes; a merge interrupted anywhere finishes when run again,
 * duplicating nothing; concurrent runs of one merge apply it once.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { getAccountView, purchaseAddon } from '../../functions/core/accounts.js';
import { NotFound, QuotaExceeded } from '../../functions/core/errors.js';
import { mergeAccounts } from '../../functions/core/merge.js';
import { type NumberToConnect, connectNumber, listNumbers } from '../../functions/core/numbers.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { adaptersFor, newAccount, race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { expectNumbersConsistent } from '../support/number-invariants.js';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('merge');
  deps = adaptersFor(table);
});

let seq = 0;
function signup(): NumberToConnect {
  const n = String(++seq).padStart(6, '0');
  return { name: `Number ${seq}`, whatsapp_phno: `1556${n}3`, phoneNumberId: `12${n}000003`, wabaId: `22${n}000003` };
}

async function account(opts: { numberAddons?: number; numbers?: number; credits?: number; userAddons?: number } = {}) {
  const { accountId } = await newAccount(deps, {}, opts.credits ?? 0);
  if (opts.numberAddons) await purchaseAddon(deps, accountId, { type: 'number', quantity: opts.numberAddons }, `n-${accountId}`);
  if (opts.userAddons) await purchaseAddon(deps, accountId, { type: 'users', quantity: opts.userAddons }, `u-${accountId}`);
  const numbers: NumberToConnect[] = [];
  for (let i = 0; i < (opts.numbers ?? 0); i++) {
    const number = signup();
    await connectNumber(deps, accountId, number, `c-${number.whatsapp_phno}`);
    numbers.push(number);
  }
  return { accountId, numbers };
}

async function item(key: { pk: string; sk: string }) {
  return (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }))).Item;
}

async function partition(pk: string, prefix = '') {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
      ExpressionAttributeValues: prefix ? { ':pk': pk, ':p': prefix } : { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

const CONTACT_KEY = '5511987650001';
const BSUID = 'BR.1502576394655843';

/** Where the seeded history lives, for the source or the target: every key through its entity. */
function historyKeys(accountId: string, phno: string) {
  const conversation = { accountId, whatsappPhno: phno, contactKey: CONTACT_KEY };
  return {
    contact: entities.contact.key(conversation),
    contactUserId: entities.contactUserId.key({ accountId, whatsappPhno: phno, userId: BSUID }),
    conversation: entities.conversation.key(conversation),
    messages: entities.message.partition(conversation),
    inbound: entities.message.key({ ...conversation, timestamp: '0001', wamid: 'wamid.in' }),
    outbound: entities.message.key({ ...conversation, timestamp: '0002', wamid: 'wamid.out' }),
    template: entities.template.key({ accountId, name: 'welcome', language: 'en' }),
    automation: entities.automation.key({ accountId, kind: 'keywords', automationId: 'auto_1' }),
    spend: entities.numberSpend.key({ accountId, period: '2025-01-01', whatsappPhno: phno }),
    user: entities.user.key({ accountId, userId: 'usr_keep' }),
  };
}

/** Rows later capabilities keep under the account: a contact, a conversation with two messages, a template, an automation. */
async function seedHistory(accountId: string, phno: string, phoneNumberId = '110000000000009') {
  const put = (Item: Record<string, unknown>) => table.doc.send(new PutCommand({ TableName: table.tableName, Item }));
  const at = historyKeys(accountId, phno);
  const conversation = { accountId, whatsappPhno: phno, contactKey: CONTACT_KEY, lastMessageAt: '2025-01-02T00:00:00Z' };
  await put({ ...at.contact, accountId, name: 'Maria Souza', attributes: { whatsapp_phno: phno } });
  await put({ ...at.contactUserId, accountId, contactKey: CONTACT_KEY });
  await put({ ...at.conversation, accountId, unreadCount: 2, ...entities.conversation.indexes.gsi1.keys(conversation), ...entities.conversation.indexes.gsi2.keys(conversation) });
  await put({ ...at.inbound, accountId, text: 'hi', direction: 'in' });
  await put({ ...at.outbound, accountId, text: 'hello', direction: 'out', wamid: `wamid.out.${accountId}`, phoneNumberId });
  await put({ ...entities.wamidPointer.key({ phoneNumberId, wamid: `wamid.out.${accountId}` }), messagePk: at.outbound.pk, messageSk: at.outbound.sk, accountId });
  await put({ ...at.template, name: 'welcome', language: 'en' });
  await put({ ...at.automation, scope: { whatsapp_phno: phno } });
  await put({ ...at.spend, spentMicros: 1_000 });
  await put({ ...at.user, email: 'stays@example.com' });
}

async function mergeLedger(accountId: string) {
  return (await partition(entities.ledgerEntry.partition({ accountId }), entities.ledgerEntry.skPrefix({ idempotencyKey: 'merge:' }))).map((e) => `${e.resource}:${e.amount}:${e.reason}`).sort();
}

describe('merging accounts', () => {
  it('moves every number of the source in as an additional number of the target', async () => {
    const target = await account({ numberAddons: 1, numbers: 1 });
    const source = await account({ numberAddons: 1, numbers: 2 });
    const summary = await mergeAccounts(deps, target.accountId, source.accountId);
    expect(summary.status).toBe('completed');
    const listed = await listNumbers(deps, target.accountId);
    expect(listed.map((n) => [n.whatsapp_phno, n.isDefault])).toEqual([
      [target.numbers[0]!.whatsapp_phno, true],
      [source.numbers[0]!.whatsapp_phno, false],
      [source.numbers[1]!.whatsapp_phno, false],
    ]);
    const view = await getAccountView(deps, target.accountId);
    expect(view.addons.number).toBe(2);
    expect(view.usage.additionalNumbers).toBe(2);
    const claim = await item(entities.numberClaim.key({ whatsappPhno: source.numbers[0]!.whatsapp_phno }));
    expect(claim?.accountId).toBe(target.accountId);
    await expectNumbersConsistent(table, [target.accountId, source.accountId], {
      phnos: source.numbers.map((n) => n.whatsapp_phno),
      phoneNumberIds: source.numbers.map((n) => n.phoneNumberId),
      wabaIds: source.numbers.map((n) => n.wabaId),
    });
  });

  it('adds the source\'s add-ons to the target and closes the source', async () => {
    const target = await account({ numbers: 1, userAddons: 1 });
    const source = await account({ userAddons: 2 });
    const summary = await mergeAccounts(deps, target.accountId, source.accountId);
    expect(summary.addonsMoved.users).toBe(2);
    expect(summary.account.addons.users).toBe(3);
    expect(summary.account.limits.users).toBe(5 + 3);
    expect((await deps.accounts.get(source.accountId))?.status).toBe('closed');
    await expect(connectNumber(deps, source.accountId, signup(), 'late')).rejects.toBeInstanceOf(NotFound);
  });

  it('moves the credit balance with one ledger entry on each side', async () => {
    const target = await account({ numbers: 1, credits: 10_000_000 });
    const source = await account({ credits: 35_000_000 });
    const summary = await mergeAccounts(deps, target.accountId, source.accountId);
    expect(summary.creditsMovedMicros).toBe(35_000_000);
    expect(await deps.accounts.balance(target.accountId)).toBe(45_000_000);
    expect(await deps.accounts.balance(source.accountId)).toBe(0);
    expect(await mergeLedger(target.accountId)).toEqual(['credits:35000000:merge:credits-in']);
    expect(await mergeLedger(source.accountId)).toEqual(['credits:-35000000:merge:credits-out']);
  });

  it('copies contacts, conversations with their messages, templates and automations, re-keyed', async () => {
    const target = await account({ numberAddons: 1, numbers: 1 });
    const source = await account({ numbers: 1 });
    const phno = source.numbers[0]!.whatsapp_phno;
    await seedHistory(source.accountId, phno);
    await mergeAccounts(deps, target.accountId, source.accountId);
    const copied = historyKeys(target.accountId, phno);
    const contact = await item(copied.contact);
    expect(contact).toMatchObject({ accountId: target.accountId, name: 'Maria Souza' });
    expect(await item(copied.contactUserId)).toMatchObject({ accountId: target.accountId });
    const { gsi1, gsi2 } = entities.conversation.indexes;
    expect(await item(copied.conversation)).toMatchObject({
      [gsi1.attributes.pk]: gsi1.partition({ accountId: target.accountId }),
      [gsi2.attributes.pk]: gsi2.partition({ accountId: target.accountId, whatsappPhno: phno }),
      unreadCount: 2,
    });
    expect((await partition(copied.messages)).map((m) => [m.sk, m.accountId])).toEqual([
      [copied.inbound.sk, target.accountId],
      [copied.outbound.sk, target.accountId],
    ]);
    // A status arriving after the merge finds the target's copy of its message.
    expect(await item(entities.wamidPointer.key({ phoneNumberId: '110000000000009', wamid: `wamid.out.${source.accountId}` }))).toMatchObject({
      messagePk: copied.messages,
      accountId: target.accountId,
    });
    expect(await item(copied.template)).toBeDefined();
    expect(await item(copied.automation)).toMatchObject({ scope: { whatsapp_phno: phno } });
    expect(await item(copied.spend)).toMatchObject({ spentMicros: 1_000 });
    // Users stay with the source: their logins are bound to it.
    expect(await item(copied.user)).toBeUndefined();
  });

  it('gives a target without numbers the source\'s default as its default', async () => {
    const target = await account({});
    const source = await account({ numberAddons: 1, numbers: 2 });
    await mergeAccounts(deps, target.accountId, source.accountId);
    const listed = await listNumbers(deps, target.accountId);
    expect(listed.map((n) => [n.whatsapp_phno, n.isDefault])).toEqual([
      [source.numbers[0]!.whatsapp_phno, true],
      [source.numbers[1]!.whatsapp_phno, false],
    ]);
    await expectNumbersConsistent(table, [target.accountId, source.accountId]);
  });

  it('refuses a merge that would pass 15 additional numbers, changing nothing', async () => {
    const target = await account({ numberAddons: 15, numbers: 15 });
    const source = await account({ numberAddons: 1, numbers: 2 });
    const error = await mergeAccounts(deps, target.accountId, source.accountId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuotaExceeded);
    expect((error as QuotaExceeded).details).toMatchObject({ resource: 'additionalNumbers', limit: 15, used: 14 });
    expect((await deps.accounts.get(source.accountId))?.status).toBe('active');
    expect(await deps.merges.progress(source.accountId)).toBeUndefined();
    expect((await getAccountView(deps, target.accountId)).addons.number).toBe(15);
    await expectNumbersConsistent(table, [target.accountId, source.accountId], { phnos: source.numbers.map((n) => n.whatsapp_phno) });
  });

  it('refuses a merge the add-ons do not cover, and runs once one is bought', async () => {
    const target = await account({ numbers: 1 });
    const source = await account({ numbers: 1 });
    await expect(mergeAccounts(deps, target.accountId, source.accountId)).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { resource: 'additionalNumbers', limit: 0, used: 0 },
    });
    expect((await deps.accounts.get(source.accountId))?.status).toBe('active');
    await purchaseAddon(deps, target.accountId, { type: 'number', quantity: 1 }, `more-${target.accountId}`);
    await expect(mergeAccounts(deps, target.accountId, source.accountId)).resolves.toMatchObject({ status: 'completed' });
    await expectNumbersConsistent(table, [target.accountId, source.accountId]);
  });

  it('changes nothing when a completed merge is run again', async () => {
    const target = await account({ numberAddons: 1, numbers: 1, credits: 1_000_000 });
    const source = await account({ numbers: 1, credits: 2_000_000 });
    const first = await mergeAccounts(deps, target.accountId, source.accountId);
    const again = await mergeAccounts(deps, target.accountId, source.accountId);
    expect(again).toMatchObject({ status: 'completed', creditsMovedMicros: 2_000_000, numbers: first.numbers });
    expect(await deps.accounts.balance(target.accountId)).toBe(3_000_000);
    expect((await getAccountView(deps, target.accountId)).usage.additionalNumbers).toBe(1);
    await expectNumbersConsistent(table, [target.accountId, source.accountId]);
  });

  it('applies concurrent runs of one merge once', async () => {
    const target = await account({ numberAddons: 2, numbers: 1, credits: 1_000_000 });
    const source = await account({ numberAddons: 1, numbers: 2, credits: 4_000_000 });
    await seedHistory(source.accountId, source.numbers[0]!.whatsapp_phno);
    const { ok, errors } = await race(Array.from({ length: 3 }, () => () => mergeAccounts(deps, target.accountId, source.accountId)));
    expect(errors).toEqual([]);
    expect(ok).toHaveLength(3);
    expect(await deps.accounts.balance(target.accountId)).toBe(5_000_000);
    const view = await getAccountView(deps, target.accountId);
    expect(view.addons.number).toBe(3);
    expect(view.usage.additionalNumbers).toBe(2);
    expect(await mergeLedger(target.accountId)).toEqual(['additionalNumbers:-2:merge:numbers', 'additionalNumbers:1:merge:addons', 'credits:4000000:merge:credits-in']);
    await expectNumbersConsistent(table, [target.accountId, source.accountId]);
  });

  it('refuses to merge a source already merged into another account', async () => {
    const first = await account({ numbers: 1 });
    const second = await account({ numbers: 1 });
    const source = await account({});
    await mergeAccounts(deps, first.accountId, source.accountId);
    await expect(mergeAccounts(deps, second.accountId, source.accountId)).rejects.toMatchObject({ code: 'ACCOUNT_MERGED', statusCode: 409 });
  });
});

/** A client over the same table that fails the chosen call of one command kind, as a crash there would. */
function failingOn(kind: typeof TransactWriteCommand | typeof PutCommand, nth: number): DynamoDBDocumentClient {
  let seen = 0;
  return {
    send: (command: unknown) => {
      if (command instanceof kind && ++seen === nth) return Promise.reject(new Error('injected: the Lambda died here'));
      return table.doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('a merge interrupted halfway', () => {
  // Transactions in order: 1 begin, 2 and 3 one per number, 4 the credits.
  // The last two columns: the target's numbers and the source's status right after the crash.
  it.each([
    ['its first step', TransactWriteCommand, 1, 1, 'active'],
    ['after moving one number', TransactWriteCommand, 3, 2, 'closed'],
    ['while moving the credits', TransactWriteCommand, 4, 3, 'closed'],
    ['while copying history', PutCommand, 3, 3, 'closed'],
  ] as const)('finishes when run again, interrupted %s', async (_, kind, nth, numbersAfterCrash, sourceStatus) => {
    const target = await account({ numberAddons: 1, numbers: 1, credits: 1_000_000 });
    const source = await account({ numberAddons: 1, numbers: 2, credits: 6_000_000 });
    await seedHistory(source.accountId, source.numbers[1]!.whatsapp_phno);
    const crashing = adaptersFor({ ...table, doc: failingOn(kind, nth) });
    await expect(mergeAccounts(crashing, target.accountId, source.accountId)).rejects.toThrow(/injected/);
    expect(await partition(entities.number.partition({ accountId: target.accountId }), entities.number.skPrefix())).toHaveLength(numbersAfterCrash);
    expect((await deps.accounts.get(source.accountId))?.status).toBe(sourceStatus);
    expect(await deps.accounts.balance(target.accountId)).toBe(1_000_000);

    const summary = await mergeAccounts(deps, target.accountId, source.accountId);
    expect(summary.status).toBe('completed');
    expect(summary.numbers.map((n) => n.whatsapp_phno)).toEqual(source.numbers.map((n) => n.whatsapp_phno));
    expect(await deps.accounts.balance(target.accountId)).toBe(7_000_000);
    expect(await deps.accounts.balance(source.accountId)).toBe(0);
    const view = await getAccountView(deps, target.accountId);
    expect(view.addons.number).toBe(2);
    expect(view.usage.additionalNumbers).toBe(2);
    expect(await mergeLedger(target.accountId)).toEqual(['additionalNumbers:-2:merge:numbers', 'additionalNumbers:1:merge:addons', 'credits:6000000:merge:credits-in']);
    expect(await mergeLedger(source.accountId)).toEqual(['additionalNumbers:1:merge:number-out', 'credits:-6000000:merge:credits-out']);
    expect(await partition(entities.contact.partition({ accountId: target.accountId }), entities.contact.skPrefix())).toHaveLength(1);
    expect(await partition(entities.conversation.partition({ accountId: target.accountId }), entities.conversation.skPrefix())).toHaveLength(1);
    await expectNumbersConsistent(table, [target.accountId, source.accountId], {
      phnos: source.numbers.map((n) => n.whatsapp_phno),
      phoneNumberIds: source.numbers.map((n) => n.phoneNumberId),
      wabaIds: source.numbers.map((n) => n.wabaId),
    });
  });
});
