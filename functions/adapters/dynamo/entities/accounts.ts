/**
 * Accounts, seats, teams and the API's idempotency records (docs/data-model.md,
 * "Accounts, seats and teams", "API idempotency records").
 */
import * as z from 'zod';
import { ADDON_TYPES, PLAN_RESOURCES } from '../../../../schemas/words.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';


export const account = defineEntity({
  type: 'account',
  key: { pk: ACCOUNT_PARTITION, sk: 'ACCOUNT' },
  // Every account in one index partition, ordered by creation; no route reads it yet.
  indexes: { gsi1: { pk: 'ACCOUNTS', sk: '{createdAt}#{accountId}' } },
  schema: z.object({
    accountId: z.string(),
    name: z.string(),
    plan: z.record(z.enum(PLAN_RESOURCES), z.number()),
    addons: z.record(z.enum(ADDON_TYPES), z.number()),
    billingAnchor: z.string(),
    createdAt: z.string(),
    status: z.enum(['active', 'closed']),
    mergedInto: z.string().optional(),
    closedAt: z.string().optional(),
    timeZone: z.string().optional(),
  }),
});

/** Makes account creation idempotent on the request's key. */
export const accountCreation = defineEntity({
  key: { pk: 'ACCOUNTKEY#{idempotencyKey}', sk: 'ACCOUNTKEY' },
  schema: z.object({ accountId: z.string() }),
});

export const user = defineEntity({
  type: 'user',
  key: { pk: ACCOUNT_PARTITION, sk: 'USER#{userId}' },
  schema: z.object({ userId: z.string(), email: z.string(), role: z.enum(['owner', 'admin', 'agent']), createdAt: z.string() }),
});

/** One e-mail, one seat per account: its `attribute_not_exists` refuses a second. */
export const userEmail = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'USEREMAIL#{email}' },
  schema: z.object({ userId: z.string() }),
});

export const team = defineEntity({
  type: 'team',
  key: { pk: ACCOUNT_PARTITION, sk: 'TEAM#{teamId}' },
  // `whatsapp_phnos`: the numbers the team covers (per-number access); absent = every number.
  schema: z.object({ teamId: z.string(), name: z.string(), createdAt: z.string(), whatsapp_phnos: z.array(z.string()).optional() }),
});

/** A member of a team: the team's members are one Query (`TEAMMEMBER#{teamId}#`). */
export const teamMember = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'TEAMMEMBER#{teamId}#{userId}' },
  schema: z.object({ teamId: z.string(), userId: z.string(), addedAt: z.string() }),
});

/** The reverse of `teamMember`, written with it: a user's teams are one Query (`USERTEAM#{userId}#`). */
export const userTeam = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'USERTEAM#{userId}#{teamId}' },
  schema: z.object({ teamId: z.string(), userId: z.string(), addedAt: z.string() }),
});

/** An `Idempotency-Key` of the dashboard API, scoped by the account it acts on (or `platform:{subject}`). */
export const apiIdempotency = defineEntity({
  key: { pk: 'IDEM#{scope}', sk: '{idempotencyKey}' },
  schema: z.discriminatedUnion('status', [
    z.object({ status: z.literal('in_progress'), fingerprint: z.string(), lockedUntil: z.number(), expiresAt: z.number() }),
    z.object({
      status: z.literal('completed'),
      fingerprint: z.string(),
      response: z.object({ statusCode: z.number(), body: z.unknown() }),
      expiresAt: z.number(),
    }),
  ]),
});
