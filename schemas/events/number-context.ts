/**
 * The fields every `whatsapp.webhook` event's detail starts with (docs/events.md,
 * "Number context"): which connected number it concerns, added by the webhook
 * from its route lookup, and the event's stable id and times.
 */
import * as z from 'zod';

export const numberContext = z.object({
  accountId: z.string(),
  whatsapp_phno: z.string(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  isDefaultNumber: z.boolean(),
  /**
   * Stable across Meta's redeliveries, derived from the content: the wamid for
   * messages, `{wamid}:{status}` for statuses, `tpl:…` / `upd:…` for template
   * and number updates. Dedupe with `phoneNumberId`.
   */
  eventId: z.string(),
  /** When the webhook received the delivery (ISO). */
  receivedAt: z.string(),
  /** When Meta says it happened (ISO), from the item's `timestamp` or the entry's `time`; absent when Meta gave neither. */
  occurredAt: z.string().optional(),
});

export type NumberContext = z.infer<typeof numberContext>;
