/**
 * Outgoing webhook subscriptions, the "API/Webhooks" feature of the default
 * number (docs/outgoing-webhooks.md). Admins and owners manage them (they
 * hold a secret and send the account's messages out); agents may not.
 *
 * - `POST /v1/webhook-subscriptions {url, events, whatsapp_phno?}`: 201 with
 *   the subscription and its `secret`, shown this once; 400 on `body.url`
 *   for a URL the guard refuses, on `body.events[i]` for an unknown type;
 *   403 `FEATURE_UNAVAILABLE` when `whatsapp_phno` names an additional
 *   number; 409 `QUOTA_EXCEEDED` past 10, `NO_DEFAULT_NUMBER` without one.
 *   With an `Idempotency-Key` a retry answers the same subscription (200)
 *   and no response holding the secret is stored (`idempotency: 'self'`).
 * - `GET /v1/webhook-subscriptions`: oldest first, never the secret.
 * - `DELETE /v1/webhook-subscriptions/{id}`: 204.
 * - `GET /v1/webhook-subscriptions/{id}/deliveries?status=`: newest first.
 * - `POST /v1/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver`: 202.
 */
import { pageQuery } from '../../../schemas/common.js';
import {
  type WebhookDeliveryView,
  type WebhookSubscriptionView,
  createWebhookSubscriptionBody,
  createdWebhookSubscription,
  webhookDeliveriesQuery,
  webhookDeliveryPage,
  webhookDeliveryParams,
  webhookDeliveryView,
  webhookSubscriptionPage,
  webhookSubscriptionParams,
} from '../../../schemas/webhook-subscriptions.js';
import type { WebhookDelivery, WebhookSubscription } from '../../core/outgoing-webhook-ports.js';
import {
  type WebhookSubscriptionDeps,
  createWebhookSubscription,
  deleteWebhookSubscription,
  listWebhookDeliveries,
  listWebhookSubscriptions,
  redeliverWebhook,
} from '../../core/outgoing-webhooks.js';
import { defineRoute } from '../router.js';

export type { WebhookSubscriptionDeps } from '../../core/outgoing-webhooks.js';

export function webhookSubscriptionViewOf(s: WebhookSubscription): WebhookSubscriptionView {
  return { id: s.id, url: s.url, events: s.events, createdAt: s.createdAt };
}

export function webhookDeliveryViewOf(d: WebhookDelivery): WebhookDeliveryView {
  return {
    id: d.deliveryId,
    eventId: d.eventId,
    type: d.type,
    whatsapp_phno: d.whatsapp_phno,
    status: d.status,
    attempts: d.attempts,
    lastStatus: d.lastStatus ?? null,
    lastError: d.lastError ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    nextAttemptAt: d.status === 'pending' ? (d.nextAttemptAt ?? null) : null,
    deliveredAt: d.deliveredAt ?? null,
    failedAt: d.failedAt ?? null,
  };
}

export const webhookSubscriptionRoutes = [
  defineRoute<WebhookSubscriptionDeps, typeof createWebhookSubscriptionBody>({
    method: 'POST',
    path: '/v1/webhook-subscriptions',
    summary: "Subscribe a URL to the default number's events: 201 with the signing secret, shown this once.",
    role: 'admin',
    scope: 'account',
    body: createWebhookSubscriptionBody,
    response: { status: 201, schema: createdWebhookSubscription },
    idempotency: 'self',
    handle: async ({ accountId, body, deps, idempotencyKey }) => {
      const { created, subscription, secret } = await createWebhookSubscription(deps, accountId, body, idempotencyKey);
      return { statusCode: created ? 201 : 200, body: { ...webhookSubscriptionViewOf(subscription), secret } };
    },
  }),
  defineRoute<WebhookSubscriptionDeps, never, typeof pageQuery>({
    method: 'GET',
    path: '/v1/webhook-subscriptions',
    summary: "The account's webhook subscriptions, oldest first (never their secrets).",
    role: 'admin',
    scope: 'account',
    query: pageQuery,
    response: { status: 200, schema: webhookSubscriptionPage },
    handle: async ({ accountId, query, deps }) => {
      const page = await listWebhookSubscriptions(deps, accountId, { limit: query.limit, cursor: query.cursor });
      return { statusCode: 200, body: { items: page.items.map(webhookSubscriptionViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<WebhookSubscriptionDeps, never, never, typeof webhookSubscriptionParams>({
    method: 'DELETE',
    path: '/v1/webhook-subscriptions/{id}',
    summary: 'Delete a webhook subscription: nothing more is delivered to it.',
    role: 'admin',
    scope: 'account',
    params: webhookSubscriptionParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps }) => {
      await deleteWebhookSubscription(deps, accountId, params.id);
      return { statusCode: 204 };
    },
  }),
  defineRoute<WebhookSubscriptionDeps, never, typeof webhookDeliveriesQuery, typeof webhookSubscriptionParams>({
    method: 'GET',
    path: '/v1/webhook-subscriptions/{id}/deliveries',
    summary: "The subscription's deliveries, newest first, optionally of one status (pending, delivered, failed).",
    role: 'admin',
    scope: 'account',
    params: webhookSubscriptionParams,
    query: webhookDeliveriesQuery,
    response: { status: 200, schema: webhookDeliveryPage },
    handle: async ({ accountId, params, query, deps }) => {
      const page = await listWebhookDeliveries(deps, accountId, params.id, query.status, { limit: query.limit, cursor: query.cursor });
      return { statusCode: 200, body: { items: page.items.map(webhookDeliveryViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<WebhookSubscriptionDeps, never, never, typeof webhookDeliveryParams>({
    method: 'POST',
    path: '/v1/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver',
    summary: 'Send a delivery again (same X-Webhook-Id and eventId, attempts reset): 202 with the delivery.',
    role: 'admin',
    scope: 'account',
    params: webhookDeliveryParams,
    response: { status: 202, schema: webhookDeliveryView },
    handle: async ({ accountId, params, deps }) => {
      const delivery = await redeliverWebhook(deps, { accountId, subscriptionId: params.id, deliveryId: params.deliveryId });
      return { statusCode: 202, body: webhookDeliveryViewOf(delivery) };
    },
  }),
];
