/** The rate card: longest calling-code prefix, a default row, integer micros. */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_RATE_CARD, affordablePrefix, callingCodeOf, priceOf, pricedCategory } from '../../functions/core/pricing.js';
import { type RateCard, rateCardSchema } from '../../schemas/rate-card.js';
import { broadcastConfig } from '../../functions/commons/config.js';

const card: RateCard = {
  default: { MARKETING: 60_000, UTILITY: 10_000, AUTHENTICATION: 20_000 },
  byCallingCode: {
    '1': { MARKETING: 25_000, UTILITY: 4_000, AUTHENTICATION: 13_500 },
    '1242': { MARKETING: 90_000, UTILITY: 9_000, AUTHENTICATION: 9_500 },
    '55': { MARKETING: 62_500, UTILITY: 6_800, AUTHENTICATION: 6_800 },
  },
};

describe('priceOf', () => {
  it('prices by the calling code of the recipient', () => {
    expect(priceOf(card, 'MARKETING', '5511987650001')).toBe(62_500);
  });

  it('takes the longest matching prefix', () => {
    expect(priceOf(card, 'MARKETING', '12425550100')).toBe(90_000);
    expect(priceOf(card, 'MARKETING', '16505550002')).toBe(25_000);
  });

  it('prices by category', () => {
    expect(priceOf(card, 'UTILITY', '16505550002')).toBe(4_000);
    expect(priceOf(card, 'AUTHENTICATION', '16505550002')).toBe(13_500);
  });

  it('falls back to the default row', () => {
    expect(callingCodeOf(card, '4915112345678')).toBeUndefined();
    expect(priceOf(card, 'UTILITY', '4915112345678')).toBe(10_000);
  });

  it('has example rows for Brazil, the US, Mexico and India', () => {
    expect(Object.keys(EXAMPLE_RATE_CARD.byCallingCode)).toEqual(expect.arrayContaining(['1', '52', '55', '91']));
    expect(Object.values(EXAMPLE_RATE_CARD.byCallingCode).flatMap(Object.values).every(Number.isSafeInteger)).toBe(true);
  });
});

describe('pricedCategory', () => {
  it('keeps a known category', () => {
    expect(pricedCategory('UTILITY')).toBe('UTILITY');
  });

  it('prices an unknown category as marketing', () => {
    expect(pricedCategory('SOMETHING_NEW')).toBe('MARKETING');
    expect(pricedCategory(undefined)).toBe('MARKETING');
  });
});

describe('affordablePrefix', () => {
  it('takes recipients in order while they fit', () => {
    expect(affordablePrefix([3, 3, 3, 3], 10)).toEqual({ count: 3, amountMicros: 9 });
  });

  it('stops at the first that does not fit, keeping the order', () => {
    expect(affordablePrefix([3, 8, 1], 10)).toEqual({ count: 1, amountMicros: 3 });
  });

  it('affords nothing from nothing', () => {
    expect(affordablePrefix([1], 0)).toEqual({ count: 0, amountMicros: 0 });
  });
});

describe('the rate card in config', () => {
  it('is the example card when PRICING_RATE_CARD is unset', () => {
    expect(broadcastConfig({}).PRICING_RATE_CARD).toEqual(EXAMPLE_RATE_CARD);
  });

  it('reads PRICING_RATE_CARD as JSON', () => {
    expect(broadcastConfig({ PRICING_RATE_CARD: JSON.stringify(card) }).PRICING_RATE_CARD).toEqual(card);
  });

  it('fails at start naming the variable when the card holds a float', () => {
    const bad = { ...card, default: { ...card.default, MARKETING: 0.05 } };
    expect(() => broadcastConfig({ PRICING_RATE_CARD: JSON.stringify(bad) })).toThrow(/PRICING_RATE_CARD/);
  });

  it('refuses a calling code that is not digits', () => {
    expect(rateCardSchema.safeParse({ ...card, byCallingCode: { '+55': card.default } }).success).toBe(false);
  });
});
