/**
 * Outgoing webhooks (docs/outgoing-webhooks.md; docs/data-model.md):
 *
 * - `webhookSubscription`: one item per subscription in the account's
 *   webhook partition, sorted by id (time ordered). No secret is stored: it
 *   is derived from the master signing key and the id.
 * - `webhookSubscriptionCount`: how many the account holds, beside them;
 *   raised and lowered in the same transaction as the Put/Delete, under a
 *   `< limit` condition.
 * - `webhookDelivery`: one item per (subscription, event), keyed by the
 *   derived delivery id (a second dispatch of the event finds it), holding
 *   the exact body sent and the state of the attempts. Listed newest first
 *   through gsi2 (every status) and gsi1 (one status: its key carries the
 *   status and is rewritten with it).
 *
 * Neither lives under `A#{accountId}`: merges copy that partition.
 */
import * as z from 'zod';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../../../schemas/webhook-subscriptions.js';
import { defineEntity } from './entity.js';

export const webhookSubscription = defineEntity({
  type: 'webhookSubscription',
  key: { pk: 'WHSUB#{accountId}', sk: 'SUB#{id}' },
  schema: z.object({
    id: z.string(),
    accountId: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    createdAt: z.string(),
  }),
});

export const webhookSubscriptionCount = defineEntity({
  key: { pk: 'WHSUB#{accountId}', sk: 'COUNT' },
  schema: z.object({ count: z.number() }),
});

export const webhookDelivery = defineEntity({
  type: 'webhookDelivery',
  key: { pk: 'WHDLV#{accountId}#{subscriptionId}', sk: 'DLV#{deliveryId}' },
  indexes: {
    gsi1: { pk: 'WHDLV#{accountId}#{subscriptionId}#{status}', sk: 'AT#{createdAt}#{deliveryId}' },
    gsi2: { pk: 'WHDLV#{accountId}#{subscriptionId}', sk: 'AT#{createdAt}#{deliveryId}' },
  },
  schema: z.object({
    accountId: z.string(),
    subscriptionId: z.string(),
    deliveryId: z.string(),
    eventId: z.string(),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    whatsapp_phno: z.string(),
    body: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    round: z.number(),
    attempts: z.number(),
    claimedAt: z.string().optional(),
    lastStatus: z.number().optional(),
    lastError: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    nextAttemptAt: z.string().optional(),
    deliveredAt: z.string().optional(),
    failedAt: z.string().optional(),
  }),
});
