/**
 * Connected numbers on DynamoDB Local (docs/quotas.md, rule 5): the default
 * plus up to 15 additional numbers, each number connectable once platform-wide,
 * under real concurrent races. Every scenario ends by reading the table
 * directly and checking that claims, routes, quota and number items agree.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getAccountView, purchaseAddon } from '../../functions/core/accounts.js';
import { FeatureUnavailable, NotFound, NumberAlreadyConnected, QuotaExceeded } from '../../functions/core/errors.js';
import {
  type NumberToConnect,
  connectNumber,
  listNumbers,
  removeNumber,
  replaceDefaultNumber,
  setNumberCatalog,
  updateNumber,
} from '../../functions/core/numbers.js';
import { DynamoChannelStatusWriter } from '../../functions/adapters/dynamo/channel-status-writer.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { adaptersFor, newAccount, race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { expectNumbersConsistent } from '../support/number-invariants.js';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('numbers');
  deps = adaptersFor(table);
});

let seq = 0;
/** A fresh Embedded Signup result: unique number and Meta ids. */
function signup(overrides: Partial<NumberToConnect> = {}): NumberToConnect {
  seq += 1;
  const n = String(seq).padStart(6, '0');
  return { name: `Number ${seq}`, whatsapp_phno: `1555${n}1`, phoneNumberId: `11${n}000001`, wabaId: `21${n}000001`, ...overrides };
}

async function accountWithAddons(numberAddons: number) {
  const account = await newAccount(deps);
  if (numberAddons > 0) await purchaseAddon(deps, account.accountId, { type: 'number', quantity: numberAddons }, `addons-${account.accountId}`);
  return account.accountId;
}

const connect = (accountId: string, input: NumberToConnect, key = `connect-${input.whatsapp_phno}-${accountId}`) =>
  connectNumber(deps, accountId, input, key);

const claimOf = async (phno: string) =>
  (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: entities.numberClaim.key({ whatsappPhno: phno }), ConsistentRead: true }))).Item;

describe('connecting numbers', () => {
  it('makes the first number the default, taking no add-on', async () => {
    const accountId = await accountWithAddons(0);
    const number = await connect(accountId, signup());
    expect(number.isDefault).toBe(true);
    expect(number).toMatchObject({ status: 'CONNECTED', messagingLimitTier: null, qualityRating: null, creditCapMicros: null });
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(0);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('makes every later number additional, taking one number add-on each', async () => {
    const accountId = await accountWithAddons(2);
    await connect(accountId, signup());
    const second = await connect(accountId, signup());
    const third = await connect(accountId, signup());
    expect([second.isDefault, third.isDefault]).toEqual([false, false]);
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(2);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('refuses an additional number without an add-on, claiming nothing', async () => {
    const accountId = await accountWithAddons(0);
    await connect(accountId, signup());
    const refused = signup();
    await expect(connect(accountId, refused)).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { resource: 'additionalNumbers', limit: 0, used: 0 },
    });
    expect(await claimOf(refused.whatsapp_phno)).toBeUndefined();
    await expectNumbersConsistent(table, [accountId], { phnos: [refused.whatsapp_phno], phoneNumberIds: [refused.phoneNumberId], wabaIds: [refused.wabaId] });
  });

  it('refuses a number already connected to the same account', async () => {
    const accountId = await accountWithAddons(1);
    const number = signup();
    await connect(accountId, number);
    await expect(connect(accountId, { ...number, name: 'again' }, 'again')).rejects.toBeInstanceOf(NumberAlreadyConnected);
    await expectNumbersConsistent(table, [accountId], { phnos: [number.whatsapp_phno] });
  });

  it('refuses a number connected to another account', async () => {
    const first = await accountWithAddons(0);
    const second = await accountWithAddons(1);
    const number = signup();
    await connect(first, number);
    await expect(connect(second, number)).rejects.toMatchObject({ code: 'NUMBER_ALREADY_CONNECTED', details: { whatsapp_phno: number.whatsapp_phno } });
    expect((await claimOf(number.whatsapp_phno))?.accountId).toBe(first);
    await expectNumbersConsistent(table, [first, second], { phnos: [number.whatsapp_phno] });
  });

  it('refuses a phone_number_id already routed, under another phone number', async () => {
    const first = await accountWithAddons(0);
    const second = await accountWithAddons(0);
    const number = signup();
    await connect(first, number);
    const sameId = signup({ phoneNumberId: number.phoneNumberId });
    await expect(connect(second, sameId)).rejects.toMatchObject({
      code: 'NUMBER_ALREADY_CONNECTED',
      details: { phoneNumberId: number.phoneNumberId },
    });
    expect(await claimOf(sameId.whatsapp_phno)).toBeUndefined();
    await expectNumbersConsistent(table, [first, second], { phnos: [sameId.whatsapp_phno], phoneNumberIds: [number.phoneNumberId] });
  });

  it('connects exactly 15 of 16 concurrent additional numbers with 15 add-ons', async () => {
    const accountId = await accountWithAddons(15);
    await connect(accountId, signup());
    const candidates = Array.from({ length: 16 }, () => signup());
    const { ok, errors } = await race(candidates.map((n) => () => connect(accountId, n)));
    expect(ok).toHaveLength(15);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(QuotaExceeded);
    expect((errors[0] as QuotaExceeded).details).toMatchObject({ resource: 'additionalNumbers', limit: 15, used: 15 });
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(15);
    await expectNumbersConsistent(table, [accountId], { phnos: candidates.map((n) => n.whatsapp_phno) });
  });

  it('never connects a 16th additional number, whatever add-ons were bought', async () => {
    const accountId = await accountWithAddons(20);
    await connect(accountId, signup());
    const candidates = Array.from({ length: 18 }, () => signup());
    const { ok, errors } = await race(candidates.map((n) => () => connect(accountId, n)));
    expect(ok).toHaveLength(15);
    expect(errors.every((e) => e instanceof QuotaExceeded)).toBe(true);
    expect((errors[0] as QuotaExceeded).details).toMatchObject({ limit: 15, used: 15 });
    await expectNumbersConsistent(table, [accountId], { phnos: candidates.map((n) => n.whatsapp_phno) });
  });

  it('gives one number to exactly one of four concurrent claims by two accounts', async () => {
    const a = await accountWithAddons(2);
    const b = await accountWithAddons(2);
    await connect(a, signup());
    await connect(b, signup());
    const contested = signup();
    const { ok, errors } = await race([a, b, a, b].map((accountId, i) => () => connect(accountId, contested, `claim-${i}`)));
    expect(ok).toHaveLength(1);
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e instanceof NumberAlreadyConnected)).toBe(true);
    const usage = [(await getAccountView(deps, a)).usage.additionalNumbers, (await getAccountView(deps, b)).usage.additionalNumbers];
    expect(usage.sort()).toEqual([0, 1]);
    await expectNumbersConsistent(table, [a, b], { phnos: [contested.whatsapp_phno], phoneNumberIds: [contested.phoneNumberId] });
  });

  it('makes exactly one of two concurrent first connects the default', async () => {
    const accountId = await accountWithAddons(1);
    const { ok, errors } = await race([signup(), signup()].map((n) => () => connect(accountId, n)));
    expect(errors).toEqual([]);
    expect(ok.map((n) => n.isDefault).sort()).toEqual([false, true]);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('refuses the loser of two concurrent first connects when no add-on is left for it', async () => {
    const accountId = await accountWithAddons(0);
    const { ok, errors } = await race([signup(), signup(), signup()].map((n) => () => connect(accountId, n)));
    expect(ok.map((n) => n.isDefault)).toEqual([true]);
    expect(errors.every((e) => e instanceof QuotaExceeded)).toBe(true);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('answers a retried request (same idempotency key) with the number it connected, taking one slot', async () => {
    const accountId = await accountWithAddons(3);
    await connect(accountId, signup());
    const number = signup();
    const first = await connect(accountId, number, 'retry-key');
    const again = await connect(accountId, number, 'retry-key');
    expect(again).toEqual(first);
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(1);
    await expectNumbersConsistent(table, [accountId]);
  });
});

describe('listing numbers', () => {
  it('lists the default first with the features each number offers', async () => {
    const accountId = await accountWithAddons(1);
    const main = signup({ name: 'Main' });
    const sales = signup({ name: 'Vendas' });
    await connect(accountId, main);
    await connect(accountId, sales);
    const listed = await listNumbers(deps, accountId);
    expect(listed.map((n) => [n.whatsapp_phno, n.name, n.isDefault])).toEqual([
      [main.whatsapp_phno, 'Main', true],
      [sales.whatsapp_phno, 'Vendas', false],
    ]);
    expect(listed[0]!.features).toMatchObject({ catalog: true, ctwa: true, broadcast: true });
    expect(listed[1]!.features).toMatchObject({ catalog: false, ctwa: false, integrations: false, apiWebhooks: false, broadcast: true, teamInbox: true, automations: true });
  });
});

describe('replacing the default number', () => {
  it('disconnects the old default platform-wide and keeps the additional numbers', async () => {
    const accountId = await accountWithAddons(1);
    const old = signup();
    const extra = signup();
    await connect(accountId, old);
    await connect(accountId, extra);
    const next = signup();
    const { number, created } = await replaceDefaultNumber(deps, accountId, next, 'replace');
    expect(created).toBe(false);
    expect(number).toMatchObject({ whatsapp_phno: next.whatsapp_phno, isDefault: true });
    expect(await claimOf(old.whatsapp_phno)).toBeUndefined();
    const listed = await listNumbers(deps, accountId);
    expect(listed.map((n) => [n.whatsapp_phno, n.isDefault])).toEqual([
      [next.whatsapp_phno, true],
      [extra.whatsapp_phno, false],
    ]);
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(1);
    await expectNumbersConsistent(table, [accountId], { phnos: [old.whatsapp_phno], phoneNumberIds: [old.phoneNumberId], wabaIds: [old.wabaId] });
  });

  it('frees the old default so another account can connect it', async () => {
    const a = await accountWithAddons(0);
    const b = await accountWithAddons(0);
    const old = signup();
    await connect(a, old);
    await replaceDefaultNumber(deps, a, signup(), 'replace');
    const taken = await connect(b, old);
    expect(taken.isDefault).toBe(true);
    await expectNumbersConsistent(table, [a, b], { phnos: [old.whatsapp_phno] });
  });

  it('refuses a replacement connected to another account, changing nothing', async () => {
    const a = await accountWithAddons(0);
    const b = await accountWithAddons(0);
    const current = signup();
    const elsewhere = signup();
    await connect(a, current);
    await connect(b, elsewhere);
    await expect(replaceDefaultNumber(deps, a, elsewhere, 'replace')).rejects.toBeInstanceOf(NumberAlreadyConnected);
    expect((await listNumbers(deps, a)).map((n) => n.whatsapp_phno)).toEqual([current.whatsapp_phno]);
    await expectNumbersConsistent(table, [a, b], { phnos: [current.whatsapp_phno, elsewhere.whatsapp_phno] });
  });

  it('refuses one of the account\'s own additional numbers or the default itself', async () => {
    const accountId = await accountWithAddons(1);
    const current = signup();
    const extra = signup();
    await connect(accountId, current);
    await connect(accountId, extra);
    await expect(replaceDefaultNumber(deps, accountId, extra, 'r1')).rejects.toBeInstanceOf(NumberAlreadyConnected);
    await expect(replaceDefaultNumber(deps, accountId, current, 'r2')).rejects.toBeInstanceOf(NumberAlreadyConnected);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('connects the first number when the account has no default yet', async () => {
    const accountId = await accountWithAddons(0);
    const { number, created } = await replaceDefaultNumber(deps, accountId, signup(), 'replace');
    expect(created).toBe(true);
    expect(number.isDefault).toBe(true);
    await expectNumbersConsistent(table, [accountId]);
  });

  it('lets exactly one of a replacement and another account\'s connect of the same number win', async () => {
    for (let round = 0; round < 4; round++) {
      const a = await accountWithAddons(0);
      const b = await accountWithAddons(1);
      const oldDefault = signup();
      await connect(a, oldDefault);
      await connect(b, signup());
      const contested = signup();
      const { ok, errors } = await race<unknown>([
        () => replaceDefaultNumber(deps, a, contested, `replace-${round}`),
        () => connect(b, contested, `connect-${round}`),
      ]);
      expect(ok).toHaveLength(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(NumberAlreadyConnected);
      const claim = await claimOf(contested.whatsapp_phno);
      const aNumbers = (await listNumbers(deps, a)).map((n) => n.whatsapp_phno);
      // Whoever lost kept exactly what it had: the old default stays if the replacement lost.
      expect(aNumbers).toEqual(claim!.accountId === a ? [contested.whatsapp_phno] : [oldDefault.whatsapp_phno]);
      await expectNumbersConsistent(table, [a, b], {
        phnos: [contested.whatsapp_phno, oldDefault.whatsapp_phno],
        phoneNumberIds: [contested.phoneNumberId, oldDefault.phoneNumberId],
        wabaIds: [contested.wabaId, oldDefault.wabaId],
      });
    }
  });
});

describe('removing numbers (operators)', () => {
  it('frees an additional number, its routes and its add-on slot', async () => {
    const accountId = await accountWithAddons(1);
    await connect(accountId, signup());
    const extra = signup();
    await connect(accountId, extra);
    await removeNumber(deps, accountId, extra.whatsapp_phno, {}, 'remove');
    expect(await claimOf(extra.whatsapp_phno)).toBeUndefined();
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(0);
    await expectNumbersConsistent(table, [accountId], { phnos: [extra.whatsapp_phno], phoneNumberIds: [extra.phoneNumberId], wabaIds: [extra.wabaId] });
    // The slot is free again.
    await expect(connect(accountId, signup())).resolves.toMatchObject({ isDefault: false });
  });

  it('removes the only number, after which the next connect is the default again', async () => {
    const accountId = await accountWithAddons(0);
    const only = signup();
    await connect(accountId, only);
    await removeNumber(deps, accountId, only.whatsapp_phno, {}, 'remove');
    await expectNumbersConsistent(table, [accountId], { phnos: [only.whatsapp_phno], phoneNumberIds: [only.phoneNumberId] });
    expect((await connect(accountId, signup())).isDefault).toBe(true);
  });

  it('asks for the new default when the default goes while additional numbers remain', async () => {
    const accountId = await accountWithAddons(2);
    const main = signup();
    const extras = [signup(), signup()];
    await connect(accountId, main);
    for (const n of extras) await connect(accountId, n);
    await expect(removeNumber(deps, accountId, main.whatsapp_phno, {}, 'remove')).rejects.toMatchObject({
      code: 'DEFAULT_REQUIRED',
      statusCode: 409,
      details: { candidates: extras.map((n) => n.whatsapp_phno).sort() },
    });
    await expect(removeNumber(deps, accountId, main.whatsapp_phno, { newDefault: signup().whatsapp_phno }, 'remove')).rejects.toMatchObject({
      code: 'DEFAULT_REQUIRED',
    });
    expect(await claimOf(main.whatsapp_phno)).toBeDefined();
    await expectNumbersConsistent(table, [accountId]);
  });

  it('promotes the named number to default, freeing its slot', async () => {
    const accountId = await accountWithAddons(2);
    const main = signup();
    const [first, second] = [signup(), signup()];
    await connect(accountId, main);
    await connect(accountId, first!);
    await connect(accountId, second!);
    await removeNumber(deps, accountId, main.whatsapp_phno, { newDefault: second!.whatsapp_phno }, 'remove');
    const listed = await listNumbers(deps, accountId);
    expect(listed.map((n) => [n.whatsapp_phno, n.isDefault])).toEqual([
      [second!.whatsapp_phno, true],
      [first!.whatsapp_phno, false],
    ]);
    expect(listed[0]!.features.catalog).toBe(true);
    expect((await getAccountView(deps, accountId)).usage.additionalNumbers).toBe(1);
    await expectNumbersConsistent(table, [accountId], { phnos: [main.whatsapp_phno], phoneNumberIds: [main.phoneNumberId], wabaIds: [main.wabaId] });
  });

  it('answers an unknown number with NotFound', async () => {
    const accountId = await accountWithAddons(0);
    await expect(removeNumber(deps, accountId, '15559999999', {}, 'remove')).rejects.toBeInstanceOf(NotFound);
  });

  it('keeps one default when a removal of the default races connects', async () => {
    const accountId = await accountWithAddons(3);
    const main = signup();
    await connect(accountId, main);
    const { errors } = await race<unknown>([
      () => removeNumber(deps, accountId, main.whatsapp_phno, {}, 'remove'),
      () => connect(accountId, signup()),
      () => connect(accountId, signup()),
    ]);
    expect(errors.every((e) => (e as { code?: string }).code === 'DEFAULT_REQUIRED')).toBe(true);
    await expectNumbersConsistent(table, [accountId], { phnos: [main.whatsapp_phno] });
  });
});

describe('editing numbers', () => {
  it('renames a number and its route rows with it', async () => {
    const accountId = await accountWithAddons(0);
    const number = signup({ name: 'Old name' });
    await connect(accountId, number);
    const renamed = await updateNumber(deps, accountId, number.whatsapp_phno, { name: 'Atendimento' });
    expect(renamed.name).toBe('Atendimento');
    const [numbers] = [...(await expectNumbersConsistent(table, [accountId])).values()];
    expect(numbers!.map((n) => n.name)).toEqual(['Atendimento']);
    const route = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: entities.phoneNumberIdRoute.key({ phoneNumberId: number.phoneNumberId }) }));
    expect(route.Item?.name).toBe('Atendimento');
  });

  it('sets and clears a credit cap', async () => {
    const accountId = await accountWithAddons(0);
    const number = signup();
    await connect(accountId, number);
    expect((await updateNumber(deps, accountId, number.whatsapp_phno, { creditCapMicros: 20_000_000 })).creditCapMicros).toBe(20_000_000);
    expect((await updateNumber(deps, accountId, number.whatsapp_phno, { creditCapMicros: null })).creditCapMicros).toBeNull();
    expect((await listNumbers(deps, accountId))[0]!.creditCapMicros).toBeNull();
  });

  it('binds a catalog to the default number only', async () => {
    const accountId = await accountWithAddons(1);
    const main = signup();
    const extra = signup();
    await connect(accountId, main);
    await connect(accountId, extra);
    await expect(setNumberCatalog(deps, accountId, main.whatsapp_phno, '123456789')).resolves.toEqual({ whatsapp_phno: main.whatsapp_phno, catalogId: '123456789' });
    await expect(setNumberCatalog(deps, accountId, extra.whatsapp_phno, '123456789')).rejects.toBeInstanceOf(FeatureUnavailable);
    expect((await deps.numbers.get(accountId, main.whatsapp_phno))?.catalogId).toBe('123456789');
    expect((await deps.numbers.get(accountId, extra.whatsapp_phno))?.catalogId).toBeUndefined();
  });

  it('records channel status reported by Meta and ignores numbers not connected', async () => {
    const accountId = await accountWithAddons(0);
    const number = signup();
    await connect(accountId, number);
    // The ordered path the webhook takes: each attribute only moves to a newer report.
    const channel = new DynamoChannelStatusWriter(table.doc, table.tableName);
    const at = new Date().toISOString();
    const lastChannelEvent = 'phone_number_quality_update:UPGRADE';
    expect(await channel.apply({ accountId, whatsapp_phno: number.whatsapp_phno, at, qualityRating: 'GREEN', messagingLimitTier: 'TIER_2K', lastChannelEvent })).toBe('applied');
    const updated = await deps.numbers.get(accountId, number.whatsapp_phno);
    expect(updated).toMatchObject({ status: 'CONNECTED', qualityRating: 'GREEN', messagingLimitTier: 'TIER_2K' });
    expect((await listNumbers(deps, accountId))[0]).toMatchObject({ qualityRating: 'GREEN', messagingLimitTier: 'TIER_2K' });
    expect(await channel.apply({ accountId, whatsapp_phno: '15559999999', at, status: 'FLAGGED', lastChannelEvent })).toBe('not-found');
    expect(await deps.numbers.get(accountId, '15559999999')).toBeUndefined();
    await expectNumbersConsistent(table, [accountId], { phnos: ['15559999999'] });
  });
});

describe('the invariant check itself', () => {
  it('notices a number whose route row went missing', async () => {
    const accountId = await accountWithAddons(0);
    const number = signup();
    await connect(accountId, number);
    await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: entities.phoneNumberIdRoute.key({ phoneNumberId: number.phoneNumberId }) }));
    await expect(expectNumbersConsistent(table, [accountId])).rejects.toThrow(/route PNID#/);
  });

  it('notices an orphan claim left for a number no account holds', async () => {
    const accountId = await accountWithAddons(0);
    const orphan = signup();
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...entities.numberClaim.key({ whatsappPhno: orphan.whatsapp_phno }), accountId } }));
    await expect(expectNumbersConsistent(table, [accountId], { phnos: [orphan.whatsapp_phno] })).rejects.toThrow(/orphan/);
  });
});
