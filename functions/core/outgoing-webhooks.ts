/**
 * Outgoing webhook subscriptions, the "API/Webhooks" feature of the default
 * number (docs/outgoing-webhooks.md): the API's use cases, the dispatcher
 * (one bus event → one delivery per interested subscription) and one
 * delivery attempt.
 *
 * - Secrets are not stored: a subscription's secret is
 *   `whsec_` + base64url(HMAC-SHA256(master signing key, subscription id)),
 *   derived again for every signature. The master key is a Secrets Manager
 *   secret in AWS (`WEBHOOK_SIGNING_KEY`).
 * - Only the current default number's events are delivered: the dispatcher
 *   reads the account's default marker for every event, so a default
 *   replacement takes effect at once (the webhook's own `isDefaultNumber`
 *   may come from a cached route).
 * - A delivery's id is derived from (subscription, event): a redelivered bus
 *   event makes no second delivery. Its body is stored, so every attempt
 *   sends the same bytes, with the same `X-Webhook-Id`.
 * - Attempts are claimed by a conditional write (round, attempt), so a
 *   duplicate queue message POSTs nothing; a failed attempt queues the next
 *   one with full-jitter exponential backoff before recording its outcome,
 *   so a crash in between loses nothing (the claim goes stale, the message
 *   comes back). After `maxAttempts` the delivery is dead-lettered, then
 *   marked failed.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  MAX_WEBHOOK_SUBSCRIPTIONS,
  type CreateWebhookSubscriptionBody,
  type WebhookDeliveryMessage,
  type WebhookDeliveryStatus,
  type WebhookEventType,
} from '../../schemas/webhook-subscriptions.js';
import { Conflict, IdempotencyKeyReused, NotFound, OutboundRequestFailed, UnsafeUrl, ValidationFailed } from './errors.js';
import { requireFeature } from './features.js';
import type { NumberRepository } from './numbers.js';
import type {
  AttemptOutcome,
  WebhookDeadLetters,
  WebhookDelivery,
  WebhookDeliveryKey,
  WebhookDeliveryQueue,
  WebhookDeliverySettings,
  WebhookDeliveryStore,
  WebhookSubscription,
  WebhookSubscriptionStore,
  WebhookTransport,
} from './outgoing-webhook-ports.js';
import type { Clock, IdGenerator, Page, PageRequest } from './ports.js';

export const WEBHOOK_USER_AGENT = 'whatsapp-multi-number-webhooks/1';

export const DEFAULT_DELIVERY_SETTINGS: WebhookDeliverySettings = {
  maxAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 900_000,
  claimLeaseMs: 60_000,
};

/** A pending delivery untouched this long may be redelivered again (its queue message was lost): past every backoff and lease. */
const STUCK_PENDING_MS = 30 * 60_000;

// ------------------------------------------------------------------ signing

/** The subscription's secret, derived from the master key: nothing secret is stored. */
export function subscriptionSecret(masterKey: string, subscriptionId: string): string {
  return `whsec_${createHmac('sha256', masterKey).update(`webhook-subscription:${subscriptionId}`).digest('base64url')}`;
}

/** `sha256=` + hex HMAC-SHA256(secret, `${timestamp}.${body}`): the `X-Signature-256` header. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The delivery id (and `X-Webhook-Id`): the same for one event and one subscription, whatever retries. */
export function webhookDeliveryId(subscriptionId: string, eventId: string): string {
  return `dlv_${createHash('sha256').update(`${subscriptionId}\n${eventId}`).digest('hex').slice(0, 32)}`;
}

/** The headers of one attempt, signed at its own timestamp. */
export function deliveryHeaders(secret: string, deliveryId: string, timestamp: number, body: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': WEBHOOK_USER_AGENT,
    'X-Webhook-Id': deliveryId,
    'X-Webhook-Timestamp': String(timestamp),
    'X-Signature-256': webhookSignature(secret, timestamp, body),
  };
}

/** Full jitter: uniform in [0, min(max, base · 2^(attempt-1))]. */
export function backoffDelayMs(settings: Pick<WebhookDeliverySettings, 'baseDelayMs' | 'maxDelayMs'>, attempt: number, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

// --------------------------------------------------------------------- deps

export interface WebhookSubscriptionDeps {
  webhookSubscriptions: WebhookSubscriptionStore;
  webhookDeliveries: WebhookDeliveryStore;
  webhookQueue: WebhookDeliveryQueue;
  webhookTransport: WebhookTransport;
  /** The master signing key (Secrets Manager in AWS). */
  webhookSigningKey: () => Promise<string>;
  numbers: Pick<NumberRepository, 'defaultOf' | 'get'>;
  clock: Clock;
  ids: IdGenerator;
}

export type WebhookDispatchDeps = Pick<WebhookSubscriptionDeps, 'webhookSubscriptions' | 'webhookDeliveries' | 'webhookQueue' | 'numbers' | 'clock'>;

export interface WebhookDeliveryDeps extends Pick<WebhookSubscriptionDeps, 'webhookSubscriptions' | 'webhookDeliveries' | 'webhookQueue' | 'webhookTransport' | 'webhookSigningKey' | 'clock'> {
  deadLetters: WebhookDeadLetters;
  settings: WebhookDeliverySettings;
  /** @default Math.random */
  random?: () => number;
}

// ---------------------------------------------------------------- API cases

/**
 * Creates a subscription: the account's default number must offer
 * `apiWebhooks` (a named `whatsapp_phno` must be it), the URL must pass the
 * guard (400 on `body.url`), at most `MAX_WEBHOOK_SUBSCRIPTIONS`. With an
 * `Idempotency-Key` the id is derived from it, so a retry answers the same
 * subscription (and secret) instead of a second one.
 */
export async function createWebhookSubscription(
  deps: WebhookSubscriptionDeps,
  accountId: string,
  body: CreateWebhookSubscriptionBody,
  idempotencyKey: string,
): Promise<{ created: boolean; subscription: WebhookSubscription; secret: string }> {
  const defaultPhno = await deps.numbers.defaultOf(accountId);
  if (!defaultPhno) throw new Conflict('NO_DEFAULT_NUMBER', "Connect a number first: webhooks carry the default number's events.");
  const named = body.whatsapp_phno ?? defaultPhno;
  const number = await deps.numbers.get(accountId, named);
  if (!number) throw new NotFound(`The number ${named}`);
  requireFeature(number, 'apiWebhooks');
  try {
    await deps.webhookTransport.check(body.url);
  } catch (error) {
    if (error instanceof UnsafeUrl) throw new ValidationFailed([{ path: ['body', 'url'], message: `${error.message} (${error.reason})`, code: 'unsafe_url' }]);
    throw error;
  }
  const id = idempotencyKey.startsWith('api:')
    ? `whs_${createHash('sha256').update(`${accountId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}`
    : deps.ids.newId('whs');
  const candidate: WebhookSubscription = { id, accountId, url: body.url, events: body.events, createdAt: deps.clock.now().toISOString() };
  const { created, subscription } = await deps.webhookSubscriptions.create(candidate, MAX_WEBHOOK_SUBSCRIPTIONS);
  if (!created && (subscription.url !== candidate.url || subscription.events.join() !== candidate.events.join())) throw new IdempotencyKeyReused();
  return { created, subscription, secret: subscriptionSecret(await deps.webhookSigningKey(), subscription.id) };
}

export function listWebhookSubscriptions(deps: Pick<WebhookSubscriptionDeps, 'webhookSubscriptions'>, accountId: string, page: PageRequest): Promise<Page<WebhookSubscription>> {
  return deps.webhookSubscriptions.list(accountId, page);
}

/** Deletes a subscription (404 when none): no further delivery is made for it; queued ones end `failed` (`subscription_deleted`). */
export async function deleteWebhookSubscription(deps: Pick<WebhookSubscriptionDeps, 'webhookSubscriptions'>, accountId: string, id: string): Promise<void> {
  if (!(await deps.webhookSubscriptions.delete(accountId, id))) throw new NotFound('The webhook subscription');
}

async function requireSubscription(deps: Pick<WebhookSubscriptionDeps, 'webhookSubscriptions'>, accountId: string, id: string): Promise<WebhookSubscription> {
  const subscription = await deps.webhookSubscriptions.get(accountId, id);
  if (!subscription) throw new NotFound('The webhook subscription');
  return subscription;
}

export async function listWebhookDeliveries(
  deps: Pick<WebhookSubscriptionDeps, 'webhookSubscriptions' | 'webhookDeliveries'>,
  accountId: string,
  subscriptionId: string,
  status: WebhookDeliveryStatus | undefined,
  page: PageRequest,
): Promise<Page<WebhookDelivery>> {
  await requireSubscription(deps, accountId, subscriptionId);
  return deps.webhookDeliveries.listDeliveries(accountId, subscriptionId, status, page);
}

/**
 * Redelivers (202): a new round with attempts reset, the same body, id and
 * `eventId`. The round is opened by a conditional write, so of concurrent
 * clicks one queues a message; the others answer the delivery as it is.
 */
export async function redeliverWebhook(
  deps: Pick<WebhookSubscriptionDeps, 'webhookSubscriptions' | 'webhookDeliveries' | 'webhookQueue' | 'clock'>,
  key: WebhookDeliveryKey,
): Promise<WebhookDelivery> {
  await requireSubscription(deps, key.accountId, key.subscriptionId);
  const now = deps.clock.now();
  const reopened = await deps.webhookDeliveries.reopen(key, now.toISOString(), new Date(now.getTime() - STUCK_PENDING_MS).toISOString());
  if (reopened) {
    await deps.webhookQueue.enqueue(messageOf(reopened, 1), 0);
    return reopened;
  }
  const current = await deps.webhookDeliveries.getDelivery(key);
  if (!current) throw new NotFound('The delivery');
  return current;
}

// ---------------------------------------------------------------- dispatch

export interface PublicWebhookEvent {
  type: WebhookEventType;
  detail: { accountId: string; whatsapp_phno: string; eventId: string; receivedAt: string; occurredAt?: string } & Record<string, unknown>;
}

/** The POST body of an event: built once, stored with the delivery. */
export function webhookPayloadText(event: PublicWebhookEvent): string {
  const { detail } = event;
  return JSON.stringify({
    eventId: detail.eventId,
    type: event.type,
    occurredAt: detail.occurredAt ?? detail.receivedAt,
    whatsapp_phno: detail.whatsapp_phno,
    accountId: detail.accountId,
    data: detail,
  });
}

/**
 * One public bus event of a default number → one delivery per subscription
 * of the account that wants its type, each queued for its first attempt.
 * Events of a number that is not the account's default now are dropped.
 */
export async function dispatchWebhookEvent(deps: WebhookDispatchDeps, event: PublicWebhookEvent): Promise<{ outcome: 'not-default' | 'dispatched'; deliveries: number }> {
  const { accountId, whatsapp_phno: phno, eventId } = event.detail;
  if ((await deps.numbers.defaultOf(accountId)) !== phno) return { outcome: 'not-default', deliveries: 0 };
  const wanted = (await deps.webhookSubscriptions.listAll(accountId)).filter((s) => s.events.includes(event.type));
  if (wanted.length === 0) return { outcome: 'dispatched', deliveries: 0 };
  const body = webhookPayloadText(event);
  const at = deps.clock.now().toISOString();
  let queued = 0;
  for (const subscription of wanted) {
    const candidate: WebhookDelivery = {
      accountId,
      subscriptionId: subscription.id,
      deliveryId: webhookDeliveryId(subscription.id, eventId),
      eventId,
      type: event.type,
      whatsapp_phno: phno,
      body,
      status: 'pending',
      round: 0,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    };
    const { created, delivery } = await deps.webhookDeliveries.createDelivery(candidate);
    // A delivery stored by an earlier run that may have died before queuing: queue again, the attempt claim dedupes.
    if (created || (delivery.status === 'pending' && delivery.round === 0 && delivery.attempts === 0)) {
      await deps.webhookQueue.enqueue(messageOf(delivery, 1), 0);
      if (created) queued++;
    }
  }
  return { outcome: 'dispatched', deliveries: queued };
}

function messageOf(delivery: WebhookDeliveryKey & { round: number }, attempt: number): WebhookDeliveryMessage {
  return { accountId: delivery.accountId, subscriptionId: delivery.subscriptionId, deliveryId: delivery.deliveryId, round: delivery.round, attempt };
}

// ---------------------------------------------------------------- delivery

export type DeliveryOutcome = 'delivered' | 'retry-scheduled' | 'failed' | 'stale' | 'duplicate' | 'missing' | 'subscription-deleted';

/** One attempt of one delivery: claim, sign, POST through the guard, record. */
export async function deliverWebhook(deps: WebhookDeliveryDeps, message: WebhookDeliveryMessage): Promise<DeliveryOutcome> {
  const key: WebhookDeliveryKey = { accountId: message.accountId, subscriptionId: message.subscriptionId, deliveryId: message.deliveryId };
  const delivery = await deps.webhookDeliveries.getDelivery(key);
  if (!delivery) return 'missing';
  if (delivery.status !== 'pending' || delivery.round !== message.round) return 'stale';
  const now = deps.clock.now();
  const at = now.toISOString();
  const staleBefore = new Date(now.getTime() - deps.settings.claimLeaseMs).toISOString();
  if (!(await deps.webhookDeliveries.claimAttempt(key, message.round, message.attempt, at, staleBefore))) return 'duplicate';

  const subscription = await deps.webhookSubscriptions.get(key.accountId, key.subscriptionId);
  if (!subscription) {
    await deps.webhookDeliveries.markFailed(key, message.round, { error: 'subscription_deleted' }, at);
    return 'subscription-deleted';
  }
  const timestamp = Math.floor(now.getTime() / 1000);
  const secret = subscriptionSecret(await deps.webhookSigningKey(), subscription.id);
  const result = await attempt(deps.webhookTransport, subscription.url, delivery.body, deliveryHeaders(secret, delivery.deliveryId, timestamp, delivery.body));
  const doneAt = deps.clock.now().toISOString();
  if (result.delivered) {
    await deps.webhookDeliveries.markDelivered(key, message.round, message.attempt, result.outcome, doneAt);
    return 'delivered';
  }
  if (result.retryable && message.attempt < deps.settings.maxAttempts) {
    const delayMs = backoffDelayMs(deps.settings, message.attempt, deps.random ?? Math.random);
    // Queued first: if recording fails, this message comes back and the claim (gone stale) lets it try again.
    await deps.webhookQueue.enqueue({ ...message, attempt: message.attempt + 1 }, delayMs);
    await deps.webhookDeliveries.recordRetry(key, message.round, message.attempt, result.outcome, new Date(now.getTime() + delayMs).toISOString(), doneAt);
    return 'retry-scheduled';
  }
  // Dead-lettered before it is marked: a crash in between leaves it pending, to be tried again, not lost.
  await deps.deadLetters.deadLetter(message, result.outcome.error ?? 'failed');
  await deps.webhookDeliveries.markFailed(key, message.round, result.outcome, doneAt);
  return 'failed';
}

type AttemptResult = { delivered: boolean; retryable: boolean; outcome: AttemptOutcome };

async function attempt(transport: WebhookTransport, url: string, body: string, headers: Record<string, string>): Promise<AttemptResult> {
  try {
    const { status } = await transport.post(url, body, headers);
    if (status >= 200 && status < 300) return { delivered: true, retryable: false, outcome: { status } };
    return { delivered: false, retryable: true, outcome: { status, error: `http_${status}` } };
  } catch (error) {
    // Refused by the guard (the name now resolves to a private address, say): not tried again, except a name that did not resolve.
    if (error instanceof UnsafeUrl) return { delivered: false, retryable: error.reason === 'unresolvable', outcome: { error: error.reason } };
    if (error instanceof OutboundRequestFailed) {
      const status = error.status ?? undefined;
      // The status line said 2xx; only the (unread) body was over the cap: the receiver took it.
      if (error.reason === 'response_too_large' && status !== undefined && status >= 200 && status < 300) return { delivered: true, retryable: false, outcome: { status } };
      return { delivered: false, retryable: true, outcome: { ...(status !== undefined ? { status } : {}), error: error.reason } };
    }
    throw error;
  }
}
