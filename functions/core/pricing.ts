/**
 * What one business-initiated (template) message costs the credit pool
 * (docs/quotas.md, rule 6): a rate card of integer micros per template category
 * and recipient calling code. The price of a recipient is found by the
 * longest calling-code prefix of its normalised number (`1` for the US and
 * Canada, `52` for Mexico, `55` for Brazil, …), else the card's default row.
 *
 * A recipient inside Meta's free entry point window with the sending number
 * (72 hours after a click-to-WhatsApp ad, `priceFor`) costs nothing.
 *
 * The card's shape is `schemas/rate-card.ts`; it comes from configuration
 * (`PRICING_RATE_CARD`, see `functions/commons/config.ts`);
 * `EXAMPLE_RATE_CARD` is the built-in default.
 */
import type { RateCard } from '../../schemas/rate-card.js';
import type { TemplateCategory } from '../../schemas/templates.js';
import { TEMPLATE_CATEGORIES } from '../../schemas/words.js';

/**
 * Example values only, in the spirit of Meta's per-message price list (USD,
 * 1 unit = 1,000,000 micros), rounded: configure your own card with what you
 * charge. E.g. a marketing message to Brazil costs 62,500 micros ($0.0625).
 */
export const EXAMPLE_RATE_CARD: RateCard = {
  default: { MARKETING: 60_000, UTILITY: 10_000, AUTHENTICATION: 20_000 },
  byCallingCode: {
    '1': { MARKETING: 25_000, UTILITY: 4_000, AUTHENTICATION: 13_500 },
    '44': { MARKETING: 52_900, UTILITY: 22_000, AUTHENTICATION: 35_800 },
    '52': { MARKETING: 30_500, UTILITY: 8_500, AUTHENTICATION: 23_900 },
    '55': { MARKETING: 62_500, UTILITY: 6_800, AUTHENTICATION: 6_800 },
    '91': { MARKETING: 10_700, UTILITY: 1_400, AUTHENTICATION: 1_400 },
  },
};

/** The calling code of the card that prices this number (longest prefix), or undefined for the default row. */
export function callingCodeOf(card: RateCard, waId: string): string | undefined {
  let best: string | undefined;
  for (const code of Object.keys(card.byCallingCode)) {
    if (waId.startsWith(code) && (best === undefined || code.length > best.length)) best = code;
  }
  return best;
}

/** The price in micros of one template message of `category` to `waId` (digits only). */
export function priceOf(card: RateCard, category: TemplateCategory, waId: string): number {
  const code = callingCodeOf(card, waId);
  return (code === undefined ? card.default : card.byCallingCode[code]!)[category];
}

/** What pricing needs to know of the recipient's conversation with the sending number. */
export interface RecipientWindows {
  /** Meta's free entry point window (after a click-to-WhatsApp ad): until then every message to the user is free. */
  freeEntryUntil?: string | null;
}

/**
 * The price in micros of one message of `category` to `waId` sent at `at`:
 * 0 while the recipient's free entry window with the sending number is open
 * (Meta charges no category then), else the rate card's.
 */
export function priceFor(card: RateCard, category: TemplateCategory, waId: string, windows: RecipientWindows, at: Date): number {
  return isFreeEntry(windows, at) ? 0 : priceOf(card, category, waId);
}

/** Whether the free entry window is still open at `at`. */
export function isFreeEntry(windows: RecipientWindows, at: Date): boolean {
  const until = windows.freeEntryUntil ? Date.parse(windows.freeEntryUntil) : NaN;
  return until > at.getTime();
}

/** Meta may recategorise a template; anything we do not price is priced as marketing, the dearest. */
export function pricedCategory(category: string | undefined): TemplateCategory {
  return (TEMPLATE_CATEGORIES as readonly string[]).includes(category ?? '') ? (category as TemplateCategory) : 'MARKETING';
}

/**
 * How many of `prices` (in order) fit in `affordableMicros`, and what they
 * cost together: the largest affordable prefix.
 */
export function affordablePrefix(prices: readonly number[], affordableMicros: number): { count: number; amountMicros: number } {
  let amountMicros = 0;
  let count = 0;
  for (const price of prices) {
    if (amountMicros + price > affordableMicros) break;
    amountMicros += price;
    count++;
  }
  return { count, amountMicros };
}
