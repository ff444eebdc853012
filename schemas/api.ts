/**
 * Dashboard API bodies, queries and answers (docs/openapi.json). The router validates
 * with these, the OpenAPI document is generated from them, and the types come
 * from `z.infer`: there is no hand-written twin of any shape.
 */
import * as z from 'zod';
import { ADDON_TYPES, QUOTA_RESOURCES } from '../functions/core/plan.js';
import { entityId, micros, pageQuery, positiveMicros, whatsappPhno } from './common.js';

const count = z.int().min(0).max(1_000_000_000);

export const planLimits = z.strictObject({
  users: count,
  teams: count,
  chatbotSessions: count,
  aiResponses: count,
});

export const createAccountBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  plan: planLimits,
  creditsMicros: micros.default(0),
});

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

const limitsShape = z.object(Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, z.int()])) as Record<(typeof QUOTA_RESOURCES)[number], z.ZodInt>);

export const accountView = z.object({
  accountId: z.string(),
  name: z.string(),
  status: z.enum(['active', 'closed']),
  plan: planLimits,
  addons: z.object(Object.fromEntries(ADDON_TYPES.map((t) => [t, z.int()])) as Record<(typeof ADDON_TYPES)[number], z.ZodInt>),
  limits: limitsShape,
  usage: limitsShape,
  credits: z.object({ balanceMicros: z.int() }),
  /** What each number spent from the shared pool this billing period. */
  spendByNumber: z.array(z.object({ whatsapp_phno: z.string(), spentMicros: z.int() })),
  billingPeriod: z.object({ start: z.string(), end: z.string() }),
  createdAt: z.string(),
});

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
export const teamView = z.object({ teamId: z.string(), name: z.string(), createdAt: z.string() });

export const errorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string() }),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
