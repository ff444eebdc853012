/**
 * Accounts (docs/openapi.json, docs/quotas.md): plan limits, add-ons and
 * counters over the word lists of `words.ts`, and the dashboard API's bodies
 * and answers for accounts, credits, the ledger, users and teams.
 */
import * as z from 'zod';
import { entityId, ianaTimeZone, micros, pageQuery, positiveMicros, whatsappPhno } from './common.js';
import { ADDON_TYPES, type AddonType, PLAN_RESOURCES, type PlanResource, QUOTA_RESOURCES, type QuotaResource } from './words.js';

const count = z.int().min(0).max(1_000_000_000);

export const planLimits = z.strictObject(Object.fromEntries(PLAN_RESOURCES.map((r) => [r, count])) as Record<PlanResource, typeof count>);
export type PlanLimits = z.infer<typeof planLimits>;

/** Add-ons bought, per type. */
export const addonCounts = z.object(Object.fromEntries(ADDON_TYPES.map((t) => [t, z.int()])) as Record<AddonType, z.ZodInt>);
export type Addons = z.infer<typeof addonCounts>;

/** A number per counted resource: the limits an account is held to, or what it uses. */
export const quotaCounts = z.object(Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, z.int()])) as Record<QuotaResource, z.ZodInt>);
export type Limits = z.infer<typeof quotaCounts>;

/** An IANA time zone (`America/Sao_Paulo`): the account's local hours (a sequence step's `sendBetween`). */
export const accountTimeZone = ianaTimeZone.meta({ description: 'IANA time zone of the account (default UTC): sequence steps with sendBetween are judged in it.', example: 'America/Sao_Paulo' });

export const createAccountBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  plan: planLimits,
  creditsMicros: micros.default(0),
  timeZone: accountTimeZone.optional(),
});

/** `PATCH /v1/account`: the settings an admin changes. */
export const patchAccountBody = z.strictObject({ timeZone: accountTimeZone });

export const accountIdParams = z.object({ accountId: entityId });

export const addonBody = z.strictObject({
  type: z.enum(ADDON_TYPES),
  quantity: z.int().min(1).max(10_000),
});

export const topupBody = z.strictObject({ amountMicros: positiveMicros });

export const ledgerQuery = pageQuery.extend({
  whatsapp_phno: whatsappPhno.optional(),
  resource: z.enum([...QUOTA_RESOURCES, 'credits']).default('credits'),
});

export const addUserBody = z.strictObject({
  email: z.email().max(320),
  role: z.enum(['owner', 'admin', 'agent']),
});

export const userIdParams = z.object({ userId: entityId });
export const addTeamBody = z.strictObject({ name: z.string().trim().min(1).max(100) });
export const teamIdParams = z.object({ teamId: entityId });

export const accountView = z.object({
  accountId: z.string(),
  name: z.string(),
  status: z.enum(['active', 'closed']),
  plan: planLimits,
  addons: addonCounts,
  limits: quotaCounts,
  usage: quotaCounts,
  credits: z.object({ balanceMicros: z.int() }),
  /** What each number spent from the shared pool this billing period. */
  spendByNumber: z.array(z.object({ whatsapp_phno: z.string(), spentMicros: z.int() })),
  billingPeriod: z.object({ start: z.string(), end: z.string() }),
  /** IANA; `UTC` unless set. */
  timeZone: z.string(),
  createdAt: z.string(),
});
export type AccountView = z.infer<typeof accountView>;

export const balanceView = z.object({ balanceMicros: z.int() });

export const ledgerEntryView = z.object({
  at: z.string(),
  resource: z.string(),
  amount: z.int(),
  whatsapp_phno: z.string().optional(),
  reason: z.string(),
  period: z.string().optional(),
  refId: z.string().optional(),
  idempotencyKey: z.string(),
});

export const userView = z.object({ userId: z.string(), email: z.string(), role: z.string(), createdAt: z.string() });
/** A team: `whatsapp_phnos` are the numbers it covers (per-number access), `null` = every number of the account. */
export const teamView = z.object({
  teamId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  whatsapp_phnos: z.array(z.string()).nullable().meta({ description: 'The numbers the team covers; null: every number of the account.' }),
});

/** `GET /v1/teams/{teamId}`: the team with its members' user ids, sorted. */
export const teamDetailView = teamView.extend({ members: z.array(z.string()) });

/** The most members a team holds (one `PUT /v1/teams/{teamId}/members`). */
export const TEAM_MEMBER_LIMIT = 100;

/** `PUT /v1/teams/{teamId}/members`: replaces the members (a set: repeats count once). */
export const teamMembersBody = z.strictObject({ userIds: z.array(entityId).max(TEAM_MEMBER_LIMIT) });

/** `PUT /v1/teams/{teamId}/numbers`: the numbers the team covers, `null` for every number (a set: repeats count once). */
export const teamNumbersBody = z.strictObject({ whatsapp_phnos: z.array(whatsappPhno).min(1).max(100).nullable() });
