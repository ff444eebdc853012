/**
 * Templates and broadcasts (docs/openapi.json, docs/events.md): API bodies and
 * answers, the bus events the API publishes (`Broadcast Requested`,
 * `Credits Low`), the send queue's message, and the rate card's shape.
 */
import * as z from 'zod';
import { canonicalWaId } from '../functions/core/contact-id.js';
import { TEMPLATE_CATEGORIES } from '../functions/core/pricing.js';
import { entityId, micros, pageQuery, whatsappPhno } from './common.js';
import { DETAIL_TYPES, SOURCES } from './events.js';

// ------------------------------------------------------------------ templates

export const templateCategory = z.enum(TEMPLATE_CATEGORIES);

export const TEMPLATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export const templateStatus = z.enum(TEMPLATE_STATUSES);

/** Meta's rules: lowercase letters, digits and underscores. */
export const templateName = z
  .string()
  .regex(/^[a-z0-9_]{1,512}$/, 'Lowercase letters, digits and underscores, at most 512.')
  .meta({ example: 'order_update' });

/** Meta's language codes: `en`, `en_US`, `pt_BR`, `zh_Hant_HK`… */
export const templateLanguage = z
  .string()
  .regex(/^[a-z]{2,3}(_[A-Za-z0-9]{2,4}){0,2}$/, 'A WhatsApp language code, e.g. en_US.')
  .meta({ example: 'en_US' });

export const createTemplateBody = z.strictObject({
  name: templateName,
  language: templateLanguage,
  category: templateCategory,
  /** Meta's template components (HEADER, BODY, FOOTER, BUTTONS), passed through to Meta. */
  components: z.array(z.looseObject({ type: z.string().min(1) })).min(1).max(20),
});
export type CreateTemplateBody = z.infer<typeof createTemplateBody>;

export const templateNumberStatus = z.object({
  whatsapp_phno: z.string(),
  status: templateStatus,
  reason: z.string().optional(),
});

export const templateSubmittedView = z.object({
  name: z.string(),
  language: z.string(),
  numbers: z.array(templateNumberStatus.omit({ reason: true })),
});

export const templateView = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string(),
  numbers: z.array(templateNumberStatus),
});

export const templateList = z.object({ items: z.array(templateView) });

// ----------------------------------------------------------------- broadcasts

export const MAX_BROADCAST_RECIPIENTS = 100_000;

/** A recipient's WhatsApp number, normalised the one way contacts are (Brazil's ninth digit, Mexico 521, Argentina 549). */
const recipient = z.string().transform((value, ctx) => {
  const waId = canonicalWaId(value);
  if (!waId || /[^\d\s+().-]/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'Must be a phone number in international format, e.g. 5511987650001.' });
    return z.NEVER;
  }
  return waId;
});

export const createBroadcastBody = z.strictObject({
  whatsapp_phno: whatsappPhno,
  template: z.strictObject({ name: templateName, language: templateLanguage }),
  /** Normalised and de-duplicated, in the order given. */
  recipients: z
    .array(recipient)
    .min(1)
    .max(MAX_BROADCAST_RECIPIENTS)
    .transform((list) => [...new Set(list)]),
});
export type CreateBroadcastBody = z.infer<typeof createBroadcastBody>;

export const broadcastIdParams = z.object({ broadcastId: entityId });

export const listBroadcastsQuery = pageQuery.extend({ whatsapp_phno: whatsappPhno.optional() });

export const BROADCAST_STATUSES = ['queued', 'sending', 'completed'] as const;

export const broadcastCounts = z.object({
  recipients: z.int(),
  sent: z.int(),
  delivered: z.int(),
  read: z.int(),
  failed: z.int(),
  replied: z.int(),
});

export const broadcastView = z.object({
  broadcastId: z.string(),
  whatsapp_phno: z.string(),
  template: z.object({ name: z.string(), language: z.string(), category: z.string() }),
  status: z.enum(BROADCAST_STATUSES),
  counts: broadcastCounts,
  /** What the sent messages cost, refunds for messages Meta reported failed deducted. */
  creditsSpentMicros: z.int(),
  /** Failed recipients by reason (`insufficient_credits`, `meta:131026`, …). */
  failedReasons: z.record(z.string(), z.int()),
  createdAt: z.string(),
});
export type BroadcastView = z.infer<typeof broadcastView>;

export const broadcastAccepted = z.object({ broadcastId: z.string() });

export const broadcastPage = z.object({ items: z.array(broadcastView), nextCursor: z.string().nullable() });

// --------------------------------------------------------------- bus events

export const broadcastRequested = z.object({
  accountId: z.string(),
  whatsapp_phno: z.string(),
  eventId: z.string(),
  broadcastId: z.string(),
  chunkCount: z.int().min(1),
});
export type BroadcastRequested = z.infer<typeof broadcastRequested>;

export const creditsLow = z.object({
  accountId: z.string(),
  /** The number whose spending crossed the threshold. */
  whatsapp_phno: z.string(),
  eventId: z.string(),
  balanceMicros: z.int(),
  thresholdMicros: z.int(),
});
export type CreditsLow = z.infer<typeof creditsLow>;

/** The API's own events (source `whatsapp.api`). */
export const API_EVENT_CONTRACTS = {
  broadcastRequested: { source: SOURCES.api, detailType: DETAIL_TYPES.broadcastRequested, version: 1, schema: broadcastRequested },
  creditsLow: { source: SOURCES.api, detailType: DETAIL_TYPES.creditsLow, version: 1, schema: creditsLow },
} as const;

// --------------------------------------------------------------- send queue

/** One chunk of one broadcast to send: the recipients stay in the table. */
export const sendChunkMessage = z.object({
  accountId: z.string().min(1),
  broadcastId: z.string().min(1),
  chunk: z.int().min(0),
});
export type SendChunkMessage = z.infer<typeof sendChunkMessage>;

// ---------------------------------------------------------------- rate card

const categoryPrices = z.strictObject({ MARKETING: micros, UTILITY: micros, AUTHENTICATION: micros });

/** `PRICING_RATE_CARD`: `{"default": {…}, "byCallingCode": {"55": {"MARKETING": 62500, …}, …}}`. */
export const rateCardSchema = z.strictObject({
  default: categoryPrices,
  byCallingCode: z.record(z.string().regex(/^[1-9]\d{0,3}$/, 'A calling code: 1 to 4 digits.'), categoryPrices),
});
