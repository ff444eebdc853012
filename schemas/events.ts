/**
 * Bus events (API.md "Bus events"): one module of contracts, each with its
 * source, detail type, version and zod schema. Producers build details with
 * these schemas; consumers parse with them; `schemas/routes.ts` matches on
 * them. Every detail carries `accountId`, `whatsapp_phno` and `eventId`.
 *
 * The Meta objects inside (`message`, `status`, `update`) are Meta's own
 * payload items as the webhook received them (see `schemas/meta-webhook.ts`),
 * kept loose here so a field Meta adds never drops an event.
 */
import * as z from 'zod';

export const SOURCES = { webhook: 'whatsapp.webhook', api: 'whatsapp.api' } as const;

export const DETAIL_TYPES = {
  messageReceived: 'WhatsApp Message Received',
  messageStatusUpdated: 'WhatsApp Message Status Updated',
  templateStatusUpdated: 'WhatsApp Template Status Updated',
  numberUpdated: 'WhatsApp Number Updated',
  broadcastRequested: 'Broadcast Requested',
  creditsLow: 'Credits Low',
} as const;

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** Which connected number an event concerns: added by the webhook from its route lookup. */
export const numberContext = z.object({
  accountId: z.string(),
  whatsapp_phno: z.string(),
  phoneNumberId: z.string(),
  wabaId: z.string(),
  isDefaultNumber: z.boolean(),
  /** Stable across Meta's redeliveries: the wamid for messages, `{wamid}:{status}` for statuses. Dedupe with `phoneNumberId`. */
  eventId: z.string(),
  /** When the webhook received the delivery (ISO). */
  receivedAt: z.string(),
});

export const metaMessageItem = z.looseObject({
  id: z.string(),
  from: z.string(),
  timestamp: z.string(),
  type: z.string(),
});

export const metaContactItem = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional() }).optional(),
});

export const metaStatusItem = z.looseObject({
  id: z.string(),
  status: z.string(),
  timestamp: z.string(),
  recipient_id: z.string().optional(),
  biz_opaque_callback_data: z.string().optional(),
});

export const messageReceived = numberContext.extend({
  message: metaMessageItem,
  contact: metaContactItem.optional(),
});

export const messageStatusUpdated = numberContext.extend({
  status: metaStatusItem,
  /** Recovered from `biz_opaque_callback_data` (`bc:{broadcastId}`) when the message belonged to a broadcast. */
  broadcastId: z.string().optional(),
});

export const templateStatusUpdated = numberContext.extend({
  update: z.looseObject({ event: z.string(), message_template_name: z.string().optional(), message_template_language: z.string().optional() }),
});

export const numberUpdated = numberContext.extend({
  /** Meta's change field, e.g. `phone_number_quality_update`, `account_update`. */
  field: z.string(),
  update: z.looseObject({}),
});

export type MessageReceived = z.infer<typeof messageReceived>;
export type MessageStatusUpdated = z.infer<typeof messageStatusUpdated>;
export type TemplateStatusUpdated = z.infer<typeof templateStatusUpdated>;
export type NumberUpdated = z.infer<typeof numberUpdated>;

/** An event as it travels on the bus (EventBridge's envelope fields we use). */
export interface BusEvent<D = unknown> {
  source: string;
  'detail-type': string;
  detail: D;
  id?: string;
  time?: string;
}
