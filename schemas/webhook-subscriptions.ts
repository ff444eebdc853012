/**
 * Outgoing webhook subscriptions, the "API/Webhooks" feature of the default
 * number (docs/outgoing-webhooks.md): what `/v1/webhook-subscriptions` takes
 * and answers, the payload a subscriber receives, and the message the
 * delivery queue carries.
 */
import * as z from 'zod';
import { entityId, pageQuery, whatsappPhno } from './common.js';
import { DETAIL_TYPES } from './events.js';
import { numberContext } from './events/number-context.js';

/** The bus detail types a subscription may ask for: the public events of a number (the webhook's). */
export const WEBHOOK_EVENT_TYPES = [
  DETAIL_TYPES.messageReceived,
  DETAIL_TYPES.messageStatusUpdated,
  DETAIL_TYPES.templateStatusUpdated,
  DETAIL_TYPES.numberUpdated,
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES);

/** Subscriptions an account may hold at once. */
export const MAX_WEBHOOK_SUBSCRIPTIONS = 10;

export const createWebhookSubscriptionBody = z.strictObject({
  /** `https://…` (in the local runtime `http://` and loopback too); checked again against private addresses after DNS resolution. */
  url: z.url({ protocol: /^https?$/, error: 'Must be an absolute http(s) URL.' }).max(2048),
  /** Detail types to receive; duplicates are dropped. */
  events: z
    .array(webhookEventType)
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length * 2)
    .transform((events) => [...new Set(events)]),
  /** Optional: the number the caller means; it must be the default number (403 `FEATURE_UNAVAILABLE` otherwise). Deliveries always follow the current default. */
  whatsapp_phno: whatsappPhno.optional(),
});
export type CreateWebhookSubscriptionBody = z.infer<typeof createWebhookSubscriptionBody>;

export const webhookSubscriptionParams = z.object({ id: entityId });
export const webhookDeliveryParams = webhookSubscriptionParams.extend({ deliveryId: entityId });

export const webhookSubscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(webhookEventType),
  createdAt: z.string(),
});
export type WebhookSubscriptionView = z.infer<typeof webhookSubscriptionView>;

/** The answer of `POST`: the only time the signing secret is shown. */
export const createdWebhookSubscription = webhookSubscriptionView.extend({
  secret: z.string().meta({ description: 'whsec_…: the HMAC-SHA256 key of X-Signature-256. Shown once.' }),
});

export const webhookSubscriptionPage = z.object({ items: z.array(webhookSubscriptionView), nextCursor: z.string().nullable() });

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

export const webhookDeliveriesQuery = pageQuery.extend({ status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional() });

export const webhookDeliveryView = z.object({
  /** Also the `X-Webhook-Id` header: the same on every attempt. */
  id: z.string(),
  eventId: z.string(),
  type: webhookEventType,
  whatsapp_phno: z.string(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  /** Attempts made in the current round (a redelivery starts a new round). */
  attempts: z.int(),
  /** The HTTP status of the last attempt, when one arrived. */
  lastStatus: z.int().nullable(),
  /** Why the last attempt failed (`timeout`, `network`, `redirect`, `http_500`, `private`, …). */
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  failedAt: z.string().nullable(),
});
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryView>;

/** A page of a subscription's deliveries, newest first. */
export const webhookDeliveryPage = z.object({ items: z.array(webhookDeliveryView), nextCursor: z.string().nullable() });

/**
 * What a subscriber receives (the POST body): the bus event's number context
 * and the whole detail as `data`. Built once per delivery and stored, so
 * every attempt sends the same bytes.
 */
export const webhookPayload = z.object({
  eventId: z.string(),
  type: webhookEventType,
  occurredAt: z.string(),
  whatsapp_phno: z.string(),
  accountId: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof webhookPayload>;

/** The detail of a public event as the dispatcher reads it: the number context, every other field kept. */
export const webhookEventDetail = numberContext.loose();

/** One message of the delivery queue: one attempt of one delivery. */
export const webhookDeliveryMessage = z.object({
  accountId: z.string(),
  subscriptionId: z.string(),
  deliveryId: z.string(),
  /** 0 for the first dispatch, +1 per redeliver: a message of an older round is stale. */
  round: z.int().min(0),
  /** 1-based attempt within the round. */
  attempt: z.int().min(1),
});
export type WebhookDeliveryMessage = z.infer<typeof webhookDeliveryMessage>;
