/**
 * API bodies, queries and answers for connected numbers and the operator's
 * number routes (docs/openapi.json). Phone numbers go through the
 * one normalisation (`whatsappPhno`); Meta's ids are digit strings.
 */
import * as z from 'zod';
import { accountView } from './accounts.js';
import { entityId, micros, whatsappPhno } from './common.js';
import { messagingLimitShare, messagingLimitShareView } from './messaging-limit.js';
import { FEATURES, type Feature } from './words.js';

/** Every feature (`FEATURES`) with whether the number offers it. */
export const featureSet = z.object(Object.fromEntries(FEATURES.map((f) => [f, z.boolean()])) as Record<Feature, z.ZodBoolean>);
export type FeatureSet = z.infer<typeof featureSet>;

/** Meta's object ids (phone_number_id, WABA id, catalog id): digits only, 5 to 30 of them. */
export const metaId = z
  .string()
  .regex(/^\d{5,30}$/, 'Must be a Meta id: 5 to 30 digits.')
  .meta({ example: '110000000000001' });

/** A number's display name (the verified name Meta shows). */
export const numberName = z.string().trim().min(1).max(100);

/** The result of Meta's Embedded Signup. */
export const connectNumberBody = z.strictObject({
  name: numberName,
  displayPhoneNumber: whatsappPhno,
  phoneNumberId: metaId,
  wabaId: metaId,
  /** The Meta business portfolio that owns the WABA, when known: numbers without one share the account's portfolio (docs/quotas.md). */
  portfolioId: metaId.optional(),
});
export type ConnectNumberBody = z.infer<typeof connectNumberBody>;

export const numberParams = z.object({ phno: whatsappPhno });

export const patchNumberBody = z
  .strictObject({
    name: numberName.optional(),
    /** `null` clears the cap. */
    creditCapMicros: micros.nullable().optional(),
    /** The number's share of the portfolio's messaging limit; `null` clears it. */
    messagingLimitShare: messagingLimitShare.nullable().optional(),
  })
  .refine((body) => body.name !== undefined || body.creditCapMicros !== undefined || body.messagingLimitShare !== undefined, {
    message: 'Name at least one of name, creditCapMicros, messagingLimitShare.',
  });
export type PatchNumberBody = z.infer<typeof patchNumberBody>;

export const catalogBody = z.strictObject({ catalogId: metaId });

export const adminNumberParams = z.object({ accountId: entityId, phno: whatsappPhno });
export const removeNumberQuery = z.object({
  /** Required when removing the default while additional numbers remain: the one that becomes the default. */
  newDefault: whatsappPhno.optional(),
});

export const mergeBody = z.strictObject({ sourceAccountId: entityId });

export const numberView = z.object({
  whatsapp_phno: z.string(),
  name: z.string(),
  isDefault: z.boolean(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  status: z.string(),
  messagingLimitTier: z.string().nullable(),
  qualityRating: z.string().nullable(),
  creditCapMicros: z.int().nullable(),
  /** The business portfolio whose messaging limit the number shares. */
  portfolioId: z.string(),
  messagingLimitShare: messagingLimitShareView,
  features: featureSet,
  connectedAt: z.string(),
});
export type NumberView = z.infer<typeof numberView>;

export const numberList = z.object({ items: z.array(numberView) });

export const catalogView = z.object({ whatsapp_phno: z.string(), catalogId: z.string() });

/** The default number's catalog binding: `catalogId` null until one is bound (a new default starts without). */
export const catalogBindingView = z.object({ whatsapp_phno: z.string(), catalogId: z.string().nullable() });

export const mergeView = z.object({
  sourceAccountId: z.string(),
  targetAccountId: z.string(),
  status: z.enum(['in_progress', 'completed']),
  numbers: z.array(z.object({ whatsapp_phno: z.string(), isDefault: z.boolean() })),
  addonsMoved: z.record(z.string(), z.int()),
  creditsMovedMicros: z.int(),
  account: accountView,
});
export type MergeView = z.infer<typeof mergeView>;
