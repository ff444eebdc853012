/**
 * Connected numbers and what keeps them unique and routable (docs/data-model.md,
 * "Numbers and routes"): the number item, its platform-wide claim, the
 * webhook's two route rows, the default marker, and a merge's progress.
 */
import * as z from 'zod';
import { ADDON_TYPES } from '../../../../schemas/words.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

export const number = defineEntity({
  type: 'number',
  key: { pk: ACCOUNT_PARTITION, sk: 'NUMBER#{whatsappPhno}' },
  schema: z
    .object({
      accountId: z.string(),
      whatsapp_phno: z.string(),
      name: z.string(),
      phoneNumberId: z.string(),
      wabaId: z.string(),
      isDefault: z.unknown().optional().transform((value) => value === true),
      status: z.string().default('CONNECTED'),
      messagingLimitTier: z.string().nullish().transform((value) => value ?? null),
      qualityRating: z.string().nullish().transform((value) => value ?? null),
      creditCapMicros: z.unknown().optional().transform((value) => (typeof value === 'number' ? value : null)),
      catalogId: z.string().optional(),
      /** The Meta business portfolio of its WABA, when known (else the account's portfolio). */
      portfolioId: z.string().optional(),
      connectedAt: z.string(),
      updatedAt: z.string().optional(),
    })
    // An item written before `updatedAt` existed was last changed when it was connected.
    .transform(({ updatedAt, catalogId, portfolioId, ...number }) => ({
      ...number,
      ...(catalogId ? { catalogId } : {}),
      ...(portfolioId ? { portfolioId } : {}),
      updatedAt: updatedAt ?? number.connectedAt,
    })),
});

/** What a reply needs of a number item: its Graph id, its WABA, and whether it is still connected. */
export const sendingSide = z.object({ phoneNumberId: z.string(), wabaId: z.string().optional(), status: z.string().optional() });

/** `attribute_not_exists` on it makes a number connectable once, on the whole platform. */
export const numberClaim = defineEntity({
  key: { pk: 'PHONE#{whatsappPhno}', sk: 'CLAIM' },
  schema: z.object({ accountId: z.string(), whatsapp_phno: z.string(), phoneNumberId: z.string(), wabaId: z.string(), claimedAt: z.string() }),
});

/** Exactly what the webhook reads of a number, on both route rows. */
const routeRow = z.object({
  accountId: z.string().min(1),
  whatsapp_phno: z.string().min(1),
  phoneNumberId: z.string().min(1),
  wabaId: z.string().min(1),
  isDefault: z.boolean(),
  name: z.string().optional(),
});

/** The webhook's one lookup for a `messages` change. */
export const phoneNumberIdRoute = defineEntity({
  key: { pk: 'PNID#{phoneNumberId}', sk: 'ROUTE' },
  schema: routeRow,
});

/** WABA-level changes (template status, quality, account updates) name no phone_number_id: one row per number of the WABA. */
export const wabaRoute = defineEntity({
  key: { pk: 'WABA#{wabaId}', sk: 'ROUTE#{whatsappPhno}' },
  schema: routeRow,
});

/** Names the default number; its `attribute_not_exists` makes "the first number is the default" race-safe. */
export const defaultNumber = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'DEFAULT_NUMBER' },
  schema: z.object({ whatsapp_phno: z.string(), updatedAt: z.string().optional() }),
});

const mergeNumber = z.object({
  whatsapp_phno: z.string(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  wasDefault: z.boolean(),
  becomesDefault: z.boolean(),
});

/** A merge's progress, on the source account: which target, which numbers, what moved; makes the merge re-runnable. */
export const mergeProgress = defineEntity({
  type: 'mergeProgress',
  key: { pk: ACCOUNT_PARTITION, sk: 'MERGE' },
  schema: z.object({
    sourceAccountId: z.string(),
    targetAccountId: z.string(),
    status: z.enum(['in_progress', 'completed']),
    numbers: z.array(mergeNumber).default([]),
    addonsMoved: z.record(z.enum(ADDON_TYPES), z.number()),
    creditsMovedMicros: z.number().default(0),
    startedAt: z.string(),
    completedAt: z.string().optional(),
  }),
});
