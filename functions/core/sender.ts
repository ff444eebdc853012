/**
 * The broadcast sender: processes one chunk of one broadcast (a send-queue
 * message). The queue delivers at least once and may deliver the same chunk
 * twice at once; the chunk still sends and charges once:
 *
 * 1. **Plan and reserve** (`chunk-plan.ts`) in ONE transaction: the
 *    portfolio's messaging-limit units for the users it may reach now, the
 *    price of those (pool balance and the number's cap), keyed by the chunk
 *    and its round. Users the limit cannot take now are **deferred** (no
 *    credit held) to the chunk's next round, which the scheduler puts on the
 *    queue when the window frees capacity; when the pool or the cap cannot
 *    pay for every sendable recipient, the largest affordable prefix is
 *    reserved and the rest fail as `insufficient_credits`. A second run finds
 *    the round's plan and sends only what it covers.
 *    Before planning, recipients of a MARKETING template who opted out of
 *    marketing messages from the number are `skipped` (`skipOptedOut`): they
 *    take no credit and no unit, and a rerun finds their state.
 * 2. **Send** each covered recipient at most once: its state item goes from
 *    absent (pending) to `sending` by a conditional write BEFORE the send, so
 *    only one run ever sends to it; then `sent` (with the wamid) or `failed`.
 *    Paced to the number's throughput; WhatsApp throttling (130429 for the
 *    number, 131056 for the recipient) backs off and retries a bounded number
 *    of times, then the recipient fails as `throttled` (nothing was sent).
 *    When the Graph API is unavailable (5xx or unreachable after the client's
 *    retries: nothing was taken), the claim is released and the chunk fails,
 *    so the queue retries it and the broadcast resumes where it stopped. When
 *    Meta may have taken the send (no answer in time, an answer without a
 *    wamid), the recipient fails as `send_outcome_unknown`, its price kept.
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
import type { FailureReason } from './broadcast-ports.js';
import { coveredBy, settle } from './chunk-credits.js';
import { planIdOf, planOf, planRound, roundPrice, skipOptedOut } from './chunk-plan.js';
import { AppError, WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from './errors.js';
import { LATE_GRACE_MS, REACH_MS } from './messaging-limit.js';
import { billingPeriod } from './plan.js';
import { priceOf, pricedCategory } from './pricing.js';
import { SendPacer, forEachConcurrently } from './send-pacing.js';
import type { ChunkContext, ChunkOutcome, SenderDeps } from './sender-ports.js';

// ----------------------------------------------------------------- use case

/**
 * Processes one round of one chunk: plan it (limit and credits) once, send
 * each covered recipient once, schedule the next round for what waits, settle.
 */
export async function processChunk(deps: SenderDeps, message: SendChunkMessage): Promise<ChunkOutcome> {
  const { accountId, broadcastId, chunk } = message;
  const round = message.round ?? 0;
  const none: ChunkOutcome = { outcome: 'unknown-broadcast', sent: 0, failed: 0, reservedMicros: 0, usedMicros: 0 };
  const [broadcast, recipients, account] = await Promise.all([
    deps.broadcasts.get(accountId, broadcastId),
    deps.broadcasts.chunkRecipients(broadcastId, chunk),
    deps.accounts.get(accountId),
  ]);
  if (!broadcast || !recipients || !account) return none;
  // Rounds go one after the other: a round that came early finishes the one before first.
  if (round > 0) {
    const previous = await deps.credits.reservation(accountId, planIdOf(broadcastId, chunk, round - 1));
    if (previous && previous.status !== 'settled') await processChunk(deps, { accountId, broadcastId, chunk, round: round - 1 });
  }
  const reservationId = planIdOf(broadcastId, chunk, round);
  let reservation = await deps.credits.reservation(accountId, reservationId);
  if (reservation?.status === 'settled') return { ...none, outcome: 'already-settled' };

  await deps.broadcasts.markSending(accountId, broadcastId, deps.clock.now().toISOString());
  const ctx: ChunkContext = {
    deps,
    broadcast,
    chunk,
    round,
    reservationId,
    period: billingPeriod(account.billingAnchor, deps.clock.now()).key,
    price: (waId) => priceOf(deps.rateCard, pricedCategory(broadcast.template.category), waId),
    result: { outcome: 'processed', sent: 0, failed: 0, reservedMicros: 0, usedMicros: 0 },
  };
  const number = await deps.numbers.get(accountId, broadcast.whatsapp_phno);
  // A number disconnected (or replaced by another Graph id) since the broadcast was made sends nothing more.
  const sendable = number !== undefined && number.phoneNumberId === broadcast.phoneNumberId;
  let states = await deps.broadcasts.recipientStates(broadcastId, recipients);

  // Opted out of marketing messages: skipped before anything is planned, reserved or counted against the limit.
  let skipped = new Set<string>();
  if (!reservation && sendable) {
    const pending = recipients.filter((waId) => !states.has(waId));
    skipped = await skipOptedOut(ctx, pending);
    const rest = pending.filter((waId) => !skipped.has(waId));
    if (rest.length > 0) reservation = await planRound(ctx, rest, number);
  }
  // A later round that plans nothing leaves nobody waiting.
  if (!reservation && round > 0) await deps.broadcasts.setDeferred(broadcastId, chunk, 0);
  const plan = reservation ? planOf(reservation, { broadcastId, chunk, round }) : undefined;
  if (plan) ctx.plan = plan;
  const covered = reservation ? coveredBy(reservation) : [];
  const held = new Set([...covered, ...(plan?.deferred ?? [])]);

  // Everyone the round neither pays for nor defers fails without a send.
  const unpaid = recipients.filter((waId) => !held.has(waId) && !states.has(waId) && !skipped.has(waId));
  if (unpaid.length > 0) {
    const reason: FailureReason = sendable ? 'insufficient_credits' : 'number_disconnected';
    const guard = reservation ? undefined : { accountId, reservationId };
    const failed = await deps.broadcasts.failUnsent(broadcastId, chunk, unpaid, reason, now(deps), guard);
    if (failed === 'reservation-exists') {
      // A concurrent run of this round found credits after all: start over with its plan.
      return processChunk(deps, message);
    }
    ctx.result.failed += failed;
  }
  // Deferred recipients: the next round is on its way before anything else happens (a retry finds it scheduled).
  if (plan && plan.deferred.length > 0) {
    await scheduleRound(ctx, new Date(plan.resumesAt ?? now(deps)));
    ctx.result.deferred = plan.deferred.length;
  }

  const toSend = covered.filter((waId) => !states.has(waId));
  if (sendable) {
    await sendAll(ctx, toSend);
  } else if (toSend.length > 0) {
    ctx.result.failed += asCount(await deps.broadcasts.failUnsent(broadcastId, chunk, toSend, 'number_disconnected', now(deps)));
  }

  if (reservation) {
    states = await deps.broadcasts.recipientStates(broadcastId, covered);
    // Under a limit, sends stop at `sendBy`; once no run can still be sending, what was not claimed goes to the next round.
    const lateAfter = plan?.sendBy ? Date.parse(plan.sendBy) + LATE_GRACE_MS : undefined;
    const late = lateAfter !== undefined && deps.clock.now().getTime() >= lateAfter ? covered.filter((waId) => !states.has(waId)) : [];
    if (late.length > 0) {
      await scheduleRound(ctx, deps.clock.now(), 'late');
      ctx.result.deferred = (ctx.result.deferred ?? 0) + late.length;
    }
    await settle(ctx, reservation, covered, states, lateAfter);
  }
  return ctx.result;
}

/** Puts the chunk's next round on the scheduler (idempotent by name: a retried run schedules nothing twice). */
async function scheduleRound(ctx: ChunkContext, at: Date, why?: string): Promise<void> {
  const { broadcast, chunk, round } = ctx;
  const next = round + 1;
  await ctx.deps.scheduler.schedule({
    name: `${broadcast.broadcastId}-c${chunk}-r${next}${why ? `-${why}` : ''}`,
    at,
    message: { accountId: broadcast.accountId, broadcastId: broadcast.broadcastId, chunk, round: next },
  });
}

// ------------------------------------------------------------------ sending

/** Sends to each recipient once, paced, a few at a time. */
async function sendAll(ctx: ChunkContext, waIds: string[]): Promise<void> {
  const { settings } = ctx.deps;
  const pacer = new SendPacer(settings.throughputPerSecond, sleeper(ctx.deps));
  const concurrency = settings.concurrency ?? Math.max(1, Math.min(32, Math.ceil(settings.throughputPerSecond / 5)));
  await forEachConcurrently(waIds, concurrency, (waId) => sendOne(ctx, pacer, waId));
}

async function sendOne(ctx: ChunkContext, pacer: SendPacer, waId: string): Promise<void> {
  const { deps, broadcast, chunk, plan } = ctx;
  // Past the round's `sendBy` its units may no longer cover a send for 24 hours: the next round takes the rest.
  if (plan?.sendBy && deps.clock.now().getTime() >= Date.parse(plan.sendBy)) return;
  const priceMicros = roundPrice(ctx, waId);
  const claimedAt = now(deps);
  const claimed = await deps.broadcasts.claimRecipient(broadcast.broadcastId, { waId, chunk, priceMicros, period: ctx.period, claimedAt });
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
      if (error instanceof WhatsAppUnavailable && error.sendOutcome === 'not-sent') {
        // Meta did not take it (5xx or no connection, after the client's own retries): the recipient goes back to
        // pending and the chunk fails, so the queue brings it back later (the DLQ after maxReceiveCount). What this
        // run sent is kept; the next run sends the rest once the Graph answers again.
        await deps.broadcasts.releaseRecipient(broadcast.broadcastId, { waId, claimedAt });
        throw error;
      }
      const failure = failureOf(error);
      if (!failure) throw error;
      const { keepPrice, ...recorded } = failure;
      await deps.broadcasts.recordSendFailed(broadcast.broadcastId, { waId, chunk, ...recorded, chargedMicros: keepPrice ? priceMicros : 0, at: now(deps) });
      ctx.result.failed++;
      return;
    }
    // Sent: from here on a failure to record must not look like a failed send (the chunk is retried; the recipient stays `sending`).
    const sentAt = deps.clock.now();
    await deps.broadcasts.recordSent(broadcast, { waId, chunk, wamid, priceMicros, at: sentAt.toISOString() });
    ctx.result.sent++;
    // The user is reached for 24 hours, its unit in the round's bucket.
    const owner = plan?.reach?.[waId];
    if (owner && plan?.portfolioId && plan.bucket) {
      await deps.messagingLimits.markReached(broadcast.accountId, plan.portfolioId, waId, {
        bucket: plan.bucket,
        owner,
        until: new Date(sentAt.getTime() + REACH_MS).toISOString(),
      });
    }
    return;
  }
}

/** What a send error means for the recipient (`keepPrice`: it may have gone out); `undefined` for errors that are not WhatsApp's answer. */
function failureOf(error: unknown): { reason: FailureReason; detail?: string; keepPrice?: boolean } | undefined {
  // No answer we can read (a timeout, a 200 without a wamid): Meta may have sent it. At most once: never re-sent, paid for.
  if (error instanceof WhatsAppUnavailable) return { reason: 'send_outcome_unknown', detail: error.message, keepPrice: true };
  if (error instanceof WhatsAppThrottled) return { reason: 'throttled', detail: String(error.details.metaCode) };
  if (error instanceof WhatsAppRejected) return { reason: 'rejected', detail: `${error.details.metaCode ?? ''} ${error.details.metaMessage}`.trim() };
  if (error instanceof WindowClosed) return { reason: 'rejected', detail: 'window closed' };
  if (error instanceof AppError && error.statusCode < 500) return { reason: 'rejected', detail: error.message };
  return undefined;
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
