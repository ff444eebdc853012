/**
 * Plan limits, add-ons and billing periods: the pure rules of the shared quota
 * (docs/quotas.md). Every number of an account draws on the same counters; this
 * module only computes, the quota store enforces with conditional writes.
 * The word lists (resources, add-on types) are the API's, in `schemas/words.ts`.
 */
import type { Addons, Limits, PlanLimits } from '../../schemas/accounts.js';
import { type AddonType, QUOTA_RESOURCES, type QuotaResource } from '../../schemas/words.js';

/** Held while in use, given back on release (a seat, a team, a number slot). */
export const GAUGE_RESOURCES = ['users', 'teams', 'additionalNumbers'] as const satisfies readonly QuotaResource[];
export type GaugeResource = (typeof GAUGE_RESOURCES)[number];

/** Spent per billing period, back to zero when the period changes. */
export const PERIOD_RESOURCES = ['chatbotSessions', 'aiResponses'] as const satisfies readonly QuotaResource[];
export type PeriodResource = (typeof PERIOD_RESOURCES)[number];

/** Everything the ledger records: the counted resources and the credit pool. */
export type LedgerResource = QuotaResource | 'credits';

/** Additional numbers an account may connect, whatever add-ons it bought (docs/quotas.md, rule 5). */
export const MAX_ADDITIONAL_NUMBERS = 15;

export interface Account {
  accountId: string;
  name: string;
  plan: PlanLimits;
  addons: Addons;
  /** ISO date-time; its day of month starts every billing period. */
  billingAnchor: string;
  createdAt: string;
  status: 'active' | 'closed';
  /** IANA time zone the account's local hours are judged in (a sequence step's `sendBetween`); absent: UTC. */
  timeZone?: string;
}

export function emptyAddons(): Addons {
  return { users: 0, teams: 0, chatbotSessions: 0, aiResponses: 0, number: 0 };
}

/** The resource an add-on raises. */
export function addonResource(type: AddonType): QuotaResource {
  return type === 'number' ? 'additionalNumbers' : type;
}

export function isGauge(resource: QuotaResource): resource is GaugeResource {
  return (GAUGE_RESOURCES as readonly string[]).includes(resource);
}

export function isPeriodResource(resource: QuotaResource): resource is PeriodResource {
  return (PERIOD_RESOURCES as readonly string[]).includes(resource);
}

/**
 * The limit the counters hold for a resource: plan + add-ons. For numbers the
 * counter holds the add-ons bought; the 15 cap is a separate condition (see
 * `effectiveLimit`), so buying a 16th add-on never lets a 16th number in.
 */
export function counterLimit(account: Pick<Account, 'plan' | 'addons'>, resource: QuotaResource): number {
  if (resource === 'additionalNumbers') return account.addons.number;
  return account.plan[resource] + account.addons[resource];
}

/** The limit a user is shown and held to. */
export function effectiveLimit(account: Pick<Account, 'plan' | 'addons'>, resource: QuotaResource): number {
  const limit = counterLimit(account, resource);
  return resource === 'additionalNumbers' ? Math.min(limit, MAX_ADDITIONAL_NUMBERS) : limit;
}

export function limitsOf(account: Pick<Account, 'plan' | 'addons'>): Limits {
  return Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, effectiveLimit(account, r)])) as Limits;
}

export interface BillingPeriod {
  /** `YYYY-MM-DD` of the period's first day (UTC); the period quota's key. */
  key: string;
  start: string;
  end: string;
}

/**
 * The billing period containing `now`: periods start on the anchor's day of
 * month (clamped to the month's last day, so an anchor on the 31st starts
 * February's period on the 28th/29th) at 00:00 UTC.
 */
export function billingPeriod(billingAnchor: string, now: Date): BillingPeriod {
  const anchorDay = new Date(billingAnchor).getUTCDate();
  const startIn = (year: number, month: number) => {
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    return new Date(Date.UTC(year, month, Math.min(anchorDay, lastDay)));
  };
  let start = startIn(now.getUTCFullYear(), now.getUTCMonth());
  if (start.getTime() > now.getTime()) start = startIn(now.getUTCFullYear(), now.getUTCMonth() - 1);
  const end = startIn(start.getUTCFullYear(), start.getUTCMonth() + 1);
  return { key: start.toISOString().slice(0, 10), start: start.toISOString(), end: end.toISOString() };
}
