/**
 * Broadcasts: one approved template sent from one number to up to 100,000
 * recipients, measured per broadcast and number (docs/quotas.md, rule 6).
 *
 * Flow: the API stores the broadcast and its recipients in chunk items and
 * puts `Broadcast Requested` on the bus (recipients never travel on the bus);
 * the broadcast consumer puts one message per chunk on the send queue; the
 * sender (`sender.ts`) reserves the chunk's credits in one write, sends, and
 * settles. Statuses and replies come back through the bus and move each
 * recipient forward.
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
 * Status: `queued` until a sender starts it, `sending`, then `completed` once
 * every recipient is sent or failed (computed from the counters).
 */
import { createHash } from 'node:crypto';
import type { BroadcastRequested, BroadcastView, SendChunkMessage } from '../../schemas/broadcasts.js';
import { DETAIL_TYPES, SOURCES, type MessageReceived, type MessageStatusUpdated, type TemplateStatusUpdated } from '../../schemas/events.js';
import { requireAccount } from './accounts.js';
import { Conflict, NotFound, ServiceBusy } from './errors.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository, Clock, EventPublisher, Page, PageRequest } from './ports.js';
import { type TemplateRepository, applyTemplateStatusEvent, numberStatusOf } from './templates.js';

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
  /** Recipients whose send is over (sent or failed by the sender). */
  done: number;
  creditsSpentMicros: number;
  failedReasons: Record<string, number>;
}

export type RecipientSendStatus = 'sending' | 'sent' | 'failed';

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
  reason?: FailureReason;
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
  /** `queued` → `sending`; nothing when already sending. */
  markSending(accountId: string, broadcastId: string, at: string): Promise<void>;
  chunkRecipients(broadcastId: string, chunk: number): Promise<string[] | undefined>;
  /** The states that exist (absent = pending), read strongly consistent. */
  recipientStates(broadcastId: string, waIds: string[]): Promise<Map<string, RecipientState>>;
  /** pending → `sending`, written before the send: `true` when this caller may send. */
  claimRecipient(broadcastId: string, claim: { waId: string; chunk: number; priceMicros: number; period: string; claimedAt: string }): Promise<boolean>;
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
  sendQueue: SendQueue;
  clock: Clock;
}

/** A status of a broadcast message that arrived before the sender recorded the send: retried later. */
export class BroadcastSendNotRecorded extends Error {
  readonly retryable = true;
  constructor(wamid: string) {
    super(`The send of ${wamid} is not recorded yet; retry.`);
    this.name = 'BroadcastSendNotRecorded';
  }
}

export const DEFAULT_CHUNK_SIZE = 250;

// ------------------------------------------------------------- API use cases

export interface BroadcastInput {
  whatsapp_phno: string;
  template: { name: string; language: string };
  /** Normalised and de-duplicated. */
  recipients: string[];
}

/**
 * Accepts a broadcast: the template must be APPROVED on that number. The id
 * is derived from the request's idempotency key, so a retry after a failure
 * (the bus refused the event) finds the same broadcast and publishes again.
 */
export async function createBroadcast(deps: BroadcastApiDeps, accountId: string, input: BroadcastInput, idempotencyKey: string): Promise<{ broadcastId: string }> {
  await requireAccount(deps, accountId);
  const number = await deps.numbers.get(accountId, input.whatsapp_phno);
  if (!number) throw new NotFound(`The number ${input.whatsapp_phno}`);
  const template = await deps.templates.get({ accountId, ...input.template });
  const status = template ? numberStatusOf(template, number) : undefined;
  if (!template || status !== 'APPROVED') {
    throw new Conflict(
      'TEMPLATE_NOT_APPROVED',
      `The template ${input.template.name} (${input.template.language}) is not approved on ${input.whatsapp_phno}${status ? ` (it is ${status})` : ' (it was never submitted)'}.`,
      { whatsapp_phno: input.whatsapp_phno, template: input.template, status: status ?? null },
    );
  }
  const broadcastId = broadcastIdFor(accountId, idempotencyKey);
  const chunkSize = deps.broadcastSettings.chunkSize;
  const chunks: string[][] = [];
  for (let i = 0; i < input.recipients.length; i += chunkSize) chunks.push(input.recipients.slice(i, i + chunkSize));
  await deps.broadcasts.create(
    {
      accountId,
      broadcastId,
      whatsapp_phno: number.whatsapp_phno,
      phoneNumberId: number.phoneNumberId,
      template: { ...input.template, category: template.category },
      recipients: input.recipients.length,
      chunkCount: chunks.length,
      status: 'queued',
      createdAt: deps.clock.now().toISOString(),
    },
    chunks,
  );
  const detail: BroadcastRequested = {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    eventId: `brq:${broadcastId}`,
    broadcastId,
    chunkCount: chunks.length,
  };
  await deps.events.publish([{ source: SOURCES.api, 'detail-type': DETAIL_TYPES.broadcastRequested, detail }]);
  return { broadcastId };
}

export async function getBroadcast(deps: Pick<BroadcastApiDeps, 'accounts' | 'broadcasts'>, accountId: string, broadcastId: string): Promise<BroadcastView> {
  await requireAccount(deps, accountId);
  const broadcast = await deps.broadcasts.get(accountId, broadcastId);
  if (!broadcast) throw new NotFound('The broadcast');
  return toBroadcastView(broadcast, await deps.broadcasts.tally(broadcastId));
}

export async function listBroadcasts(
  deps: Pick<BroadcastApiDeps, 'accounts' | 'broadcasts'>,
  accountId: string,
  filter: { whatsappPhno?: string },
  page: PageRequest,
): Promise<Page<BroadcastView>> {
  await requireAccount(deps, accountId);
  const { items, nextCursor } = await deps.broadcasts.list(accountId, filter, page);
  const views = await Promise.all(items.map(async (b) => toBroadcastView(b, await deps.broadcasts.tally(b.broadcastId))));
  return { items: views, nextCursor };
}

export function toBroadcastView(broadcast: BroadcastRecord, tally: BroadcastTally): BroadcastView {
  return {
    broadcastId: broadcast.broadcastId,
    whatsapp_phno: broadcast.whatsapp_phno,
    template: broadcast.template,
    status: tally.done >= broadcast.recipients ? 'completed' : broadcast.status,
    counts: {
      recipients: broadcast.recipients,
      sent: tally.sent,
      delivered: tally.delivered,
      read: tally.read,
      failed: tally.failed,
      replied: tally.replied,
    },
    creditsSpentMicros: tally.creditsSpentMicros,
    failedReasons: tally.failedReasons,
    createdAt: broadcast.createdAt,
  };
}

/** `brd_` + 24 hex digits of a hash of the account and the request's idempotency key. */
export function broadcastIdFor(accountId: string, idempotencyKey: string): string {
  return `brd_${createHash('sha256').update(`${accountId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}`;
}

// ------------------------------------------------------- consumer use cases

/** Puts one message per chunk on the send queue, once per broadcast (a redelivered event only repeats harmless work). */
export async function enqueueBroadcastChunks(deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'sendQueue' | 'clock'>, detail: BroadcastRequested): Promise<'enqueued' | 'duplicate' | 'unknown'> {
  const broadcast = await deps.broadcasts.get(detail.accountId, detail.broadcastId);
  if (!broadcast) return 'unknown';
  if (broadcast.enqueuedAt) return 'duplicate';
  const messages = Array.from({ length: broadcast.chunkCount }, (_, chunk) => ({ accountId: detail.accountId, broadcastId: detail.broadcastId, chunk }));
  // Enqueue first, mark after: a crash in between enqueues again (the sender is idempotent), never loses a chunk.
  await deps.sendQueue.enqueue(messages);
  await deps.broadcasts.markEnqueued(detail.accountId, detail.broadcastId, deps.clock.now().toISOString());
  return 'enqueued';
}

const MAX_STATUS_ATTEMPTS = 8;

/** A status of a broadcast message: moves its recipient forward and counts it once. */
export async function applyBroadcastStatus(
  deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'clock'>,
  detail: Pick<MessageStatusUpdated, 'accountId' | 'broadcastId' | 'status'>,
): Promise<'applied' | 'ignored'> {
  const status = detail.status.status;
  const target = status === 'failed' ? 'failed' : STAGE_RANK[status as keyof typeof STAGE_RANK];
  if (target === undefined) return 'ignored';
  const wamid = detail.status.id;
  const ref = await deps.broadcasts.pointer(wamid);
  if (!ref) {
    // Either not ours, or the sender has not recorded the send yet (Meta can be faster than our write).
    const broadcast = detail.broadcastId ? await deps.broadcasts.get(detail.accountId, detail.broadcastId) : undefined;
    if (!broadcast) return 'ignored';
    throw new BroadcastSendNotRecorded(wamid);
  }
  if (ref.accountId !== detail.accountId) return 'ignored';
  const at = deps.clock.now().toISOString();
  for (let attempt = 1; attempt <= MAX_STATUS_ATTEMPTS; attempt++) {
    const state = (await deps.broadcasts.recipientStates(ref.broadcastId, [ref.waId])).get(ref.waId);
    if (!state || state.status === 'sending') throw new BroadcastSendNotRecorded(wamid);
    if (state.status === 'failed' || state.wamid !== wamid) return 'ignored';
    if (target === 'failed') {
      if (state.rank >= STAGE_RANK.delivered) return 'ignored';
      const metaCode = detail.status.errors?.[0]?.code;
      if (await deps.broadcasts.failAfterSend(ref, state, { ...(metaCode !== undefined ? { metaCode: String(metaCode) } : {}), at })) return 'applied';
      continue;
    }
    if (target <= state.rank) return 'ignored';
    if (await deps.broadcasts.advanceStage(ref, state.rank, target, at)) return 'applied';
  }
  throw new ServiceBusy('The recipient kept changing; retry.');
}

/** An inbound message quoting a broadcast message: counts `replied` once per recipient. */
export async function applyBroadcastReply(
  deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'clock'>,
  detail: Pick<MessageReceived, 'accountId' | 'message'>,
): Promise<'applied' | 'ignored'> {
  const contextId = detail.message.context?.id;
  if (!contextId) return 'ignored';
  const ref = await deps.broadcasts.pointer(contextId);
  if (!ref || ref.accountId !== detail.accountId) return 'ignored';
  return (await deps.broadcasts.recordReply(ref, deps.clock.now().toISOString())) ? 'applied' : 'ignored';
}

/** What one record of the `broadcast` rule asks. */
export type BroadcastEvent =
  | { kind: 'requested'; detail: BroadcastRequested }
  | { kind: 'status'; detail: MessageStatusUpdated }
  | { kind: 'reply'; detail: MessageReceived }
  | { kind: 'template'; detail: TemplateStatusUpdated }
  | { kind: 'ignored'; detailType: string };

/** The broadcast consumer: chunk fan-out, metrics from statuses and replies, template statuses. */
export async function processBroadcastEvent(deps: BroadcastConsumerDeps, event: BroadcastEvent): Promise<string> {
  switch (event.kind) {
    case 'requested':
      return enqueueBroadcastChunks(deps, event.detail);
    case 'status':
      return applyBroadcastStatus(deps, event.detail);
    case 'reply':
      return applyBroadcastReply(deps, event.detail);
    case 'template':
      return applyTemplateStatusEvent(deps, event.detail);
    case 'ignored':
      return 'ignored';
  }
}
