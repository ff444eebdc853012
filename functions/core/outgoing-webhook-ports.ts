/**
 * Outgoing webhooks (docs/outgoing-webhooks.md): the ports the use cases of
 * `outgoing-webhooks.ts` take. Subscriptions and their deliveries on the
 * table, the delivery queue (SQS with `DelaySeconds` in AWS, in-process
 * locally), its dead letters, the guarded HTTP transport and the master
 * signing key every subscription's secret is derived from.
 */
import type { WebhookDeliveryMessage, WebhookDeliveryStatus, WebhookEventType } from '../../schemas/webhook-subscriptions.js';
import type { Page, PageRequest } from './ports.js';

export interface WebhookSubscription {
  id: string;
  accountId: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
}

/** Where a delivery lives. */
export interface WebhookDeliveryKey {
  accountId: string;
  subscriptionId: string;
  deliveryId: string;
}

export interface WebhookDelivery extends WebhookDeliveryKey {
  eventId: string;
  type: WebhookEventType;
  whatsapp_phno: string;
  /** The exact POST body: every attempt sends these bytes. */
  body: string;
  status: WebhookDeliveryStatus;
  /** 0 at dispatch, +1 per redeliver. */
  round: number;
  /** Attempts claimed in this round. */
  attempts: number;
  /** Set while an attempt is in flight (the claim); removed once its outcome is recorded. */
  claimedAt?: string;
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt?: string;
  deliveredAt?: string;
  failedAt?: string;
}

/** What one attempt came to. */
export interface AttemptOutcome {
  status?: number;
  error?: string;
}

export interface WebhookSubscriptionStore {
  /** Stores a new subscription while the account holds fewer than `limit` (409 `QUOTA_EXCEEDED` otherwise); `created: false` with the stored one when its id exists. */
  create(subscription: WebhookSubscription, limit: number): Promise<{ created: boolean; subscription: WebhookSubscription }>;
  get(accountId: string, id: string): Promise<WebhookSubscription | undefined>;
  /** Oldest first. */
  list(accountId: string, page: PageRequest): Promise<Page<WebhookSubscription>>;
  /** Every subscription of the account (at most the limit): the dispatcher's read. */
  listAll(accountId: string): Promise<WebhookSubscription[]>;
  /** False when there was none. */
  delete(accountId: string, id: string): Promise<boolean>;
}

export interface WebhookDeliveryStore {
  /** Stores the delivery unless one of that id exists: then answers that one (`created: false`). */
  createDelivery(delivery: WebhookDelivery): Promise<{ created: boolean; delivery: WebhookDelivery }>;
  getDelivery(key: WebhookDeliveryKey): Promise<WebhookDelivery | undefined>;
  /** Newest first, of one status or all. */
  listDeliveries(accountId: string, subscriptionId: string, status: WebhookDeliveryStatus | undefined, page: PageRequest): Promise<Page<WebhookDelivery>>;
  /**
   * Claims attempt `attempt` of round `round`: only while pending in that
   * round, and only if no later attempt was claimed, nor this one (unless its
   * claim is older than `staleBefore`: the run that held it crashed).
   */
  claimAttempt(key: WebhookDeliveryKey, round: number, attempt: number, at: string, staleBefore: string): Promise<boolean>;
  /** Records a failed attempt whose next one is queued; conditional on the claim. */
  recordRetry(key: WebhookDeliveryKey, round: number, attempt: number, outcome: AttemptOutcome, nextAttemptAt: string, at: string): Promise<boolean>;
  markDelivered(key: WebhookDeliveryKey, round: number, attempt: number, outcome: AttemptOutcome, at: string): Promise<boolean>;
  /** Ends the round as failed; conditional on the round still pending. */
  markFailed(key: WebhookDeliveryKey, round: number, outcome: AttemptOutcome, at: string): Promise<boolean>;
  /**
   * Starts a new round (redeliver): `pending`, round + 1, attempts 0. Only
   * from `failed` or `delivered`, or from a `pending` left untouched since
   * `staleBefore`; answers the reopened delivery, or undefined when the
   * condition refused (a concurrent redeliver won).
   */
  reopen(key: WebhookDeliveryKey, at: string, staleBefore: string): Promise<WebhookDelivery | undefined>;
}

/** The delivery queue: one message per attempt, delayed by the backoff. */
export interface WebhookDeliveryQueue {
  enqueue(message: WebhookDeliveryMessage, delayMs: number): Promise<void>;
}

/** Where a delivery that exhausted its attempts is kept for operators (the delivery queue's DLQ in AWS). */
export interface WebhookDeadLetters {
  deadLetter(message: WebhookDeliveryMessage, reason: string): Promise<void>;
}

/**
 * The guarded HTTP client (`functions/adapters/http/safe-http.ts`): `check`
 * throws `UnsafeUrl` for a URL that may not be called; `post` checks again,
 * connects to the checked address and throws `UnsafeUrl` or
 * `OutboundRequestFailed`; any other status is answered.
 */
export interface WebhookTransport {
  check(url: string): Promise<void>;
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number }>;
}

/** Delivery settings (`WEBHOOK_*` variables). */
export interface WebhookDeliverySettings {
  /** Attempts per round before the delivery fails and is dead-lettered. */
  maxAttempts: number;
  /** Backoff: attempt n waits a uniform random time in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))] (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A claim older than this is a crashed run's: longer than the delivery function's timeout. */
  claimLeaseMs: number;
}
