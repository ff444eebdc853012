/**
 * One sending round of a broadcast chunk (`sender.ts`): which pending
 * recipients go now and which wait, decided against the portfolio's
 * messaging limit (`messaging-limit.ts`) and the credit pool, and committed
 * in ONE transaction with both (docs/quotas.md, "Portfolio messaging limit").
 *
 * - A recipient costs no unit when its service window with the number stays
 *   open past every send of the round, or when it was reached within 24 hours
 *   (its unit then moves to this round's bucket). Every other one takes a
 *   unit, as far as the number's allowance goes; the rest are **deferred**:
 *   no credit held, tried again in the next round when capacity returns.
 * - Of those that may go now, the largest affordable prefix is paid (pool and
 *   the number's cap); the rest fail as `insufficient_credits`. A recipient
 *   inside a free entry window with the number (after an ad click) is priced
 *   0 and always paid, and the plan names it (`freeEntry`) so its send is charged 0 too.
 * - The reads only size the round; the transaction's conditions decide. When
 *   another number took units or credits meanwhile, read and decide again.
 *
 * The round's plan is kept on its reservation item, so a concurrent or later
 * run of the same round follows the same decision.
 */
import type { CreditReservation } from './ports.js';
import type { ConnectedNumber } from './numbers.js';
import { IdempotencyKeyReused, QuotaExceeded, ReservationExists, ServiceBusy } from './errors.js';
import { CapacityChanged, ReachedCellChanged } from './backend-failures.js';
import { tellIfCreditsLow } from './chunk-credits.js';
import {
  LATE_GRACE_MS,
  type ReachCell,
  type ReachMove,
  type RoundPlan,
  SEND_WINDOW_MS,
  capacityFor,
  capacityTake,
  hourOf,
  limitedPortfolio,
  portfolioOf,
  resumeAt,
} from './messaging-limit.js';
import { optedOutOf } from './marketing-preferences.js';
import { affordablePrefix } from './pricing.js';
import type { ChunkContext } from './sender-ports.js';

const MAX_PLAN_ATTEMPTS = 12;

/** The reservation (and plan) id of a round: the first keeps the chunk's id, as before rounds existed. */
export function planIdOf(broadcastId: string, chunk: number, round: number): string {
  return round === 0 ? `${broadcastId}#${chunk}` : `${broadcastId}#${chunk}#r${round}`;
}

/** A round's plan as its reservation item keeps it (a reservation made before rounds existed covers its recipients, defers nothing). */
export function planOf(reservation: CreditReservation, fallback: Pick<RoundPlan, 'broadcastId' | 'chunk' | 'round'>): RoundPlan {
  const a = reservation.attributes;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const reach = a.reach && typeof a.reach === 'object' ? (a.reach as Record<string, string>) : undefined;
  return {
    ...fallback,
    recipients: strings(a.recipients),
    deferred: strings(a.deferred),
    ...(text(a.sendBy) ? { sendBy: text(a.sendBy) } : {}),
    ...(text(a.resumesAt) ? { resumesAt: text(a.resumesAt) } : {}),
    ...(text(a.portfolioId) ? { portfolioId: text(a.portfolioId) } : {}),
    ...(text(a.bucket) ? { bucket: text(a.bucket) } : {}),
    ...(reach ? { reach } : {}),
    ...(Array.isArray(a.freeEntry) ? { freeEntry: strings(a.freeEntry) } : {}),
  };
}

/**
 * What a recipient of the round is charged: 0 when the round's plan found it
 * inside a free entry window with the number (docs/quotas.md, rule 6), else
 * its rate-card price. The plan is stored, so every run of the round agrees.
 */
export function roundPrice(ctx: Pick<ChunkContext, 'plan' | 'price'>, waId: string): number {
  return ctx.plan?.freeEntry?.includes(waId) ? 0 : ctx.price(waId);
}

/**
 * Of `pending`, those who opted out of the category the broadcast's template
 * is subject to (MARKETING: `marketing_messages`) from its number, read in one
 * BatchGet per 100 and marked `skipped` (conditional puts: a concurrent run
 * of the round skips the same ones and counts each once). Answers them all,
 * skipped by this run or a concurrent one, so neither plans nor fails them.
 */
export async function skipOptedOut(ctx: ChunkContext, pending: string[]): Promise<Set<string>> {
  const { deps, broadcast, chunk } = ctx;
  const optedOut = await optedOutOf(deps.marketingPreferences, broadcast.accountId, broadcast.whatsapp_phno, broadcast.template.category, pending);
  if (optedOut.size === 0) return optedOut;
  const skipped = await deps.broadcasts.skipUnsent(broadcast.broadcastId, chunk, [...optedOut], 'opted_out', deps.clock.now().toISOString());
  if (skipped > 0) ctx.result.skippedOptOut = (ctx.result.skippedOptOut ?? 0) + skipped;
  return optedOut;
}

/**
 * Decides and commits the round for `pending` (recipients of the chunk with
 * no state yet). Answers the round's reservation, or `undefined` when nothing
 * could be paid nor deferred (every pending recipient then fails as
 * `insufficient_credits`), unless a concurrent run committed the round.
 */
export async function planRound(ctx: ChunkContext, pending: string[], number: ConnectedNumber): Promise<CreditReservation | undefined> {
  const { deps, broadcast, reservationId, chunk, round } = ctx;
  const { accountId, whatsapp_phno: phno, broadcastId } = broadcast;
  const portfolioId = portfolioOf(number);
  const capMicros = number.creditCapMicros;
  let reuseReached = true;
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    if (attempt > 1) await pause(ctx, attempt);
    const now = deps.clock.now();
    const portfolio = await limitedPortfolio(deps.messagingLimits, accountId, portfolioId, now);
    const capacity = portfolio && capacityFor(portfolio, phno);
    const sendBy = new Date(now.getTime() + SEND_WINDOW_MS);
    // Every send of the round happens before sendBy + the grace: a window open past that makes the message free
    // (of a unit for the service window, of credits for the free entry window, which counts with or without a limit).
    const audience = await deps.messagingLimits.audience(accountId, portfolioId, phno, pending, now, new Date(sendBy.getTime() + LATE_GRACE_MS));
    const windowOpen = capacity ? audience.windowOpen : new Set<string>();
    const reached = capacity && reuseReached ? audience.reached : new Map<string, ReachCell>();
    const freeEntry = audience.freeEntry;
    const isNew = (waId: string) => capacity !== undefined && !windowOpen.has(waId) && !reached.has(waId);

    // What fits the limit now (in order), and what waits.
    const sendable: string[] = [];
    const deferred: string[] = [];
    let taken = 0;
    for (const waId of pending) {
      if (!isNew(waId)) sendable.push(waId);
      else if (taken < (capacity?.allowance ?? Infinity)) {
        sendable.push(waId);
        taken++;
      } else deferred.push(waId);
    }

    // What of it the pool and the number's cap pay for.
    const [balance, spent] = await Promise.all([
      deps.credits.balance(accountId),
      capMicros === null ? Promise.resolve(0) : deps.credits.numberSpend(accountId, ctx.period, phno),
    ]);
    const affordable = Math.min(balance, capMicros === null ? Number.MAX_SAFE_INTEGER : Math.max(0, capMicros - spent));
    // A free recipient always goes; of the others, the largest affordable prefix.
    const charged = sendable.filter((waId) => !freeEntry.has(waId));
    const { count: chargedCount, amountMicros } = affordablePrefix(charged.map(ctx.price), affordable);
    const chargedPaid = new Set(charged.slice(0, chargedCount));
    const count = sendable.length - charged.length + chargedCount;
    if (count === 0 && deferred.length === 0) {
      await tellIfCreditsLow(ctx, balance);
      // Nothing to pay nor to wait for, unless a concurrent run of this round committed meanwhile.
      return deps.credits.reservation(accountId, reservationId);
    }
    const paid = sendable.filter((waId) => freeEntry.has(waId) || chargedPaid.has(waId));
    const free = paid.filter((waId) => freeEntry.has(waId));
    const bucket = hourOf(now);
    const units = paid.filter(isNew);
    const reach: Record<string, string> = Object.fromEntries(units.map((waId) => [waId, phno]));
    const moved = new Map<string, ReachMove>();
    for (const waId of paid) {
      const cell = windowOpen.has(waId) ? undefined : reached.get(waId);
      if (!cell) continue;
      reach[waId] = cell.owner;
      if (cell.bucket === bucket) continue;
      const key = `${cell.bucket} ${cell.owner}`;
      const move = moved.get(key) ?? { from: cell.bucket, owner: cell.owner, count: 0 };
      move.count++;
      moved.set(key, move);
    }
    const resumesAt =
      deferred.length > 0 && capacity
        ? resumeAt(await deps.messagingLimits.liveBuckets(accountId, portfolioId, now), phno, capacity.ownCapBinding, now).toISOString()
        : undefined;
    const plan: RoundPlan = {
      broadcastId,
      chunk,
      round,
      recipients: paid,
      deferred,
      ...(capacity ? { sendBy: sendBy.toISOString(), portfolioId, bucket, reach } : {}),
      ...(resumesAt ? { resumesAt } : {}),
      ...(free.length > 0 ? { freeEntry: free } : {}),
    };
    try {
      await deps.messagingLimits.commitRound({
        accountId,
        whatsappPhno: phno,
        reservationId,
        plan,
        ...(amountMicros > 0
          ? { credits: { amountMicros, idempotencyKey: `reserve:${reservationId}`, reason: 'broadcast:reserve', refId: broadcastId, spend: { period: ctx.period, capMicros } } }
          : {}),
        ...(capacity && (units.length > 0 || moved.size > 0)
          ? { capacity: capacityTake(capacity, { portfolioId, bucket, owner: phno, units: units.length, moves: [...moved.values()] }) }
          : {}),
        ...(round > 0 || deferred.length > 0 ? { deferred: { count: deferred.length, ...(resumesAt ? { resumesAt } : {}) } } : {}),
      });
      if (amountMicros > 0) await tellIfCreditsLow(ctx, balance - amountMicros);
    } catch (error) {
      if (error instanceof QuotaExceeded || error instanceof CapacityChanged) continue;
      // A reached user's unit moved or was released meanwhile: count those users as new this time.
      if (error instanceof ReachedCellChanged) {
        reuseReached = false;
        continue;
      }
      // A concurrent run of this round committed first (its plan may differ): follow its plan.
      const raced = error instanceof IdempotencyKeyReused || error instanceof ReservationExists;
      if (!raced) throw error;
    }
    const stored = await deps.credits.reservation(accountId, reservationId);
    if (stored) return stored;
  }
  throw new ServiceBusy('The credit pool or the messaging limit kept changing while planning; retry.');
}

/** Spreads racing rounds apart (full jitter, capped). */
function pause(ctx: ChunkContext, attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(400, 5 * 2 ** attempt);
  return ctx.deps.sleep ? ctx.deps.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}
