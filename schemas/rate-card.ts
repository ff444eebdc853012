/**
 * The rate card (docs/quotas.md, rule 6): what one template message costs the
 * credit pool, in integer micros per template category, by the recipient's
 * calling code. Configured as `PRICING_RATE_CARD` (functions) and the
 * `rateCard` context value (CDK); `functions/core/pricing.ts` prices with it.
 */
import * as z from 'zod';
import { micros } from './common.js';

/** Integer micros per message, per category. */
export const categoryPrices = z.strictObject({ MARKETING: micros, UTILITY: micros, AUTHENTICATION: micros });
export type CategoryPrices = z.infer<typeof categoryPrices>;

/** `PRICING_RATE_CARD`: `{"default": {…}, "byCallingCode": {"55": {"MARKETING": 62500, …}, …}}`. */
export const rateCardSchema = z.strictObject({
  /** Prices of any recipient whose calling code has no row of its own. */
  default: categoryPrices,
  /** Calling code (digits, no `+`) → prices. Longest match wins. */
  byCallingCode: z.record(z.string().regex(/^[1-9]\d{0,3}$/, 'A calling code: 1 to 4 digits.'), categoryPrices),
});
export type RateCard = z.infer<typeof rateCardSchema>;
