/**
 * The number invariants, read straight from the table (Query per account
 * partition, GetItem per claim and route), never through the repository under
 * test: claims, routes, the default marker, the `additionalNumbers` gauge and
 * the number items must agree after every operation.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import type { TestTable } from './dynamo.js';

/** Exactly the attributes the webhook reads on a route row (plus its keys). */
const ROUTE_ATTRIBUTES = ['accountId', 'isDefault', 'name', 'phoneNumberId', 'pk', 'sk', 'wabaId', 'whatsapp_phno'];

export interface InvolvedNumbers {
  /** Numbers whose claims must not be orphans (e.g. ones removed or refused). */
  phnos?: string[];
  phoneNumberIds?: string[];
  wabaIds?: string[];
}

async function get(table: TestTable, key: { pk: string; sk: string }) {
  const { Item } = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }));
  return Item;
}

async function query(table: TestTable, pk: string, prefix?: string) {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
        ExpressionAttributeValues: prefix ? { ':pk': pk, ':p': prefix } : { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Asserts every invariant of connected numbers for these accounts; returns their numbers for further checks. */
export async function expectNumbersConsistent(table: TestTable, accountIds: string[], involved: InvolvedNumbers = {}) {
  const numbersByAccount = new Map<string, Record<string, unknown>[]>();
  for (const accountId of accountIds) {
    const numbers = await query(table, entities.number.partition({ accountId }), entities.number.skPrefix());
    numbersByAccount.set(accountId, numbers);
    const where = `account ${accountId}`;

    for (const number of numbers) {
      const phno = number.whatsapp_phno as string;
      expect(number.accountId, `${where}: number ${phno} names its account`).toBe(accountId);
      expect(number.sk, `${where}: number ${phno} keyed by its phno`).toBe(entities.number.key({ accountId, whatsappPhno: phno }).sk);
      const claim = await get(table, entities.numberClaim.key({ whatsappPhno: phno }));
      expect(claim, `${where}: number ${phno} has a claim`).toBeDefined();
      expect(claim, `${where}: claim of ${phno}`).toMatchObject({ accountId, phoneNumberId: number.phoneNumberId, wabaId: number.wabaId });
      const expected = {
        accountId,
        whatsapp_phno: phno,
        phoneNumberId: number.phoneNumberId,
        wabaId: number.wabaId,
        isDefault: number.isDefault,
        name: number.name,
      };
      for (const key of [entities.phoneNumberIdRoute.key({ phoneNumberId: number.phoneNumberId as string }), entities.wabaRoute.key({ wabaId: number.wabaId as string, whatsappPhno: phno })]) {
        const route = await get(table, key);
        expect(route, `${where}: route ${key.pk}/${key.sk} exists`).toBeDefined();
        expect(Object.keys(route!).sort(), `${where}: route ${key.pk} has exactly the webhook's attributes`).toEqual(ROUTE_ATTRIBUTES);
        expect(route, `${where}: route ${key.pk}/${key.sk} matches the number`).toMatchObject(expected);
        expect(typeof route!.isDefault).toBe('boolean');
      }
    }

    const defaults = numbers.filter((n) => n.isDefault === true);
    const marker = await get(table, entities.defaultNumber.key({ accountId }));
    if (numbers.length > 0) {
      expect(defaults.map((n) => n.whatsapp_phno), `${where}: exactly one default`).toHaveLength(1);
      expect(marker?.whatsapp_phno, `${where}: the default marker names the default`).toBe(defaults[0]!.whatsapp_phno);
    } else {
      expect(marker, `${where}: no numbers, no default marker`).toBeUndefined();
    }

    const gauge = await get(table, entities.gaugeQuota.key({ accountId, resource: 'additionalNumbers' }));
    expect(gauge, `${where}: has an additionalNumbers gauge`).toBeDefined();
    expect(gauge!.used, `${where}: gauge used = non-default numbers`).toBe(numbers.length - defaults.length);
    expect(gauge!.remaining, `${where}: gauge remaining = limit - used`).toBe((gauge!.limit as number) - (gauge!.used as number));
    expect(gauge!.used as number, `${where}: never more than 15 additional numbers`).toBeLessThanOrEqual(15);
    expect(gauge!.used as number, `${where}: never more additional numbers than add-ons`).toBeLessThanOrEqual(gauge!.limit as number);
  }

  const owns = (accountId: string, phno: string, phoneNumberId?: string) =>
    (numbersByAccount.get(accountId) ?? []).some((n) => n.whatsapp_phno === phno && (phoneNumberId === undefined || n.phoneNumberId === phoneNumberId));

  for (const phno of involved.phnos ?? []) {
    const claim = await get(table, entities.numberClaim.key({ whatsappPhno: phno }));
    const holders = accountIds.filter((a) => owns(a, phno));
    expect(holders.length, `number ${phno} is connected to at most one account`).toBeLessThanOrEqual(1);
    if (claim && accountIds.includes(claim.accountId as string)) {
      expect(owns(claim.accountId as string, phno), `claim of ${phno} is no orphan`).toBe(true);
    }
    if (!claim) expect(holders, `number ${phno} without claim is connected nowhere`).toEqual([]);
  }
  for (const phoneNumberId of involved.phoneNumberIds ?? []) {
    const key = entities.phoneNumberIdRoute.key({ phoneNumberId });
    const route = await get(table, key);
    if (route && accountIds.includes(route.accountId as string)) {
      expect(owns(route.accountId as string, route.whatsapp_phno as string, phoneNumberId), `route ${key.pk} is no orphan`).toBe(true);
    }
    if (!route) {
      const holders = accountIds.filter((a) => (numbersByAccount.get(a) ?? []).some((n) => n.phoneNumberId === phoneNumberId));
      expect(holders, `no route ${key.pk}, so no number uses it`).toEqual([]);
    }
  }
  for (const wabaId of involved.wabaIds ?? []) {
    for (const route of await query(table, entities.wabaRoute.partition({ wabaId }))) {
      if (!accountIds.includes(route.accountId as string)) continue;
      expect(owns(route.accountId as string, route.whatsapp_phno as string), `route ${route.pk}/${route.sk} is no orphan`).toBe(true);
    }
  }
  return numbersByAccount;
}
