/**
 * Meta's portfolio messaging limit (docs/quotas.md, "Portfolio messaging
 * limit"): since October 2025 a business portfolio may reach at most its
 * tier's number of unique users with business-initiated messages in a moving
 * 24 hours, all its numbers together. This module holds the rules (tiers,
 * time buckets, what a number may take) and the ports; the sender's use of
 * them is `chunk-plan.ts`, the API's `messaging-limit-views.ts`.
 *
 * How the count stays exact under concurrency:
 * - one **portfolio item** holds `used` (units held: users reached and not
 *   yet released) and each number's share of it; a unit is taken only by a
 *   conditional update of that item, in the same transaction as the credits,
 *   guarded by the tier, the shares' version and precomputed bounds
 *   (conditions cannot add: `used <= limit - n - reserved-by-others`);
 * - every unit is also counted in the **hourly bucket** of the round that
 *   took it; a bucket is released (its units leave `used`) only once every
 *   send it paid for is 24 hours old (`HOLD_AFTER_HOUR_MS` after its hour),
 *   by one transaction conditioned on the bucket's count as read;
 * - a **reached item** per user (TTL 24 h after the send) says where the
 *   user's unit is: a user reached again inside the window costs no new unit,
 *   but its unit moves to the current bucket (held 24 h more), in the same
 *   transaction, so the window always covers the user's last send.
 */
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import { type MessagingLimitShare, TIER_LIMITS } from '../../schemas/messaging-limit.js';

// ------------------------------------------------------------------ timing

export const HOUR_MS = 3_600_000;
/** Meta's moving window. */
export const REACH_MS = 24 * HOUR_MS;
/** A round's recipients are claimed for sending within this of the round's commit; later ones go to the next round. */
export const SEND_WINDOW_MS = 15 * 60_000;
/** Longer than a sender run lasts (its Lambda times out after 5 minutes): past a round's `sendBy` + this, none of its runs still sends. */
export const LATE_GRACE_MS = 10 * 60_000;
/** A bucket's units are held this long after its hour ends: 24 hours after the latest send they may pay for. */
export const HOLD_AFTER_HOUR_MS = REACH_MS + SEND_WINDOW_MS + LATE_GRACE_MS;
/** Deferred recipients with nothing to wait for (no held unit will be released) are tried again after this. */
export const RETRY_WITHOUT_RELEASE_MS = HOUR_MS;

/** The unique users a tier allows; `null` unlimited; `undefined` when it is not a tier (unknown: nothing is held back). */
export function limitOfTier(tier: string | null | undefined): number | null | undefined {
  if (!tier) return undefined;
  if (tier in TIER_LIMITS) return TIER_LIMITS[tier];
  const match = /^TIER_(\d+)(K?)$/.exec(tier);
  return match ? Number(match[1]) * (match[2] ? 1_000 : 1) : undefined;
}

/** The hourly bucket of an instant: `2026-11-27T10`. */
export function hourOf(at: Date): string {
  return at.toISOString().slice(0, 13);
}

/** When a bucket's units leave the count. */
export function releaseAtOf(hour: string): Date {
  return new Date(Date.parse(`${hour}:00:00.000Z`) + HOUR_MS + HOLD_AFTER_HOUR_MS);
}

/** The latest bucket due for release at `now` (every earlier one is due too). */
export function lastDueHour(now: Date): string {
  return hourOf(new Date(now.getTime() - HOUR_MS - HOLD_AFTER_HOUR_MS));
}

// ------------------------------------------------------------------- model

export type Share = MessagingLimitShare;

/** A portfolio's limit as stored: the tier Meta reported, the units held, each number's part and share. */
export interface PortfolioLimit {
  accountId: string;
  portfolioId: string;
  tier: string | null;
  /** Units held: users reached (business-initiated, outside their service window) whose bucket is not released yet. */
  used: number;
  usedByNumber: Record<string, number>;
  shares: Record<string, Share>;
  /** Raised by every share change: a reservation decided on other shares is refused. */
  sharesVersion: number;
}

/** What a unit-taking write is conditioned on: nothing the decision read has changed against it. */
export interface CapacityGuard {
  tier: string;
  sharesVersion: number;
  /** `used` may be at most this before the write: limit − units − what other numbers keep reserved. */
  usedAtMost?: number;
  /** The number's own part may be at most this before the write (a percent share): cap − units. */
  numberAtMost?: number;
  /** Numbers with a reserved share: their part may not have shrunk below this (their reserve would have grown). */
  othersAtLeast: Record<string, number>;
}

export interface Capacity {
  /** New users the number may reach now (`Infinity` when unlimited). */
  allowance: number;
  /** Whether the number's own percent cap, not the portfolio, is what limits it. */
  ownCapBinding: boolean;
  guard(units: number): CapacityGuard;
}

/** Where a reached user's unit is counted: a bucket, and the number the unit belongs to. */
export interface ReachCell {
  bucket: string;
  owner: string;
}

/** A bucket not yet released. */
export interface LiveBucket {
  hour: string;
  releaseAt: string;
  count: number;
  byNumber: Record<string, number>;
}

/**
 * What a number may take of its portfolio's limit: the limit less what is
 * held and what other numbers keep reserved (their reserve less what they
 * used of it), and at most its own percent cap. `undefined` when the tier is
 * not known.
 */
export function capacityFor(portfolio: PortfolioLimit, whatsappPhno: string): Capacity | undefined {
  const limit = limitOfTier(portfolio.tier);
  if (limit === undefined || portfolio.tier === null) return undefined;
  const tier = portfolio.tier;
  const { sharesVersion } = portfolio;
  if (limit === null) return { allowance: Infinity, ownCapBinding: false, guard: () => ({ tier, sharesVersion, othersAtLeast: {} }) };
  const usedBy = (phno: string) => portfolio.usedByNumber[phno] ?? 0;
  let reservedByOthers = 0;
  const othersAtLeast: Record<string, number> = {};
  for (const [phno, share] of Object.entries(portfolio.shares)) {
    if (phno === whatsappPhno || !('reserved' in share)) continue;
    reservedByOthers += Math.max(0, share.reserved - usedBy(phno));
    const floor = Math.min(usedBy(phno), share.reserved);
    if (floor > 0) othersAtLeast[phno] = floor;
  }
  const general = limit - portfolio.used - reservedByOthers;
  const own = portfolio.shares[whatsappPhno];
  const cap = own && 'percent' in own ? Math.floor((limit * own.percent) / 100) : undefined;
  const ownLeft = cap === undefined ? Infinity : cap - usedBy(whatsappPhno);
  return {
    allowance: Math.max(0, Math.min(general, ownLeft)),
    ownCapBinding: ownLeft < general,
    guard: (units) => ({
      tier,
      sharesVersion,
      usedAtMost: limit - units - reservedByOthers,
      ...(cap === undefined ? {} : { numberAtMost: cap - units }),
      othersAtLeast,
    }),
  };
}

/** When deferred recipients can next be tried: the first release of a bucket that holds units limiting the number. */
export function resumeAt(buckets: LiveBucket[], whatsappPhno: string, ownCapBinding: boolean, now: Date): Date {
  const releases = buckets
    .filter((b) => (ownCapBinding ? (b.byNumber[whatsappPhno] ?? 0) : b.count) > 0)
    .map((b) => Date.parse(b.releaseAt))
    .filter((at) => at > now.getTime());
  return new Date(releases.length > 0 ? Math.min(...releases) : now.getTime() + RETRY_WITHOUT_RELEASE_MS);
}

/** The portfolio a number belongs to: its WABA's portfolio when known, else the account's one. */
export function portfolioOf(number: { accountId: string; portfolioId?: string }): string {
  return number.portfolioId ?? number.accountId;
}

/**
 * The portfolio as a round decides on it, its due buckets released first;
 * `undefined` when its tier is not known (then nothing is counted or held back).
 */
export async function limitedPortfolio(store: Pick<MessagingLimitStore, 'releaseDue' | 'portfolio'>, accountId: string, portfolioId: string, now: Date): Promise<PortfolioLimit | undefined> {
  // Released first, read after: a release by this round or a concurrent one is always in what the round decides on.
  await store.releaseDue(accountId, portfolioId, now);
  const portfolio = await store.portfolio(accountId, portfolioId);
  return portfolio && limitOfTier(portfolio.tier) !== undefined ? portfolio : undefined;
}

// ------------------------------------------------------------------- ports

/** One sending round of a broadcast chunk, as decided and stored on its reservation item. */
export interface RoundPlan {
  broadcastId: string;
  chunk: number;
  round: number;
  /** Paid and sendable now. */
  recipients: string[];
  /** Waiting for capacity: no credit held; the next round takes them. */
  deferred: string[];
  /** Recipients are claimed for sending only before this (rounds under a known limit). */
  sendBy?: string;
  resumesAt?: string;
  portfolioId?: string;
  /** The bucket this round's units (and moved units) are counted in. */
  bucket?: string;
  /** Each recipient that holds a unit after its send, and whose unit it is. */
  reach?: Record<string, string>;
  /** Recipients inside a free entry window with the number: priced 0 in this round (`roundPrice`). */
  freeEntry?: string[];
}

/** Moves `count` units of `owner` from bucket `from` to the round's bucket: users reached again. */
export interface ReachMove {
  from: string;
  owner: string;
  count: number;
}

/** The units one commit takes (a round's, or a single send's) and the reached users' units it moves into its bucket. */
export interface CapacityTake {
  portfolioId: string;
  bucket: string;
  releaseAt: string;
  owner: string;
  units: number;
  guard: CapacityGuard;
  moves: ReachMove[];
}

/** What a commit by `owner` takes in `bucket`: `units` new users under the guard of what was decided on, and the moved units. */
export function capacityTake(capacity: Capacity, take: { portfolioId: string; bucket: string; owner: string; units: number; moves: ReachMove[] }): CapacityTake {
  return { ...take, releaseAt: releaseAtOf(take.bucket).toISOString(), guard: capacity.guard(take.units) };
}

/** Everything one round commits in ONE transaction: its plan, its credits, its units and the chunk's deferred count. */
export interface RoundCommit {
  accountId: string;
  whatsappPhno: string;
  reservationId: string;
  plan: RoundPlan;
  /** Absent when nothing is paid this round (everything deferred). */
  credits?: { amountMicros: number; idempotencyKey: string; reason: string; refId: string; spend: { period: string; capMicros: number | null } };
  capacity?: CapacityTake;
  /** The chunk's counter: how many wait, and until when (absent: leave it). */
  deferred?: { count: number; resumesAt?: string };
}

/** What a single send commits: its reservation (the idempotency of the whole), what it pays, and its unit. */
export interface SendCommit {
  accountId: string;
  whatsappPhno: string;
  reservationId: string;
  reason: string;
  refId: string;
  /** Absent when the message costs nothing (a reservation of 0 is still written: the send's marker). */
  credits?: { amountMicros: number; spend: { period: string; capMicros: number | null } };
  capacity?: CapacityTake;
  /** Kept on the reservation item: where the recipient's unit is, so a rerun follows the same decision. */
  attributes: Record<string, unknown>;
}

/** The portfolio limit on the table (`functions/adapters/dynamo/messaging-limit-store.ts`). */
export interface MessagingLimitStore {
  portfolio(accountId: string, portfolioId: string): Promise<PortfolioLimit | undefined>;
  /** Releases every bucket due at `now`; answers how many were due (released by this call or, at the same time, by another). */
  releaseDue(accountId: string, portfolioId: string, now: Date): Promise<number>;
  liveBuckets(accountId: string, portfolioId: string, now: Date): Promise<LiveBucket[]>;
  /**
   * Of `waIds`, who costs no unit now: an open service window with the number
   * until `windowUntil`, or reached (live) already; and who costs no credit:
   * a free entry window (after an ad click) with the number open until `windowUntil`.
   */
  audience(
    accountId: string,
    portfolioId: string,
    whatsappPhno: string,
    waIds: string[],
    now: Date,
    windowUntil: Date,
  ): Promise<{ windowOpen: Set<string>; reached: Map<string, ReachCell>; freeEntry: Set<string> }>;
  /** Throws `QuotaExceeded` (credits), `CapacityChanged`, `ReachedCellChanged`, or a race (`ReservationExists`, `IdempotencyKeyReused`). */
  commitRound(commit: RoundCommit): Promise<void>;
  /** One business-initiated message outside a broadcast (`single-send.ts`): its reservation, credits and unit in ONE transaction; throws as `commitRound`. */
  commitSend(commit: SendCommit): Promise<void>;
  /** After a send: the user stays reached until `until`, its unit in `cell` (only ever moved forward). */
  markReached(accountId: string, portfolioId: string, waId: string, cell: ReachCell & { until: string }): Promise<void>;
  setShare(accountId: string, portfolioId: string, whatsappPhno: string, share: Share | null, at: string): Promise<void>;
}

/** Puts a chunk's next round on the send queue at a time (EventBridge Scheduler in AWS, a timer locally). Idempotent by `name`. */
export interface DeferredSendScheduler {
  schedule(request: { name: string; at: Date; message: SendChunkMessage }): Promise<void>;
}
