import { createDynamoAdapters } from '../../functions/adapters/dynamo/index.js';
import { createAccount } from '../../functions/core/accounts.js';
import type { Clock } from '../../functions/core/ports.js';
import type { PlanLimits } from '../../schemas/accounts.js';
import { systemClock, timeOrderedIds } from '../../functions/commons/ids.js';
import type { TestTable } from './dynamo.js';

export function adaptersFor(table: TestTable, clock: Clock = systemClock) {
  return { ...createDynamoAdapters(table.doc, table.tableName, clock), clock, ids: timeOrderedIds };
}

export const DEFAULT_PLAN: PlanLimits = { users: 5, teams: 3, chatbotSessions: 100, aiResponses: 100 };

let counter = 0;

/** A fresh account on the table; every test gets its own so none share counters. */
export async function newAccount(deps: ReturnType<typeof adaptersFor>, plan: Partial<PlanLimits> = {}, creditsMicros = 0) {
  return createAccount(deps, { name: `Test ${++counter}`, plan: { ...DEFAULT_PLAN, ...plan }, creditsMicros }, `setup-${Date.now()}-${counter}-${Math.random()}`);
}

/** Runs every task at once and sorts what came back. */
export async function race<T>(tasks: (() => Promise<T>)[]) {
  const settled = await Promise.allSettled(tasks.map((task) => task()));
  const ok = settled.filter((s): s is PromiseFulfilledResult<Awaited<T>> => s.status === 'fulfilled').map((s) => s.value);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as Error);
  return { ok, errors };
}

/** Every ledger entry of one resource, all pages read. */
export async function allLedger(
  deps: ReturnType<typeof adaptersFor>,
  accountId: string,
  resource: Parameters<ReturnType<typeof adaptersFor>['accounts']['listLedger']>[1]['resource'],
) {
  const items = [];
  let cursor: string | undefined;
  do {
    const page = await deps.accounts.listLedger(accountId, { resource }, { limit: 100, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}
