/**
 * The contact list with each contact's marketing preference (`GET
 * /v1/contacts`, `marketing` in the contact view): one page of contacts, then
 * their preferences in one read per number and 100 contacts
 * (`marketing-preferences.ts`).
 */
import type { ContactListFilter, InboxDeps, StoredContact } from './inbox-ports.js';
import { listContacts } from './inbox-views.js';
import { type MarketingPreference, type MarketingPreferenceDeps, contactPreferenceKey, marketingOfContacts } from './marketing-preferences.js';
import type { Page, PageRequest } from './ports.js';

export async function listContactsWithMarketing(
  deps: Pick<InboxDeps, 'inbox'> & MarketingPreferenceDeps,
  accountId: string,
  filter: ContactListFilter,
  page: PageRequest,
): Promise<Page<{ contact: StoredContact; marketing?: MarketingPreference }>> {
  const contacts = await listContacts(deps, accountId, filter, page);
  const prefs = await marketingOfContacts(deps.marketingPreferences, accountId, contacts.items);
  return {
    items: contacts.items.map((contact) => {
      const marketing = prefs.get(contactPreferenceKey(contact));
      return { contact, ...(marketing ? { marketing } : {}) };
    }),
    nextCursor: contacts.nextCursor,
  };
}
