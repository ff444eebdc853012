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
import type { FailureReason } from './broadcast-ports.js';
import { coveredBy, reserve, settle } from './chunk-credits.js';
import { AppError, WhatsAppRejected, WhatsAppThrottled, WhatsAppUnavailable, WindowClosed } from './errors.js';
import { billingPeriod } from './plan.js';
import { priceOf, pricedCategory } from './pricing.js';
import { SendPacer, forEachConcurrently } from './send-pacing.js';
import type { ChunkContext, ChunkOutcome, SenderDeps } from './sender-ports.js';

// ----------------------------------------------------------------- use case

/** Processes one chunk of one broadcast: reserve its price, send each covered recipient once, settle. */
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

// ------------------------------------------------------------------ sending

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

function sleeper(deps: SenderDeps): (ms: number) => Promise<void> {
  return deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
}

function now(deps: SenderDeps): string {
  return deps.clock.now().toISOString();
}

function asCount(value: number | 'reservation-exists'): number {
  return value === 'reservation-exists' ? 0 : value;
}
