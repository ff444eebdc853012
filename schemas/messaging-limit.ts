/**
 * Meta's portfolio messaging limit (docs/quotas.md, "Portfolio messaging
 * limit"): the tiers, a number's share of the limit (`PATCH /v1/numbers/{phno}`)
 * and what `GET /v1/account` answers about it.
 */
import * as z from 'zod';
import { accountView } from './accounts.js';

/**
 * The tiers Meta sets per business portfolio since October 2025, and the
 * unique users each allows in a moving 24 hours (`null`: unlimited). Older
 * payloads also carry `TIER_50` and `TIER_1K`.
 */
export const TIER_LIMITS: Readonly<Record<string, number | null>> = {
  TIER_50: 50,
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: null,
};

/**
 * A number's share of its portfolio's limit: `percent` caps what the number
 * may use (of the limit); `reserved` keeps that many units for the number
 * alone (other numbers cannot take them). `null` clears the share.
 */
export const messagingLimitShare = z
  .union([
    z.strictObject({ percent: z.int().min(1).max(100) }),
    z.strictObject({ reserved: z.int().min(1).max(1_000_000) }),
  ])
  .meta({ description: 'Either {"percent": 1..100} (cap) or {"reserved": n} (units kept for this number only).', example: { reserved: 20 } });
export type MessagingLimitShare = z.infer<typeof messagingLimitShare>;

export const messagingLimitShareView = z.union([z.object({ percent: z.int() }), z.object({ reserved: z.int() })]).nullable();

export const numberLimitView = z.object({
  whatsapp_phno: z.string(),
  /** Unique users this number reached (its units held) in the moving window. */
  usedLast24h: z.int(),
  share: messagingLimitShareView,
  /** New users this number may reach now (the others' reserved units and its own cap taken into account); `null` when unlimited or unknown. */
  available: z.int().nullable(),
});

export const portfolioLimitView = z.object({
  /** The Meta business portfolio id, or the account id when the numbers' WABAs name none. */
  portfolioId: z.string(),
  /** `TIER_250` … `TIER_UNLIMITED`; `null` until Meta reports it (nothing is held back then). */
  tier: z.string().nullable(),
  /** Unique users per moving 24 hours; `null` when unlimited or not known. */
  limit: z.int().nullable(),
  usedLast24h: z.int(),
  byNumber: z.array(numberLimitView),
});
export type PortfolioLimitView = z.infer<typeof portfolioLimitView>;

/** The account's own portfolio (its default number's), and any other portfolio its numbers belong to. */
export const messagingLimitView = portfolioLimitView.extend({ otherPortfolios: z.array(portfolioLimitView) });
export type MessagingLimitView = z.infer<typeof messagingLimitView>;

/** `GET /v1/account`: the account with its messaging limit. */
export const accountWithLimitView = accountView.extend({ messagingLimit: messagingLimitView });
