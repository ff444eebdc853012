/**
 * The credit side of one chunk round (`sender.ts`): the round's price is
 * reserved with its plan (`chunk-plan.ts`) before sending; this settles what
 * was not spent once every recipient is over, and tells `Credits Low` once
 * when the pool runs low.
 */
import { busEvent } from '../../schemas/events/contract.js';
import { creditsLowContract } from '../../schemas/events/credits-low.js';
import type { RecipientState } from './broadcast-ports.js';
import { ReservationSettled } from './errors.js';
import { ChunkInFlight } from './backend-failures.js';
import type { CreditReservation } from './ports.js';
import type { ChunkContext } from './sender-ports.js';

/** The recipients a reservation pays for. */
export function coveredBy(reservation: CreditReservation): string[] {
  const recipients = reservation.attributes.recipients;
  return Array.isArray(recipients) ? (recipients as string[]) : [];
}

/**
 * Gives back what the round reserved and did not spend, once every covered
 * recipient is over. With `lateAfter` (a round under a messaging limit, whose
 * sends stopped at its `sendBy`), a covered recipient still unclaimed after it
 * is late: not charged here, the next round takes it.
 */
export async function settle(
  ctx: ChunkContext,
  reservation: CreditReservation,
  covered: string[],
  states: Map<string, RecipientState>,
  lateAfter?: number,
): Promise<void> {
  const { deps, broadcast, chunk } = ctx;
  const now = deps.clock.now().getTime();
  const staleBefore = now - deps.settings.staleSendingSeconds * 1000;
  let inFlight = 0;
  let usedMicros = 0;
  for (const waId of covered) {
    const state = states.get(waId);
    if (!state) {
      if (lateAfter === undefined || now < lateAfter) inFlight++;
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
export async function tellIfCreditsLow(ctx: ChunkContext, balanceAfter: number): Promise<void> {
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
