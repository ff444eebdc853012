/**
 * The shared quota's items (docs/data-model.md, "Quotas, credits and the
 * ledger"; the rules are docs/quotas.md): counters, the credit pool, the
 * ledger, reservations and each number's spend.
 */
import * as z from 'zod';
import { QUOTA_RESOURCES } from '../../../../schemas/words.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

const counter = z.object({ resource: z.string().optional(), limit: z.number(), used: z.number(), remaining: z.number(), updatedAt: z.string().optional() });

/** `users`, `teams`, `additionalNumbers`: held while in use. `remaining` is kept equal to `limit - used` for conditions. */
export const gaugeQuota = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'QUOTA#{resource}' },
  schema: counter,
});

/** `chatbotSessions`, `aiResponses`: one item per billing period, created by its first use. */
export const periodQuota = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'QUOTA#{resource}#{period}' },
  schema: counter,
});

export const creditPool = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'CREDITS' },
  schema: z.object({
    balanceMicros: z.number(),
    addedMicros: z.number().optional(),
    spentMicros: z.number().optional(),
    updatedAt: z.string().optional(),
    lowBalanceNotifiedAt: z.string().optional(),
    lowBalanceThresholdMicros: z.number().optional(),
    transferredOutMicros: z.number().optional(),
  }),
});

/** Every quota and credit change, written with the change it records; never updated. */
export const ledgerEntry = defineEntity({
  type: 'ledger',
  key: { pk: ACCOUNT_PARTITION, sk: 'LEDGER#{idempotencyKey}' },
  indexes: {
    // An account's ledger of one resource, newest first; of one number on gsi2, when a number applies.
    gsi1: { pk: 'A#{accountId}#LEDGER#{resource}', sk: '{at}#{idempotencyKey}' },
    gsi2: { pk: 'A#{accountId}#LEDGER#{resource}#{whatsappPhno}', sk: '{at}#{idempotencyKey}', optional: true },
  },
  schema: z.object({
    idempotencyKey: z.string(),
    at: z.string(),
    resource: z.enum([...QUOTA_RESOURCES, 'credits']),
    amount: z.number(),
    reason: z.string(),
    whatsapp_phno: z.string().optional(),
    period: z.string().optional(),
    refId: z.string().optional(),
    /** `{resource}:{amount}:{phno}:{refId}`: tells a replay from a reused key. */
    fingerprint: z.string(),
  }),
});

/** Credits held for a broadcast chunk until the sender settles what it used. */
export const reservation = defineEntity({
  type: 'reservation',
  key: { pk: ACCOUNT_PARTITION, sk: 'RESERVATION#{reservationId}' },
  schema: z.object({
    reservationId: z.string(),
    amountMicros: z.number(),
    status: z.enum(['open', 'settled']),
    whatsapp_phno: z.string().optional(),
    createdAt: z.string(),
    spendPeriod: z.string().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    usedMicros: z.number().optional(),
    settledAt: z.string().optional(),
  }),
});

/** What one number spent from the shared pool in one billing period: its cap is checked against it. */
export const numberSpend = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'SPEND#{period}#{whatsappPhno}' },
  schema: z.object({ spentMicros: z.number(), whatsapp_phno: z.string(), period: z.string(), updatedAt: z.string().optional() }),
});
