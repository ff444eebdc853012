/**
 * What the dashboard sees of the portfolio messaging limit (`GET /v1/account`,
 * docs/quotas.md "Portfolio messaging limit"): per portfolio its tier and
 * limit, the unique users reached in the moving window (the units held by
 * buckets not yet released), and per number its part, its share and what it
 * may still reach now. A number's share is set by `updateNumber` (`numbers.ts`).
 */
import type { MessagingLimitView, PortfolioLimitView } from '../../schemas/messaging-limit.js';
import { type LiveBucket, type MessagingLimitStore, capacityFor, limitOfTier, portfolioOf } from './messaging-limit.js';
import { type ConnectedNumber, type NumberRepository, byRole } from './numbers.js';
import type { Clock } from './ports.js';

export interface MessagingLimitViewDeps {
  numbers: Pick<NumberRepository, 'list'>;
  messagingLimits: Pick<MessagingLimitStore, 'portfolio' | 'liveBuckets'>;
  clock: Clock;
}

/** The account's own portfolio (its default number's; the account's when it has none) and any other its numbers belong to. */
export async function messagingLimitOf(deps: MessagingLimitViewDeps, accountId: string): Promise<MessagingLimitView> {
  const numbers = (await deps.numbers.list(accountId)).sort(byRole);
  const now = deps.clock.now();
  const own = numbers.find((n) => n.isDefault);
  const ids = [...new Set([own ? portfolioOf(own) : accountId, ...numbers.map(portfolioOf)])];
  const [first, ...others] = await Promise.all(
    ids.map((id) => portfolioView(deps, accountId, id, numbers.filter((n) => portfolioOf(n) === id), now)),
  );
  return { ...first!, otherPortfolios: others };
}

async function portfolioView(deps: MessagingLimitViewDeps, accountId: string, portfolioId: string, numbers: ConnectedNumber[], now: Date): Promise<PortfolioLimitView> {
  const [stored, buckets] = await Promise.all([deps.messagingLimits.portfolio(accountId, portfolioId), deps.messagingLimits.liveBuckets(accountId, portfolioId, now)]);
  // Buckets due but not released yet (nobody sent since) no longer count: the next round releases them first.
  const { used, usedByNumber } = held(buckets);
  const tier = stored?.tier ?? null;
  const live = stored ? { ...stored, used, usedByNumber } : undefined;
  return {
    portfolioId,
    tier,
    limit: limitOfTier(tier) ?? null,
    usedLast24h: used,
    byNumber: numbers.map((number) => {
      const capacity = live ? capacityFor(live, number.whatsapp_phno) : undefined;
      return {
        whatsapp_phno: number.whatsapp_phno,
        usedLast24h: usedByNumber[number.whatsapp_phno] ?? 0,
        share: stored?.shares[number.whatsapp_phno] ?? null,
        available: capacity && Number.isFinite(capacity.allowance) ? capacity.allowance : null,
      };
    }),
  };
}

function held(buckets: LiveBucket[]): { used: number; usedByNumber: Record<string, number> } {
  const usedByNumber: Record<string, number> = {};
  let used = 0;
  for (const bucket of buckets) {
    used += bucket.count;
    for (const [phno, n] of Object.entries(bucket.byNumber)) usedByNumber[phno] = (usedByNumber[phno] ?? 0) + n;
  }
  return { used, usedByNumber };
}
