/**
 * WhatsApp's user ids on the wire, and the one way we write them, so one
 * person never becomes two contacts.
 *
 * Meta's `wa_id` is the phone number as WhatsApp registered it, and for a few
 * countries that differs from how the same number is written today (or how we
 * wrote it when we sent to it). Every `wa_id`, `from` and `recipient_id` goes
 * through `canonicalWaId` before it becomes part of a key.
 *
 * Users with a username may come with no phone number at all, only Meta's
 * business-scoped user id (BSUID, `user_id`, e.g. `BR.1502576394655843`).
 * The conversation ids the API shows are built and read back here too.
 */

/**
 * The canonical digits of a WhatsApp user's number, or undefined when the
 * input holds no plausible number (E.164 allows at most 15 digits).
 */
export function canonicalWaId(input: string): string | undefined {
  const digits = input.replace(/\D/g, '');
  if (!/^[1-9]\d{6,14}$/.test(digits)) return undefined;

  // Brazil (55): since 2016 every mobile has 9 digits, the first being an
  // added 9. Accounts registered before that still report the old 8-digit
  // number (55 + 2-digit DDD + 8 digits, mobile ranges 6-9). Canonical is the
  // current form with the ninth digit. 8-digit landlines (2-5) stay as they are.
  const brazilLegacyMobile = /^55([1-9][1-9])([6-9]\d{7})$/.exec(digits);
  if (brazilLegacyMobile) return `55${brazilLegacyMobile[1]}9${brazilLegacyMobile[2]}`;

  // Mexico (52): mobiles used to be dialled from abroad as 52 1 + 10 digits;
  // the 1 was abolished in 2019 but WhatsApp still reports many as 521….
  // Canonical is 52 + the 10-digit national number (no area code starts with 1).
  const mexicoMobile = /^521(\d{10})$/.exec(digits);
  if (mexicoMobile) return `52${mexicoMobile[1]}`;

  // Argentina (54): mobiles are dialled from abroad as 54 9 + 10 digits and
  // WhatsApp reports them so, while the same number is often stored as
  // 54 + 10 digits. Canonical is 54 + the 10-digit national number (no area
  // code starts with 9).
  const argentinaMobile = /^549(\d{10})$/.exec(digits);
  if (argentinaMobile) return `54${argentinaMobile[1]}`;

  return digits;
}

/** BSUIDs: a two-letter country code, a period, then letters and digits (`US.ENT.…` for parent ids). */
const BSUID = /^[A-Za-z]{2}(\.[A-Za-z0-9]{1,128}){1,3}$/;

export function isBusinessScopedUserId(value: string): boolean {
  return BSUID.test(value);
}

/**
 * The conversation id the API shows: `{whatsapp_phno}_{contactKey}`. URL-safe
 * (digits, letters, `.` and one `_`), and the number never contains `_`, so
 * it splits back unambiguously.
 */
export function conversationIdOf(whatsappPhno: string, contactKey: string): string {
  return `${whatsappPhno}_${contactKey}`;
}

export function parseConversationId(conversationId: string): { whatsappPhno: string; contactKey: string } | undefined {
  const match = /^([1-9]\d{6,14})_([A-Za-z0-9.]{1,160})$/.exec(conversationId);
  if (!match) return undefined;
  const contactKey = match[2]!;
  // Only ids this API could have minted: a canonical number, a BSUID or a group's key.
  if (isGroupContactKey(contactKey)) return groupIdOfKey(contactKey) === undefined ? undefined : { whatsappPhno: match[1]!, contactKey };
  if (/^\d+$/.test(contactKey) ? canonicalWaId(contactKey) !== contactKey : !isBusinessScopedUserId(contactKey)) return undefined;
  return { whatsappPhno: match[1]!, contactKey };
}

/**
 * A WhatsApp group's conversation on a number is keyed like a contact's, by
 * `group.{id}`: Meta's group id as it is when it is letters and digits (all
 * Meta sends today), else `group.x.{hex of its UTF-8}`, so the key (and the
 * conversation id built from it) stays URL-safe and reads back to the id.
 * Never a number nor a BSUID (five letters before the first period).
 */
export function groupContactKey(groupId: string): string {
  return /^[A-Za-z0-9]{1,150}$/.test(groupId) ? `${GROUP_KEY_PREFIX}${groupId}` : `${GROUP_KEY_PREFIX}x.${Buffer.from(groupId, 'utf8').toString('hex')}`;
}

const GROUP_KEY_PREFIX = 'group.';

export function isGroupContactKey(contactKey: string): boolean {
  return contactKey.startsWith(GROUP_KEY_PREFIX);
}

/** The group id a group's key was built from; undefined when it is not one `groupContactKey` builds. */
export function groupIdOfKey(contactKey: string): string | undefined {
  if (!isGroupContactKey(contactKey)) return undefined;
  const rest = contactKey.slice(GROUP_KEY_PREFIX.length);
  const hex = /^x\.((?:[0-9a-f]{2})+)$/.exec(rest);
  if (hex) {
    const id = Buffer.from(hex[1]!, 'hex').toString('utf8');
    return groupContactKey(id) === contactKey ? id : undefined;
  }
  return /^[A-Za-z0-9]{1,150}$/.test(rest) ? rest : undefined;
}
