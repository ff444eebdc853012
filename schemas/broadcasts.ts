/**
 * Broadcasts (docs/openapi.json, docs/events.md): the dashboard API's bodies
 * and answers, and the send queue's message. The bus event that starts one is
 * `schemas/events/broadcast-requested.ts`.
 */
import * as z from 'zod';
import { entityId, pageQuery, whatsappPhno } from './common.js';
import { templateLanguage, templateName } from './templates.js';
import { canonicalWaId } from './whatsapp-ids.js';

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
  /** Skipped, never sent nor charged: the recipient stopped marketing messages from the number (MARKETING templates only). */
  skippedOptOut: z.int(),
  /** Waiting for the portfolio's messaging limit to free capacity: no credit held, sent (once) when it does. */
  deferred: z.int(),
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
  /** When deferred recipients are next tried (the messaging limit's window frees capacity); `null` when none wait. */
  resumesAt: z.string().nullable(),
  createdAt: z.string(),
});
export type BroadcastView = z.infer<typeof broadcastView>;

export const broadcastAccepted = z.object({ broadcastId: z.string() });

export const broadcastPage = z.object({ items: z.array(broadcastView), nextCursor: z.string().nullable() });

// --------------------------------------------------------------- send queue

/** One chunk of one broadcast to send: the recipients stay in the table. */
export const sendChunkMessage = z.object({
  accountId: z.string().min(1),
  broadcastId: z.string().min(1),
  chunk: z.int().min(0),
  /** Which sending round of the chunk: 0 first, then one more for each time recipients were deferred (messaging limit). */
  round: z.int().min(0).optional(),
});
export type SendChunkMessage = z.infer<typeof sendChunkMessage>;
