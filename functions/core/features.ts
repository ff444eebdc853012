/**
 * The feature policy (docs/architecture.md): the ONE place that decides, from a
 * number's role, which features it offers. Team inbox, broadcast and
 * automations run on every number; CTWA attribution, Catalog, Integrations and
 * API/Webhooks belong to the default number only, so they move with the
 * default when it is replaced. Every later capability asks here
 * (`requireFeature`) instead of testing `isDefault` itself.
 */
import type { FeatureSet } from '../../schemas/numbers.js';
import { FEATURES, type Feature } from '../../schemas/words.js';
import { FeatureUnavailable } from './errors.js';

/** Features tied to the account's default number. */
export const DEFAULT_NUMBER_ONLY_FEATURES: readonly Feature[] = ['ctwa', 'catalog', 'integrations', 'apiWebhooks'];

/** What the policy needs to know about a number: its role, and its name for the error. */
export interface NumberRole {
  whatsapp_phno: string;
  isDefault: boolean;
}

export function isFeatureAvailable(number: Pick<NumberRole, 'isDefault'>, feature: Feature): boolean {
  return number.isDefault || !DEFAULT_NUMBER_ONLY_FEATURES.includes(feature);
}

/** Every feature with whether this number offers it, as `GET /v1/numbers` shows. */
export function featuresOf(number: Pick<NumberRole, 'isDefault'>): FeatureSet {
  return Object.fromEntries(FEATURES.map((feature) => [feature, isFeatureAvailable(number, feature)])) as FeatureSet;
}

/** Throws 403 `FEATURE_UNAVAILABLE`, naming the feature and the number, when the number does not offer it. */
export function requireFeature(number: NumberRole, feature: Feature): void {
  if (!isFeatureAvailable(number, feature)) throw new FeatureUnavailable(feature, number.whatsapp_phno);
}
