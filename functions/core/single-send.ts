/**
 * One business-initiated message outside a broadcast: a sequence's template
 * step, an agent's template (docs/quotas.md, "Portfolio messaging limit").
 * The rules of a broadcast round (`chunk-plan.ts`), for one recipient:
 *
 * - it costs no unit when the user's service window with the number is open,
 *   or when the user was reached within 24 hours (the unit then moves to this
 *   hour's bucket, so the window covers this send too);
 * - otherwise it takes one unit of what the number may take (the portfolio's
 *   limit, the others' reserved counts, its own percent share), or it is
 *   **limited**: nothing is taken, nothing paid, and the caller learns when
 *   capacity returns (a sequence step waits until then; an agent is told);
 * - its credits (when it pays) and its unit are committed in ONE transaction
 *   with its reservation, keyed by the caller's reservation id: a rerun finds
 *   the reservation and follows it, never taking a second unit or a second
 *   charge.
 */
import { CapacityChanged, ReachedCellChanged } from './backend-failures.js';
import { IdempotencyKeyReused, ReservationExists, ServiceBusy } from './errors.js';
import { type MessagingLimitStore, REACH_MS, type ReachCell, capacityFor, capacityTake, hourOf, limitedPortfolio, resumeAt } from './messaging-limit.js';
import type { Clock, CreditReservation } from './ports.js';
import type { CreditPool } from './sender-ports.js';

const MAX_ATTEMPTS = 8;
/** The send follows its admission at once: a window open this much longer makes it free. */
const SEND_MARGIN_MS = 60_000;

export interface SingleSendDeps {
  messagingLimits: Pick<MessagingLimitStore, 'portfolio' | 'releaseDue' | 'liveBuckets' | 'audience' | 'commitSend' | 'markReached'>;
  credits: Pick<CreditPool, 'reservation'>;
  clock: Clock;
}

export interface SingleSend {
  accountId: string;
  whatsappPhno: string;
  /** The number's portfolio (`portfolioOf`). */
  portfolioId: string;
  /** The recipient, digits. */
  waId: string;
  /** Unique to this message (e.g. `seq:{enrolment}:{step}`): the idempotency of the whole admission. */
  reservationId: string;
  reason: string;
  refId: string;
  /** What it pays (the rate card's price) within the number's cap; absent or 0 when free. */
  credits?: { amountMicros: number; spend: { period: string; capMicros: number | null } };
}

/** Where the recipient's unit is counted once the message is sent. */
export interface ReachNote {
  portfolioId: string;
  bucket: string;
  owner: string;
}

export type SendAdmission =
  | { admitted: true; reach?: ReachNote }
  | { admitted: false; resumesAt: string };

/**
 * Takes the send's unit (when it needs one) and its credits in one transaction.
 * Throws `QuotaExceeded` when the pool or the number's cap cannot pay.
 */
export async function admitSend(deps: SingleSendDeps, send: SingleSend): Promise<SendAdmission> {
  const { accountId, whatsappPhno: phno, portfolioId, waId } = send;
  const pays = (send.credits?.amountMicros ?? 0) > 0;
  let reuseReached = true;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(400, 5 * 2 ** attempt)));
    const earlier = await deps.credits.reservation(accountId, send.reservationId);
    if (earlier) return followed(earlier);

    const now = deps.clock.now();
    const portfolio = await limitedPortfolio(deps.messagingLimits, accountId, portfolioId, now);
    const capacity = portfolio && capacityFor(portfolio, phno);
    let cell: ReachCell | undefined;
    let isNew = false;
    if (capacity) {
      const audience = await deps.messagingLimits.audience(accountId, portfolioId, phno, [waId], now, new Date(now.getTime() + SEND_MARGIN_MS));
      if (!audience.windowOpen.has(waId)) {
        cell = reuseReached ? audience.reached.get(waId) : undefined;
        isNew = cell === undefined;
      }
      if (isNew && capacity.allowance < 1) {
        const buckets = await deps.messagingLimits.liveBuckets(accountId, portfolioId, now);
        return { admitted: false, resumesAt: resumeAt(buckets, phno, capacity.ownCapBinding, now).toISOString() };
      }
    }
    const counted = capacity !== undefined && (isNew || cell !== undefined);
    // Free and uncounted: nothing to hold, nothing to write.
    if (!pays && !counted) return { admitted: true };

    const bucket = hourOf(now);
    const owner = cell?.owner ?? phno;
    const reach: ReachNote | undefined = counted ? { portfolioId, bucket, owner } : undefined;
    try {
      await deps.messagingLimits.commitSend({
        accountId,
        whatsappPhno: phno,
        reservationId: send.reservationId,
        reason: send.reason,
        refId: send.refId,
        ...(pays ? { credits: send.credits! } : {}),
        ...(counted
          ? {
              capacity: capacityTake(capacity, {
                portfolioId,
                bucket,
                owner: phno,
                units: isNew ? 1 : 0,
                moves: cell && cell.bucket !== bucket ? [{ from: cell.bucket, owner: cell.owner, count: 1 }] : [],
              }),
            }
          : {}),
        attributes: { recipient: waId, ...(reach ? { reach } : {}) },
      });
      return { admitted: true, ...(reach ? { reach } : {}) };
    } catch (error) {
      if (error instanceof CapacityChanged) continue;
      // The user's unit moved or was released meanwhile: decide again with the user counted as new.
      if (error instanceof ReachedCellChanged) {
        reuseReached = false;
        continue;
      }
      // A concurrent run of the same send committed first: follow it (read at the top of the next attempt).
      if (error instanceof IdempotencyKeyReused || error instanceof ReservationExists) continue;
      throw error;
    }
  }
  throw new ServiceBusy('The messaging limit kept changing while admitting a send; retry.');
}

/** After the send: the user stays reached for 24 hours, its unit where the admission counted it. */
export async function noteSent(deps: Pick<SingleSendDeps, 'messagingLimits'>, send: Pick<SingleSend, 'accountId' | 'waId'>, admission: SendAdmission, sentAt: Date): Promise<void> {
  if (!admission.admitted || !admission.reach) return;
  const { portfolioId, bucket, owner } = admission.reach;
  await deps.messagingLimits.markReached(send.accountId, portfolioId, send.waId, { bucket, owner, until: new Date(sentAt.getTime() + REACH_MS).toISOString() });
}

function followed(reservation: CreditReservation): SendAdmission {
  const reach = reservation.attributes.reach as ReachNote | undefined;
  return { admitted: true, ...(reach && typeof reach.bucket === 'string' ? { reach } : {}) };
}
