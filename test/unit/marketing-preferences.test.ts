/** The opt-out rules of `functions/core/marketing-preferences.ts`, without a table. */
import { describe, expect, it } from 'vitest';
import { MARKETING_CATEGORY, type MarketingPreference, isOptedOut, marketingViewOf, optedOutOf, preferenceCategoryOf } from '../../functions/core/marketing-preferences.js';

const pref = (over: Partial<MarketingPreference>): MarketingPreference => ({
  accountId: 'acc_1',
  whatsappPhno: '15550001001',
  contactKey: '5511987650001',
  waId: '5511987650001',
  category: MARKETING_CATEGORY,
  value: 'stop',
  at: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T10:00:01.000Z',
  ...over,
});

describe('isOptedOut', () => {
  it('is true only for a stop of that number, user and category', () => {
    const prefs = [pref({}), pref({ contactKey: '16505550002', waId: '16505550002', value: 'resume' })];
    expect(isOptedOut(prefs, '15550001001', '5511987650001', MARKETING_CATEGORY)).toBe(true);
    expect(isOptedOut(prefs, '15550001002', '5511987650001', MARKETING_CATEGORY)).toBe(false);
    expect(isOptedOut(prefs, '15550001001', '16505550002', MARKETING_CATEGORY)).toBe(false);
    expect(isOptedOut(prefs, '15550001001', '5511987650001', 'other_category')).toBe(false);
    expect(isOptedOut(new Map([['5511987650001', pref({})]]), '15550001001', '5511987650001', MARKETING_CATEGORY)).toBe(true);
  });

  it('treats a value Meta adds as no opt-out', () => {
    expect(isOptedOut([pref({ value: 'something_new' })], '15550001001', '5511987650001', MARKETING_CATEGORY)).toBe(false);
  });
});

describe('preferenceCategoryOf and optedOutOf', () => {
  const store = { forContacts: async () => new Map([['5511987650001', pref({})]]) };

  it('applies the marketing opt-out to MARKETING templates only', async () => {
    expect(preferenceCategoryOf('MARKETING')).toBe(MARKETING_CATEGORY);
    expect(preferenceCategoryOf('UTILITY')).toBeUndefined();
    expect(preferenceCategoryOf('AUTHENTICATION')).toBeUndefined();
    expect([...(await optedOutOf(store, 'acc_1', '15550001001', 'MARKETING', ['5511987650001', '16505550002']))]).toEqual(['5511987650001']);
    expect((await optedOutOf(store, 'acc_1', '15550001001', 'UTILITY', ['5511987650001'])).size).toBe(0);
  });
});

describe('marketingViewOf', () => {
  it('shows optedOut and when, or null', () => {
    expect(marketingViewOf(pref({}))).toEqual({ optedOut: true, at: '2026-11-01T10:00:00.000Z' });
    expect(marketingViewOf(pref({ value: 'resume' }))).toEqual({ optedOut: false, at: '2026-11-01T10:00:00.000Z' });
    expect(marketingViewOf(undefined)).toBeNull();
  });
});
