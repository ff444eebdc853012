/**
 * The broadcast sender: processes one chunk of one broadcast (a send-queue
 * message). The queue delivers at least once and may deliver the same chunk
 * twice at once; the chunk still sends and charges once:
 *
 * 1. **Reserve** the chunk's price in ONE conditional write (pool balance and
 *    the number's cap in the same transaction), keyed by the chunk. When the
 *    pool or the cap cannot pay for every recipient, the largest affordable
 *    prefix is reserved (decided from the balance read; the condition still
 *    decides) and the rest fail as `insufficient_credits`. A second run finds
 *    the reservation and sends only what it covers.
 * 2. **Send** each covered recipient at most once: its state item goes from
 *    absent (pending) to `sending` by a conditional write BEFORE the send, so
 *    only one run ever sends to it; then `sent` (with the wamid) or `failed`.
 *    Paced to the number's throughput; WhatsApp throttling (130429 for the
 *    number, 131056 for the recipient) backs off and retries a bounded number
 *    of times, then the recipient fails as `throttled` (nothing was sent).
 * 3. **Settle** once every covered recipient is over: what was reserved and
 *    not spent goes back to the pool and the number, in one write.
 *
 * At most once, by choice: a recipient left `sending` by a crash is never
 * re-sent, because we cannot know whether Meta got it. Once it is older than
 * `staleSendingSeconds` it is settled as failed (`send_outcome_unknown`) and
 * its price is kept: the pool is never overspent, at worst a message that did
 * not go out is paid for.
 */
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import { DETAIL_TYPES, SOURCES } from '../../schemas/events.js';
import type { BroadcastRecord, BroadcastRepository, FailureReason, RecipientState } from './broadcasts.js';
import { AppError, Conflict, IdempotencyKeyReused, QuotaExceeded, ServiceBusy, WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from './errors.js';
import type { MessageSender } from './messaging.js';
import type { NumberRepository } from './numbers.js';
import { billingPeriod } from './plan.js';
import type { AccountRepository, Clock, CreditReservation, EventPublisher, QuotaOutcome, ReserveCredits, SettleReservation } from './ports.js';
import { type RateCard, affordablePrefix, priceOf, pricedCategory } from './pricing.js';

// --------------------------------------------------------------------- ports

/** The credit pool as the sender uses it (`DynamoQuotaStore`). */
export interface CreditPool {
  balance(accountId: string): Promise<number>;
  numberSpend(accountId: string, period: string, whatsappPhno: string): Promise<number>;
  reservation(accountId: string, reservationId: string): Promise<CreditReservation | undefined>;
  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome>;
  settleReservation(change: SettleReservation): Promise<QuotaOutcome>;
  markCreditsLow(accountId: string, thresholdMicros: number, at: string): Promise<{ flagged: boolean; balanceMicros?: number }>;
  unmarkCreditsLow(accountId: string, at: string): Promise<void>;
}

export interface SenderSettings {
  /** Messages per second at most (the number's throughput share of this invocation). */
  throughputPerSecond: number;
  /** Sends in flight at once; by default enough to reach the rate at ~200 ms per Graph call. */
  concurrency?: number;
  maxThrottleRetries: number;
  /** First wait after a throttle; doubles per retry, capped at 30 s. */
  throttleBackoffMs?: number;
  staleSendingSeconds: number;
  creditsLowThresholdMicros: number;
}

export interface SenderDeps {
  accounts: Pick<AccountRepository, 'get'>;
  numbers: Pick<NumberRepository, 'get'>;
  broadcasts: BroadcastRepository;
  credits: CreditPool;
  messaging: Pick<MessageSender, 'sendTemplate'>;
  events: EventPublisher;
  clock: Clock;
  rateCard: RateCard;
  settings: SenderSettings;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

/** Another run of the same chunk is still sending some of its recipients: retry the message later. */
export class ChunkInFlight extends Error {
  readonly retryable = true;
  constructor(broadcastId: string, chunk: number, inFlight: number) {
    super(`${inFlight} recipients of ${broadcastId} chunk ${chunk} are being sent by another run; retry later.`);
    this.name = 'ChunkInFlight';
  }
}

export interface ChunkOutcome {
  outcome: 'processed' | 'already-settled' | 'unknown-broadcast';
  sent: number;
  failed: number;
  reservedMicros: number;
  usedMicros: number;
  creditsLow?: 'published' | 'publish-failed';
}

// ----------------------------------------------------------------- use case

const MAX_RESERVE_ATTEMPTS = 8;

export async function processChunk(deps: SenderDeps, message: SendChunkMessage): Promise<ChunkOutcome> {
  const { accountId, broadcastId, chunk } = message;
  const none: ChunkOutcome = { outcome: 'unknown-broadcast', sent: 0, failed: 0, reservedMicros: 0, usedMicros: 0 };
  const [broadcast, recipients, account] = await Promise.all([
    deps.broadcasts.get(accountId, broadcastId),
    deps.broadcasts.chunkRecipients(broadcastId, chunk),
    deps.accounts.get(accountId),
  ]);
  if (!broadcast || !recipients || !account) return none;
  const reservationId = `${broadcastId}#${chunk}`;
  let reservation = await deps.credits.reservation(accountId, reservationId);
  if (reservation?.status === 'settled') return { ...none, outcome: 'already-settled' };

  await deps.broadcasts.markSending(accountId, broadcastId, deps.clock.now().toISOString());
  const ctx: ChunkContext = {
    deps,
    broadcast,
    chunk,
    reservationId,
    period: billingPeriod(account.billingAnchor, deps.clock.now()).key,
    price: (waId) => priceOf(deps.rateCard, pricedCategory(broadcast.template.category), waId),
    result: { outcome: 'processed', sent: 0, failed: 0, reservedMicros: 0, usedMicros: 0 },
  };
  const number = await deps.numbers.get(accountId, broadcast.whatsapp_phno);
  // A number disconnected (or replaced by another Graph id) since the broadcast was made sends nothing more.
  const sendable = number !== undefined && number.phoneNumberId === broadcast.phoneNumberId;
  let states = await deps.broadcasts.recipientStates(broadcastId, recipients);

  if (!reservation && sendable) {
    const pending = recipients.filter((waId) => !states.has(waId));
    if (pending.length > 0) reservation = await reserve(ctx, pending, number.creditCapMicros);
  }
  const covered = reservation ? coveredBy(reservation) : [];
  const coveredSet = new Set(covered);

  // Everyone the reservation does not pay for fails without a send.
  const unpaid = recipients.filter((waId) => !coveredSet.has(waId) && !states.has(waId));
  if (unpaid.length > 0) {
    const reason: FailureReason = sendable ? 'insufficient_credits' : 'number_disconnected';
    const guard = reservation ? undefined : { accountId, reservationId };
    const failed = await deps.broadcasts.failUnsent(broadcastId, chunk, unpaid, reason, now(deps), guard);
    if (failed === 'reservation-exists') {
      // A concurrent run of this chunk found credits after all: start over with its reservation.
      return processChunk(deps, message);
    }
    ctx.result.failed += failed;
  }

  const toSend = covered.filter((waId) => !states.has(waId));
  if (sendable) {
    await sendAll(ctx, toSend);
  } else if (toSend.length > 0) {
    ctx.result.failed += asCount(await deps.broadcasts.failUnsent(broadcastId, chunk, toSend, 'number_disconnected', now(deps)));
  }

  if (reservation) {
    states = await deps.broadcasts.recipientStates(broadcastId, covered);
    await settle(ctx, reservation, covered, states);
  }
  return ctx.result;
}

// ------------------------------------------------------------------ steps

interface ChunkContext {
  deps: SenderDeps;
  broadcast: BroadcastRecord;
  chunk: number;
  reservationId: string;
  period: string;
  price: (waId: string) => number;
  result: ChunkOutcome;
}

/**
 * Reserves the largest prefix of `pending` the pool and the number's cap can
 * pay for. The balance read decides the size; the conditional write decides
 * whether it still fits (another number may have spent meanwhile): when it no
 * longer does, read and decide again.
 */
async function reserve(ctx: ChunkContext, pending: string[], capMicros: number | null): Promise<CreditReservation | undefined> {
  const { deps, broadcast, reservationId } = ctx;
  const { accountId, whatsapp_phno: whatsappPhno } = broadcast;
  const prices = pending.map(ctx.price);
  for (let attempt = 1; attempt <= MAX_RESERVE_ATTEMPTS; attempt++) {
    const [balance, spent] = await Promise.all([
      deps.credits.balance(accountId),
      capMicros === null ? Promise.resolve(0) : deps.credits.numberSpend(accountId, ctx.period, whatsappPhno),
    ]);
    const affordable = Math.min(balance, capMicros === null ? Number.MAX_SAFE_INTEGER : Math.max(0, capMicros - spent));
    const { count, amountMicros } = affordablePrefix(prices, affordable);
    if (count === 0) {
      await tellIfCreditsLow(ctx, balance);
      // Nothing affordable, unless a concurrent run of this chunk reserved meanwhile.
      return deps.credits.reservation(accountId, reservationId);
    }
    try {
      await deps.credits.reserveCredits({
        accountId,
        reservationId,
        amountMicros,
        idempotencyKey: `reserve:${reservationId}`,
        reason: 'broadcast:reserve',
        whatsappPhno,
        refId: broadcast.broadcastId,
        spend: { period: ctx.period, capMicros },
        attributes: { broadcastId: broadcast.broadcastId, chunk: ctx.chunk, recipients: pending.slice(0, count) },
      });
      await tellIfCreditsLow(ctx, balance - amountMicros);
    } catch (error) {
      if (error instanceof QuotaExceeded) continue;
      // A concurrent run of this chunk reserved first (its amount may differ): use its reservation.
      const raced = error instanceof IdempotencyKeyReused || (error instanceof Conflict && error.code === 'RESERVATION_EXISTS');
      if (!raced) throw error;
    }
    const stored = await deps.credits.reservation(accountId, reservationId);
    if (stored) return stored;
  }
  throw new ServiceBusy('The credit pool kept changing while reserving; retry.');
}

function coveredBy(reservation: CreditReservation): string[] {
  const recipients = reservation.attributes.recipients;
  return Array.isArray(recipients) ? (recipients as string[]) : [];
}

/** Sends to each recipient once, paced, a few at a time. */
async function sendAll(ctx: ChunkContext, waIds: string[]): Promise<void> {
  const { settings } = ctx.deps;
  const pacer = new SendPacer(settings.throughputPerSecond, sleeper(ctx.deps));
  const concurrency = settings.concurrency ?? Math.max(1, Math.min(32, Math.ceil(settings.throughputPerSecond / 5)));
  await forEachConcurrently(waIds, concurrency, (waId) => sendOne(ctx, pacer, waId));
}

async function sendOne(ctx: ChunkContext, pacer: SendPacer, waId: string): Promise<void> {
  const { deps, broadcast, chunk } = ctx;
  const priceMicros = ctx.price(waId);
  const claimed = await deps.broadcasts.claimRecipient(broadcast.broadcastId, { waId, chunk, priceMicros, period: ctx.period, claimedAt: now(deps) });
  if (!claimed) return;
  const maxRetries = deps.settings.maxThrottleRetries;
  for (let attempt = 0; ; attempt++) {
    await pacer.take();
    let wamid: string;
    try {
      wamid = (
        await deps.messaging.sendTemplate({
          phoneNumberId: broadcast.phoneNumberId,
          to: waId,
          template: { name: broadcast.template.name, language: broadcast.template.language },
          bizOpaqueCallbackData: `bc:${broadcast.broadcastId}`,
        })
      ).wamid;
    } catch (error) {
      if (error instanceof WhatsAppThrottled && attempt < maxRetries) {
        const wait = Math.min(30_000, (deps.settings.throttleBackoffMs ?? 1_000) * 2 ** attempt);
        // 131056 limits this recipient only; anything else (130429) the whole number.
        if (error.details.metaCode === 131056) await sleeper(deps)(wait);
        else pacer.pause(wait);
        continue;
      }
      const failure = failureOf(error);
      if (!failure) throw error;
      await deps.broadcasts.recordSendFailed(broadcast.broadcastId, { waId, chunk, ...failure, chargedMicros: 0, at: now(deps) });
      ctx.result.failed++;
      return;
    }
    // Sent: from here on a failure to record must not look like a failed send (the chunk is retried; the recipient stays `sending`).
    await deps.broadcasts.recordSent(broadcast, { waId, chunk, wamid, priceMicros, at: now(deps) });
    ctx.result.sent++;
    return;
  }
}

/** What a send error means for the recipient; `undefined` for errors that are not WhatsApp's answer. */
function failureOf(error: unknown): { reason: FailureReason; detail?: string } | undefined {
  if (error instanceof WhatsAppThrottled) return { reason: 'throttled', detail: String(error.details.metaCode) };
  if (error instanceof WhatsAppRejected) return { reason: 'rejected', detail: `${error.details.metaCode ?? ''} ${error.details.metaMessage}`.trim() };
  if (error instanceof WindowClosed) return { reason: 'rejected', detail: 'window closed' };
  // After the client's own retries: not accepted. At most once: we do not try again.
  if (error instanceof WhatsAppUnavailable) return { reason: 'whatsapp_unavailable' };
  if (error instanceof AppError && error.statusCode < 500) return { reason: 'rejected', detail: error.message };
  return undefined;
}

/** Gives back what the chunk reserved and did not spend, once every covered recipient is over. */
async function settle(ctx: ChunkContext, reservation: CreditReservation, covered: string[], states: Map<string, RecipientState>): Promise<void> {
  const { deps, broadcast, chunk } = ctx;
  const staleBefore = deps.clock.now().getTime() - deps.settings.staleSendingSeconds * 1000;
  let inFlight = 0;
  let usedMicros = 0;
  for (const waId of covered) {
    const state = states.get(waId);
    if (!state) {
      inFlight++;
      continue;
    }
    if (state.status === 'sending') {
      if (Date.parse(state.claimedAt) > staleBefore) {
        inFlight++;
        continue;
      }
      // Left by a crashed run: never re-sent; its price is kept (the message may have gone out).
      const marked = await deps.broadcasts.recordSendFailed(broadcast.broadcastId, {
        waId,
        chunk,
        reason: 'send_outcome_unknown',
        chargedMicros: state.priceMicros,
        at: now(deps),
      });
      if (marked) ctx.result.failed++;
      usedMicros += state.priceMicros;
      continue;
    }
    if (state.charged) usedMicros += state.priceMicros;
  }
  if (inFlight > 0) throw new ChunkInFlight(broadcast.broadcastId, chunk, inFlight);
  try {
    await deps.credits.settleReservation({
      accountId: broadcast.accountId,
      reservationId: ctx.reservationId,
      usedMicros,
      idempotencyKey: `settle:${ctx.reservationId}`,
      reason: 'broadcast:settle',
      whatsappPhno: broadcast.whatsapp_phno,
      refId: broadcast.broadcastId,
    });
  } catch (error) {
    // A concurrent run settled it first, with the same states.
    if (!(error instanceof Conflict && error.code === 'RESERVATION_SETTLED')) throw error;
  }
  ctx.result.reservedMicros = reservation.amountMicros;
  ctx.result.usedMicros = usedMicros;
}

/** Publishes `Credits Low` once when the balance is under the threshold (a conditional flag on the pool says "once"). */
async function tellIfCreditsLow(ctx: ChunkContext, balanceAfter: number): Promise<void> {
  const { deps, broadcast } = ctx;
  const threshold = deps.settings.creditsLowThresholdMicros;
  if (balanceAfter >= threshold) return;
  const at = now(deps);
  const { flagged, balanceMicros } = await deps.credits.markCreditsLow(broadcast.accountId, threshold, at);
  if (!flagged) return;
  try {
    await deps.events.publish([
      {
        source: SOURCES.api,
        'detail-type': DETAIL_TYPES.creditsLow,
        detail: {
          accountId: broadcast.accountId,
          whatsapp_phno: broadcast.whatsapp_phno,
          eventId: `credits-low:${broadcast.accountId}:${at}`,
          balanceMicros: balanceMicros ?? balanceAfter,
          thresholdMicros: threshold,
        },
      },
    ]);
    ctx.result.creditsLow = 'published';
  } catch {
    // Not told: take the flag back so the next debit tells. Sending goes on; the handler logs the outcome.
    await deps.credits.unmarkCreditsLow(broadcast.accountId, at);
    ctx.result.creditsLow = 'publish-failed';
  }
}

// ------------------------------------------------------------------ pacing

/**
 * Spaces sends evenly at `perSecond` (no bursts): each send takes the next
 * slot. `pause` pushes every later slot back (the number was throttled).
 */
export class SendPacer {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.intervalMs = 1000 / perSecond;
  }

  async take(): Promise<void> {
    const current = this.nowMs();
    const slot = Math.max(current, this.next);
    this.next = slot + this.intervalMs;
    if (slot > current) await this.sleep(slot - current);
  }

  pause(ms: number): void {
    this.next = Math.max(this.next, this.nowMs() + ms);
  }
}

/** Runs `task` over `items`, at most `concurrency` at once; the first error is thrown once every started task is over. */
async function forEachConcurrently<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

function sleeper(deps: SenderDeps): (ms: number) => Promise<void> {
  return deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
}

function now(deps: SenderDeps): string {
  return deps.clock.now().toISOString();
}

function asCount(value: number | 'reservation-exists'): number {
  return value === 'reservation-exists' ? 0 : value;
}
