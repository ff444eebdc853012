/**
 * The credit side of one chunk (`sender.ts`): reserve the chunk's price in one
 * conditional write before sending, settle what was not spent once every
 * recipient is over, and tell `Credits Low` once when the pool runs low.
 */
import { busEvent } from '../../schemas/events/contract.js';
import { creditsLowContract } from '../../schemas/events/credits-low.js';
import type { RecipientState } from './broadcast-ports.js';
import { IdempotencyKeyReused, QuotaExceeded, ReservationExists, ReservationSettled, ServiceBusy } from './errors.js';
import { ChunkInFlight } from './backend-failures.js';
import type { CreditReservation } from './ports.js';
import { affordablePrefix } from './pricing.js';
import type { ChunkContext } from './sender-ports.js';

const MAX_RESERVE_ATTEMPTS = 8;

/**
 * Reserves the largest prefix of `pending` the pool and the number's cap can
 * pay for. The balance read decides the size; the conditional write decides
 * whether it still fits (another number may have spent meanwhile): when it no
 * longer does, read and decide again.
 */
export async function reserve(ctx: ChunkContext, pending: string[], capMicros: number | null): Promise<CreditReservation | undefined> {
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
      const raced = error instanceof IdempotencyKeyReused || error instanceof ReservationExists;
      if (!raced) throw error;
    }
    const stored = await deps.credits.reservation(accountId, reservationId);
    if (stored) return stored;
  }
  throw new ServiceBusy('The credit pool kept changing while reserving; retry.');
}

/** The recipients a reservation pays for. */
export function coveredBy(reservation: CreditReservation): string[] {
  const recipients = reservation.attributes.recipients;
  return Array.isArray(recipients) ? (recipients as string[]) : [];
}

/** Gives back what the chunk reserved and did not spend, once every covered recipient is over. */
export async function settle(ctx: ChunkContext, reservation: CreditReservation, covered: string[], states: Map<string, RecipientState>): Promise<void> {
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
        at: deps.clock.now().toISOString(),
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
    if (!(error instanceof ReservationSettled)) throw error;
  }
  ctx.result.reservedMicros = reservation.amountMicros;
  ctx.result.usedMicros = usedMicros;
}

/** Publishes `Credits Low` once when the balance is under the threshold (a conditional flag on the pool says "once"). */
async function tellIfCreditsLow(ctx: ChunkContext, balanceAfter: number): Promise<void> {
  const { deps, broadcast } = ctx;
  const threshold = deps.settings.creditsLowThresholdMicros;
  if (balanceAfter >= threshold) return;
  const at = deps.clock.now().toISOString();
  const { flagged, balanceMicros } = await deps.credits.markCreditsLow(broadcast.accountId, threshold, at);
  if (!flagged) return;
  try {
    await deps.events.publish([
      busEvent(creditsLowContract, {
        accountId: broadcast.accountId,
        whatsapp_phno: broadcast.whatsapp_phno,
        eventId: `credits-low:${broadcast.accountId}:${at}`,
        balanceMicros: balanceMicros ?? balanceAfter,
        thresholdMicros: threshold,
      }),
    ]);
    ctx.result.creditsLow = 'published';
  } catch {
    // Not told: take the flag back so the next debit tells. Sending goes on; the handler logs the outcome.
    await deps.credits.unmarkCreditsLow(broadcast.accountId, at);
    ctx.result.creditsLow = 'publish-failed';
  }
}
