/**
 * Marketing preferences (docs/quotas.md, "Broadcasts: marketing opt-outs"):
 * what a user told Meta about a category of messages from one number
 * (`user_preferences`: `stop` or `resume` marketing messages), kept per
 * (number, contact, category) by the broadcast consumer, and read where a
 * MARKETING template is about to go out (the broadcast sender, and the single
 * sends through `isOptedOut`).
 *
 * Forward-only by Meta's time: a preference replaces the one kept only when
 * it is later (`at`); at the same second `stop` wins over `resume` (an
 * order-independent tie-break, the cautious side), so a redelivery, a late
 * older event or two events racing end in the same state.
 */
import type { UserPreferencesUpdated } from '../../schemas/events/user-preferences-updated.js';
import { contactIdentity } from './contact-id.js';

/** Meta's category of the marketing opt-out (`user_preferences[].category`). */
export const MARKETING_CATEGORY = 'marketing_messages';

/** The preference category a template of this category is subject to; `undefined`: none (utility, authentication). */
export function preferenceCategoryOf(templateCategory: string): string | undefined {
  return templateCategory === 'MARKETING' ? MARKETING_CATEGORY : undefined;
}

export interface MarketingPreference {
  accountId: string;
  whatsappPhno: string;
  /** The contact's key, as contacts are keyed (`contact-id.ts`): the canonical number, else the BSUID. */
  contactKey: string;
  waId?: string;
  userId?: string;
  category: string;
  /** `stop`, `resume`, or a value Meta adds (only `stop` opts out). */
  value: string;
  /** When the user changed it (Meta's time). */
  at: string;
  /** When we stored it. */
  updatedAt: string;
}

export interface MarketingPreferenceStore {
  /** Keeps it unless a later preference (or one of the same time that wins the tie) is kept: `false` then. */
  record(preference: MarketingPreference): Promise<boolean>;
  /** The preferences kept of these contacts of one number for one category, by contact key (one read per 100). */
  forContacts(accountId: string, whatsappPhno: string, contactKeys: string[], category: string): Promise<Map<string, MarketingPreference>>;
}

/**
 * Whether the user opted out of `category` from that number, among the
 * preferences given (those `forContacts` answered, or any list of them).
 * For a MARKETING template: `isOptedOut(prefs, phno, waId, MARKETING_CATEGORY)`.
 */
export function isOptedOut(
  prefs: Iterable<MarketingPreference> | ReadonlyMap<string, MarketingPreference>,
  whatsappPhno: string,
  waId: string,
  category: string,
): boolean {
  const list = prefs instanceof Map ? prefs.values() : (prefs as Iterable<MarketingPreference>);
  for (const p of list) {
    if (p.whatsappPhno === whatsappPhno && p.category === category && (p.contactKey === waId || p.waId === waId)) return p.value === 'stop';
  }
  return false;
}

/** Of `waIds` (contact keys of one number), those opted out of the category a template of `templateCategory` is subject to. */
export async function optedOutOf(
  store: Pick<MarketingPreferenceStore, 'forContacts'>,
  accountId: string,
  whatsappPhno: string,
  templateCategory: string,
  waIds: string[],
): Promise<Set<string>> {
  const category = preferenceCategoryOf(templateCategory);
  if (!category || waIds.length === 0) return new Set();
  const prefs = await store.forContacts(accountId, whatsappPhno, waIds, category);
  return new Set(waIds.filter((waId) => isOptedOut(prefs, whatsappPhno, waId, category)));
}

/** A `WhatsApp User Preferences Updated` event: kept when it is the latest word of that user. */
export async function applyUserPreference(
  deps: { marketingPreferences: Pick<MarketingPreferenceStore, 'record'>; clock: { now(): Date } },
  detail: Pick<UserPreferencesUpdated, 'accountId' | 'whatsapp_phno' | 'contact' | 'category' | 'value' | 'at'>,
): Promise<'applied' | 'stale' | 'ignored'> {
  const identity = contactIdentity(detail.contact);
  const time = Date.parse(detail.at);
  if (!identity || Number.isNaN(time)) return 'ignored';
  const applied = await deps.marketingPreferences.record({
    accountId: detail.accountId,
    whatsappPhno: detail.whatsapp_phno,
    ...identity,
    category: detail.category,
    value: detail.value,
    // One spelling (ISO, milliseconds, UTC), so kept times compare as strings.
    at: new Date(time).toISOString(),
    updatedAt: deps.clock.now().toISOString(),
  });
  return applied ? 'applied' : 'stale';
}

/** How a contact's marketing preference shows in its view: `null` when the user never said. */
export function marketingViewOf(preference: MarketingPreference | undefined): { optedOut: boolean; at: string } | null {
  return preference ? { optedOut: preference.value === 'stop', at: preference.at } : null;
}

/** The key `marketingOfContacts` answers by: a contact of one number. */
export function contactPreferenceKey(contact: { whatsappPhno: string; contactKey: string }): string {
  return `${contact.whatsappPhno}#${contact.contactKey}`;
}

/**
 * The marketing preference of each of these contacts (a page of `GET
 * /v1/contacts`: one read per number and 100 contacts), by
 * `contactPreferenceKey`; a contact who never said is absent.
 */
export async function marketingOfContacts(
  store: Pick<MarketingPreferenceStore, 'forContacts'>,
  accountId: string,
  contacts: { whatsappPhno: string; contactKey: string }[],
): Promise<Map<string, MarketingPreference>> {
  const byNumber = new Map<string, string[]>();
  for (const c of contacts) byNumber.set(c.whatsappPhno, [...(byNumber.get(c.whatsappPhno) ?? []), c.contactKey]);
  const out = new Map<string, MarketingPreference>();
  const reads = [...byNumber].map(([phno, keys]) => store.forContacts(accountId, phno, keys, MARKETING_CATEGORY));
  for (const prefs of await Promise.all(reads)) for (const p of prefs.values()) out.set(contactPreferenceKey(p), p);
  return out;
}

/** What a use case that reads preferences needs (the API's contact list, single sends). */
export interface MarketingPreferenceDeps {
  marketingPreferences: Pick<MarketingPreferenceStore, 'forContacts'>;
}
