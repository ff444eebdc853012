/**
 * Bus events (docs/events.md): the contracts of what travels on the
 * EventBridge bus, each with its source, detail type, version and zod schema.
 * Producers build details with these types; consumers parse with these
 * schemas; `schemas/routes.ts` matches on them. Every detail carries
 * `accountId`, `whatsapp_phno` and `eventId`.
 *
 * The Meta objects inside (`message`, `status`, `update`) are Meta's own
 * payload items as the webhook parsed them (`schemas/meta-webhook.ts`). Here
 * they are held to their common fields only and stay loose, so a field or a
 * message type Meta adds never makes a consumer drop an event; a consumer that
 * wants the typed message parses `message` with `inboundMessage`.
 */
import * as z from 'zod';
import { inboundMessageBase, messageContact, messageStatus, templateStatusUpdate } from './meta-webhook.js';

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

export const metaMessageItem = inboundMessageBase;
export const metaContactItem = messageContact;
export const metaStatusItem = messageStatus;

export const messageReceived = numberContext.extend({
  message: metaMessageItem,
  /** The sender's entry of the change's `contacts` (name, wa_id, user_id). */
  contact: metaContactItem.optional(),
});

export const messageStatusUpdated = numberContext.extend({
  status: metaStatusItem,
  /** Recovered from `biz_opaque_callback_data` (`bc:{broadcastId}`) when the message belonged to a broadcast. */
  broadcastId: z.string().optional(),
});

/** One per connected number of the WABA: a template is submitted to every number (docs/architecture.md). */
export const templateStatusUpdated = numberContext.extend({
  update: templateStatusUpdate,
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

/** One contract per detail type: what a producer promises and a consumer parses. Bump `version` on a breaking change. */
export const EVENT_CONTRACTS = {
  messageReceived: { source: SOURCES.webhook, detailType: DETAIL_TYPES.messageReceived, version: 1, schema: messageReceived },
  messageStatusUpdated: { source: SOURCES.webhook, detailType: DETAIL_TYPES.messageStatusUpdated, version: 1, schema: messageStatusUpdated },
  templateStatusUpdated: { source: SOURCES.webhook, detailType: DETAIL_TYPES.templateStatusUpdated, version: 1, schema: templateStatusUpdated },
  numberUpdated: { source: SOURCES.webhook, detailType: DETAIL_TYPES.numberUpdated, version: 1, schema: numberUpdated },
} as const;

/** An event as it travels on the bus (EventBridge's envelope fields we use). */
export interface BusEvent<D = unknown> {
  source: string;
  'detail-type': string;
  detail: D;
  id?: string;
  time?: string;
}

type Contract = (typeof EVENT_CONTRACTS)[keyof typeof EVENT_CONTRACTS];
type EventOf<C extends Contract> = { source: C['source']; 'detail-type': C['detailType']; detail: z.infer<C['schema']> };

/** Everything the webhook publishes, discriminated by `detail-type`. */
export type WebhookEvent =
  | EventOf<(typeof EVENT_CONTRACTS)['messageReceived']>
  | EventOf<(typeof EVENT_CONTRACTS)['messageStatusUpdated']>
  | EventOf<(typeof EVENT_CONTRACTS)['templateStatusUpdated']>
  | EventOf<(typeof EVENT_CONTRACTS)['numberUpdated']>;

/** Wraps a detail in its contract's envelope. */
export function busEvent<C extends Contract>(contract: C, detail: z.infer<C['schema']>): EventOf<C> {
  return { source: contract.source, 'detail-type': contract.detailType, detail } as EventOf<C>;
}

/** The contract of an envelope's detail type, to parse a received event with. */
export function contractOf(detailType: string): Contract | undefined {
  return Object.values(EVENT_CONTRACTS).find((contract) => contract.detailType === detailType);
}
