/**
 * Broadcasts' model and ports (the use cases: `broadcasts.ts` for the API,
 * `broadcast-consumer.ts` for the bus, `sender.ts` for the send queue).
 *
 * Counting (each recipient once per stage, whatever the order or repeats):
 * - a recipient's state item holds its send state (`sending` → `sent` |
 *   `failed`) and its delivery rank (sent 1 < delivered 2 < read 3); every
 *   change is a conditional write on that item in the same transaction as the
 *   counter increments, so a repeated or late status changes nothing;
 * - a stage skipped by Meta is counted by the later one: a `read` that comes
 *   first counts delivered and read;
 * - `failed` after the send (Meta's `failed` status) moves the recipient from
 *   sent to failed and refunds its price; at completion
 *   `sent + failed = recipients` and `read ≤ delivered ≤ sent`. A `failed`
 *   for a message already delivered is an anomaly and is ignored;
 * - a reply (an inbound message whose `context.id` is the broadcast message's
 *   wamid) counts `replied` once per recipient, and nothing else: people who
 *   turned read receipts off still reply;
 * - the counters live in one item per chunk (summed on read), so the status
 *   traffic of a big broadcast never queues on one hot item.
 *
 * Opt-outs: a recipient of a MARKETING template who stopped marketing
 * messages from the number (`marketing-preferences.ts`) is `skipped` before
 * the round is planned (conditional put, like a failure without a send): never
 * sent, never priced, counted once as `skippedOptOut` (and `done`), so at
 * completion `sent + failed + skippedOptOut = recipients`.
 *
 * Status: `queued` until a sender starts it, `sending`, then `completed` once
 * every recipient is sent, failed or skipped (computed from the counters).
 */
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import type { MarketingPreferenceStore } from './marketing-preferences.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository, Clock, EventPublisher, Page, PageRequest } from './ports.js';
import type { TemplateRepository } from './template-ports.js';

// --------------------------------------------------------------------- model

export interface BroadcastRecord {
  accountId: string;
  broadcastId: string;
  whatsapp_phno: string;
  /** The sending number's Graph id when the broadcast was made: a number replaced meanwhile does not send it. */
  phoneNumberId: string;
  template: { name: string; language: string; category: string };
  recipients: number;
  chunkCount: number;
  status: 'queued' | 'sending';
  createdAt: string;
  startedAt?: string;
  enqueuedAt?: string;
}

/** Why a recipient did not get the message. */
export type FailureReason =
  | 'insufficient_credits'
  | 'number_disconnected'
  | 'rejected'
  | 'throttled'
  | 'whatsapp_unavailable'
  | 'send_outcome_unknown'
  | 'meta_failed';

/** The chunk counters of a broadcast, summed. */
export interface BroadcastTally {
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  replied: number;
  /** Recipients whose send is over (sent, failed by the sender, or skipped). */
  done: number;
  creditsSpentMicros: number;
  failedReasons: Record<string, number>;
  /** Recipients skipped, never sent nor charged: they opted out of marketing messages from the number. */
  skippedOptOut: number;
  /** Recipients waiting for the messaging limit (summed over the chunks' current rounds). */
  deferred: number;
  /** The earliest time a chunk with deferred recipients is tried again. */
  resumesAt?: string;
}

export type RecipientSendStatus = 'sending' | 'sent' | 'failed' | 'skipped';

/** Why a recipient was skipped (`status: 'skipped'`): never sent, never priced. */
export type SkipReason = 'opted_out';

/** Delivery rank: only moves up. */
export const STAGE_RANK = { sent: 1, delivered: 2, read: 3 } as const;

export interface RecipientState {
  waId: string;
  chunk: number;
  status: RecipientSendStatus;
  rank: number;
  priceMicros: number;
  /** Its price was taken from the chunk's reservation (sent, or sent-maybe when the outcome is unknown). */
  charged: boolean;
  /** The billing period its price counts in. */
  period: string;
  claimedAt: string;
  wamid?: string;
  reason?: FailureReason | SkipReason;
  repliedAt?: string;
}

/** Where a broadcast message's wamid leads. */
export interface BroadcastMessageRef {
  accountId: string;
  broadcastId: string;
  whatsapp_phno: string;
  waId: string;
  chunk: number;
  wamid: string;
}

// --------------------------------------------------------------------- ports

export interface BroadcastRepository {
  /** Stores the chunks, then the broadcast (the commit point); `created: false` when it exists. */
  create(broadcast: BroadcastRecord, chunks: string[][]): Promise<{ created: boolean }>;
  get(accountId: string, broadcastId: string): Promise<BroadcastRecord | undefined>;
  /** Newest first; one number's when `whatsappPhno` is given. */
  list(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<BroadcastRecord>>;
  tally(broadcastId: string): Promise<BroadcastTally>;
  markEnqueued(accountId: string, broadcastId: string, at: string): Promise<void>;
  /** Sets how many of a chunk's recipients wait for the messaging limit (a round that planned nothing clears it). */
  setDeferred(broadcastId: string, chunk: number, count: number, resumesAt?: string): Promise<void>;
  /** `queued` → `sending`; nothing when already sending. */
  markSending(accountId: string, broadcastId: string, at: string): Promise<void>;
  chunkRecipients(broadcastId: string, chunk: number): Promise<string[] | undefined>;
  /** The states that exist (absent = pending), read strongly consistent. */
  recipientStates(broadcastId: string, waIds: string[]): Promise<Map<string, RecipientState>>;
  /** pending → `sending`, written before the send: `true` when this caller may send. */
  claimRecipient(broadcastId: string, claim: { waId: string; chunk: number; priceMicros: number; period: string; claimedAt: string }): Promise<boolean>;
  /** `sending` → pending again, only for the claim made at `claimedAt`: Meta did not take the message, a later run sends it. `false` when it was not that claim. */
  releaseRecipient(broadcastId: string, claim: { waId: string; claimedAt: string }): Promise<boolean>;
  /** `sending` → `sent`, with the wamid pointer and the chunk's counters, in one transaction. */
  recordSent(broadcast: BroadcastRecord, sent: { waId: string; chunk: number; wamid: string; priceMicros: number; at: string }): Promise<void>;
  /** `sending` → `failed` (`chargedMicros` > 0 only when the message may have gone out). `false` when it was not `sending`. */
  recordSendFailed(broadcastId: string, failed: { waId: string; chunk: number; reason: FailureReason; detail?: string; chargedMicros: number; at: string }): Promise<boolean>;
  /**
   * pending → `failed` without a send, in batches with the chunk's counters.
   * With `unlessReservation`, only while that reservation does not exist
   * (answers `reservation-exists` otherwise): a concurrent run of the same
   * chunk that did find credits wins.
   */
  failUnsent(
    broadcastId: string,
    chunk: number,
    waIds: string[],
    reason: FailureReason,
    at: string,
    unlessReservation?: { accountId: string; reservationId: string },
  ): Promise<number | 'reservation-exists'>;
  /** pending → `skipped` (never sent, never priced), in batches with the chunk's `skippedOptOut` and `done`: answers how many this call skipped. */
  skipUnsent(broadcastId: string, chunk: number, waIds: string[], reason: SkipReason, at: string): Promise<number>;
  pointer(wamid: string): Promise<BroadcastMessageRef | undefined>;
  /** A delivery stage: rank `from` → `to` with the counters of the stages passed. `false` when the state moved meanwhile. */
  advanceStage(ref: BroadcastMessageRef, from: number, to: number, at: string): Promise<boolean>;
  /** Meta reported the sent message failed: `sent` → `failed`, its price refunded to the pool and the number. `false` when the state moved meanwhile. */
  failAfterSend(ref: BroadcastMessageRef, state: RecipientState, failure: { metaCode?: string; at: string }): Promise<boolean>;
  /** Counts a reply once per recipient: `false` when already counted. */
  recordReply(ref: BroadcastMessageRef, at: string): Promise<boolean>;
}

/** The send queue (SQS in AWS, in-process locally): one message per chunk. */
export interface SendQueue {
  enqueue(messages: SendChunkMessage[]): Promise<void>;
}

export interface BroadcastApiDeps {
  accounts: AccountRepository;
  numbers: Pick<NumberRepository, 'get'>;
  templates: Pick<TemplateRepository, 'get'>;
  broadcasts: BroadcastRepository;
  events: EventPublisher;
  clock: Clock;
  broadcastSettings: { chunkSize: number };
}

export interface BroadcastConsumerDeps {
  broadcasts: BroadcastRepository;
  templates: TemplateRepository;
  /** Kept from `WhatsApp User Preferences Updated`. */
  marketingPreferences: Pick<MarketingPreferenceStore, 'record'>;
  sendQueue: SendQueue;
  clock: Clock;
}

export const DEFAULT_CHUNK_SIZE = 250;
