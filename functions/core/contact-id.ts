/**
 * One way to key a WhatsApp user, so one person never becomes two contacts:
 * the canonical number when Meta gave one (`canonicalWaId`, the wire rules in
 * `schemas/whatsapp-ids.ts`), else Meta's business-scoped user id (BSUID) of
 * a user known only by username.
 */
import { canonicalWaId, isBusinessScopedUserId } from '../../schemas/whatsapp-ids.js';

export interface ContactIdentity {
  /** The canonical number, when Meta gave one. */
  waId?: string;
  /** Meta's business-scoped user id, when Meta gave one. */
  userId?: string;
  /** What keys the contact: the canonical number, else the BSUID. */
  contactKey: string;
}

/**
 * Who a message is from (or a status is for), from whatever Meta gave.
 * Undefined when there is neither a plausible number nor a well-formed BSUID.
 */
export function contactIdentity(input: { waId?: string | null; userId?: string | null }): ContactIdentity | undefined {
  const waId = input.waId ? canonicalWaId(input.waId) : undefined;
  const userId = input.userId && isBusinessScopedUserId(input.userId) ? input.userId : undefined;
  const contactKey = waId ?? userId;
  if (!contactKey) return undefined;
  return { contactKey, ...(waId ? { waId } : {}), ...(userId ? { userId } : {}) };
}

/** A `contacts` entry of a change, as Meta sends it (`wa_id`, `user_id`, `profile.name`, …). */
export interface ContactEntry {
  wa_id?: string;
  user_id?: string;
  [field: string]: unknown;
}

/**
 * The contact identity rule (docs/architecture.md, "Contact identity") where
 * a change lists several `contacts`: which entry, if any, is the sender's.
 * The message's `from` (or `from_user_id` when it has no phone) identifies
 * the sender; an entry is theirs only when it names the same user (canonical
 * number, else BSUID), and then adds the profile name and `user_id`. An entry
 * naming someone else, or a placeholder, is ignored. Only when the message
 * names nobody usable (no `from`, a placeholder) does a change's single
 * entry stand in, as `senderOf` below reads it.
 *
 * Undefined `identity` when nothing usable names the sender: ingestion
 * reports the item invalid (answered 200, counted) rather than publish what
 * no consumer can file.
 */
export function pairSenderContact<C extends ContactEntry>(
  sender: { waId?: string | null; userId?: string | null },
  contacts: readonly C[],
): { identity?: ContactIdentity; contact?: C } {
  const own = contactIdentity(sender);
  if (!own) {
    const only = contacts.length === 1 ? contacts[0] : undefined;
    const identity = only ? contactIdentity({ waId: only.wa_id, userId: only.user_id }) : undefined;
    return identity ? { identity, contact: only } : {};
  }
  const contact = contacts.find((entry) => namesSame(own, entry));
  // The entry may add the BSUID of a sender known by phone (never replace the phone).
  const userId = own.userId ?? (contact?.user_id && isBusinessScopedUserId(contact.user_id) ? contact.user_id : undefined);
  return { identity: { ...own, ...(userId ? { userId } : {}) }, ...(contact ? { contact } : {}) };
}

/** Whether a contacts entry names the sender: by canonical number when the sender has one, else by BSUID. */
function namesSame(sender: ContactIdentity, entry: ContactEntry): boolean {
  if (sender.waId) return entry.wa_id !== undefined && canonicalWaId(entry.wa_id) === sender.waId;
  return entry.user_id !== undefined && entry.user_id === sender.userId;
}

/** A sender as Meta wrote them (raw: replies go back to exactly this address), and the profile name when it is theirs. */
export interface Sender {
  waId?: string;
  userId?: string;
  name?: string;
}

/**
 * Who sent a message, by the rule of `pairSenderContact` (docs/architecture.md,
 * "Contact identity") applied to the one `contact` the bus event carries: the
 * message's `from` (or `from_user_id`) identifies the sender; the entry adds
 * the profile name and its other id only when it names the same user; it
 * stands in only when the message names nobody usable. Empty when neither
 * names anyone.
 */
export function senderOf(message: { from?: string; from_user_id?: string }, contact?: ContactEntry & { profile?: { name?: unknown } }): Sender {
  const own = contactIdentity({ waId: message.from, userId: message.from_user_id });
  const name = typeof contact?.profile?.name === 'string' && contact.profile.name.trim() !== '' ? contact.profile.name : undefined;
  const entry = contact ? contactIdentity({ waId: contact.wa_id, userId: contact.user_id }) : undefined;
  const raw = (identity: ContactIdentity | undefined, waId: string | undefined, userId: string | undefined): Sender => ({
    ...(identity?.waId && waId ? { waId } : {}),
    ...(identity?.userId && userId ? { userId } : {}),
  });
  if (!own) return entry ? { ...raw(entry, contact?.wa_id, contact?.user_id), ...(name ? { name } : {}) } : {};
  if (!contact || !namesSame(own, contact)) return raw(own, message.from, message.from_user_id);
  return { ...raw(entry, contact.wa_id, contact.user_id), ...raw(own, message.from, message.from_user_id), ...(name ? { name } : {}) };
}
