/**
 * The word lists the contracts are built on and the core's rules branch on:
 * counted resources, add-on types, template categories and number features.
 * Plain lists, no schema, so a function that only needs a word does not
 * bundle the schemas (`accounts.ts`, `templates.ts`, `numbers.ts` build
 * theirs from these).
 */

/** Resources a plan sets a limit for. */
export const PLAN_RESOURCES = ['users', 'teams', 'chatbotSessions', 'aiResponses'] as const;
export type PlanResource = (typeof PLAN_RESOURCES)[number];

/** Counted resources, as shown in `limits` / `usage`. */
export const QUOTA_RESOURCES = ['users', 'teams', 'chatbotSessions', 'aiResponses', 'additionalNumbers'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** What an account can buy more of; `number` raises `additionalNumbers`. */
export const ADDON_TYPES = ['users', 'teams', 'chatbotSessions', 'aiResponses', 'number'] as const;
export type AddonType = (typeof ADDON_TYPES)[number];

/** Meta's template categories, each priced on its own (`schemas/rate-card.ts`). */
export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;

/**
 * What a number can offer. Which ones a given number offers is the feature
 * policy's decision (`functions/core/features.ts`); `GET /v1/numbers` shows it.
 */
export const FEATURES = ['teamInbox', 'broadcast', 'automations', 'ctwa', 'catalog', 'integrations', 'apiWebhooks'] as const;
export type Feature = (typeof FEATURES)[number];
