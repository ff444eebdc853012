/**
 * The portfolio messaging limit's pure rules (`functions/core/messaging-limit.ts`):
 * tiers, hourly buckets and when they are released, what a number may take
 * under the others' reserved shares and its own percent cap, and the bounds
 * its write is conditioned on; and the tier a `business_capability_update` carries.
 */
import { describe, expect, it } from 'vitest';
import { channelStatusChange } from '../../functions/core/channel-status.js';
import {
  HOLD_AFTER_HOUR_MS,
  type LiveBucket,
  type PortfolioLimit,
  RETRY_WITHOUT_RELEASE_MS,
  capacityFor,
  hourOf,
  lastDueHour,
  limitOfTier,
  portfolioOf,
  releaseAtOf,
  resumeAt,
} from '../../functions/core/messaging-limit.js';

const portfolio = (over: Partial<PortfolioLimit> = {}): PortfolioLimit => ({
  accountId: 'acc_1',
  portfolioId: 'acc_1',
  tier: 'TIER_250',
  used: 0,
  usedByNumber: {},
  shares: {},
  sharesVersion: 3,
  ...over,
});

describe('tiers', () => {
  it.each([
    ['TIER_250', 250],
    ['TIER_2K', 2_000],
    ['TIER_10K', 10_000],
    ['TIER_100K', 100_000],
    ['TIER_UNLIMITED', null],
    ['TIER_1K', 1_000],
    ['TIER_NOT_SET', undefined],
    [null, undefined],
  ])('%s allows %s unique users', (tier, limit) => {
    expect(limitOfTier(tier)).toBe(limit);
  });
});

describe('buckets', () => {
  it('are hours, released 24 h after their hour ends plus the rounds’ send window', () => {
    expect(hourOf(new Date('2026-11-27T10:59:59.999Z'))).toBe('2026-11-27T10');
    expect(releaseAtOf('2026-11-27T10').toISOString()).toBe('2026-11-28T11:25:00.000Z');
    expect(HOLD_AFTER_HOUR_MS).toBe(24 * 3_600_000 + 25 * 60_000);
  });

  it('are due exactly at their release', () => {
    expect(lastDueHour(new Date('2026-11-28T11:25:00.000Z'))).toBe('2026-11-27T10');
    expect(lastDueHour(new Date('2026-11-28T11:24:59.999Z'))).toBe('2026-11-27T09');
  });
});

describe('capacityFor', () => {
  it('is what the limit leaves', () => {
    const capacity = capacityFor(portfolio({ used: 200, usedByNumber: { a: 200 } }), 'b')!;
    expect(capacity.allowance).toBe(50);
    expect(capacity.guard(50)).toEqual({ tier: 'TIER_250', sharesVersion: 3, usedAtMost: 200, othersAtLeast: {} });
  });

  it("leaves another number's reserve alone, less what it used of it", () => {
    const p = portfolio({ used: 105, usedByNumber: { a: 100, d: 5 }, shares: { d: { reserved: 20 } } });
    const capacity = capacityFor(p, 'a')!;
    expect(capacity.allowance).toBe(250 - 105 - 15);
    // d's part must not have shrunk (its reserve would have grown): at least what was read.
    expect(capacity.guard(10)).toMatchObject({ usedAtMost: 250 - 10 - 15, othersAtLeast: { d: 5 } });
    // The reserving number itself takes from its reserve and the rest.
    expect(capacityFor(p, 'd')!.allowance).toBe(145);
  });

  it('caps a number with a percent share, whichever binds first', () => {
    const p = portfolio({ used: 120, usedByNumber: { m: 90, x: 30 }, shares: { m: { percent: 40 } } });
    const capacity = capacityFor(p, 'm')!;
    expect(capacity.allowance).toBe(10);
    expect(capacity.ownCapBinding).toBe(true);
    expect(capacity.guard(10)).toMatchObject({ numberAtMost: 90 });
  });

  it('is unbounded on TIER_UNLIMITED, but still guarded by the tier', () => {
    const capacity = capacityFor(portfolio({ tier: 'TIER_UNLIMITED', used: 1e6 }), 'a')!;
    expect(capacity.allowance).toBe(Infinity);
    expect(capacity.guard(5)).toEqual({ tier: 'TIER_UNLIMITED', sharesVersion: 3, othersAtLeast: {} });
  });

  it('is undefined (nothing held back) while the tier is unknown', () => {
    expect(capacityFor(portfolio({ tier: null }), 'a')).toBeUndefined();
    expect(capacityFor(portfolio({ tier: 'TIER_NOT_SET' }), 'a')).toBeUndefined();
  });

  it('never goes below zero', () => {
    expect(capacityFor(portfolio({ tier: 'TIER_250', used: 300 }), 'a')!.allowance).toBe(0);
  });
});

describe('resumeAt', () => {
  const now = new Date('2026-11-28T08:00:00.000Z');
  const buckets: LiveBucket[] = [
    { hour: '2026-11-27T09', releaseAt: '2026-11-28T10:25:00.000Z', count: 5, byNumber: { x: 5 } },
    { hour: '2026-11-27T10', releaseAt: '2026-11-28T11:25:00.000Z', count: 7, byNumber: { m: 7 } },
  ];

  it('is the first release of a bucket holding units', () => {
    expect(resumeAt(buckets, 'm', false, now).toISOString()).toBe('2026-11-28T10:25:00.000Z');
  });

  it("is the first release of the number's own units when its cap is what binds", () => {
    expect(resumeAt(buckets, 'm', true, now).toISOString()).toBe('2026-11-28T11:25:00.000Z');
  });

  it('is a retry later when nothing will be released', () => {
    expect(resumeAt([], 'm', false, now).getTime()).toBe(now.getTime() + RETRY_WITHOUT_RELEASE_MS);
  });
});

describe('portfolioOf', () => {
  it("is the WABA's portfolio when the number names one, else the account's", () => {
    expect(portfolioOf({ accountId: 'acc_1' })).toBe('acc_1');
    expect(portfolioOf({ accountId: 'acc_1', portfolioId: '5550001' })).toBe('5550001');
  });
});

describe('business_capability_update', () => {
  const update = (value: Record<string, unknown>) =>
    channelStatusChange({
      accountId: 'acc_1',
      whatsapp_phno: '15550001001',
      phoneNumberId: '110000000000001',
      wabaId: '210000000000001',
      isDefaultNumber: true,
      eventId: 'upd:x',
      receivedAt: '2026-11-27T10:00:01.000Z',
      occurredAt: '2026-11-27T10:00:00.000Z',
      field: 'business_capability_update',
      update: value,
    });

  it("carries the portfolio's tier", () => {
    expect(update({ max_daily_conversations_per_business: 'TIER_2K', max_phone_numbers_per_business: 20 })).toEqual({
      accountId: 'acc_1',
      whatsapp_phno: '15550001001',
      at: '2026-11-27T10:00:00.000Z',
      messagingLimitTier: 'TIER_2K',
      lastChannelEvent: 'business_capability_update:-',
    });
  });

  it('reads the legacy number as its tier, and ignores an update with no limit', () => {
    expect(update({ max_daily_conversation_per_phone_number: 10_000 })?.messagingLimitTier).toBe('TIER_10K');
    expect(update({ max_phone_numbers_per_business: 20 })).toBeUndefined();
  });
});
