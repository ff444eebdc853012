/**
 * The inbox search (`GET /v1/conversations?q=`): a case- and accent-blind
 * substring of the contact's name or number. Each conversation keeps a
 * `searchText` (its name, `waId` and contact key, normalised here) that its
 * writes refresh whenever the name changes; a query is normalised the same
 * way, so the repository only asks DynamoDB for `contains`.
 */
import type { ConversationStatus, StoredConversation } from './inbox-ports.js';

/** Lower case, accents dropped, runs of white space made one space, trimmed. */
export function normaliseSearch(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** What a conversation is found by: its contact's name and number (or BSUID, or group key). */
export function searchTextOf(parts: { name?: string | null; waId?: string | null; contactKey: string }): string {
  const words = [parts.name ?? '', parts.waId ?? '', parts.contactKey].filter((word, i, all) => word !== '' && all.indexOf(word) === i);
  return normaliseSearch(words.join(' '));
}

/**
 * A query as the repository matches it: normalised text, and, when it looks
 * like a phone number (`+55 (11) 98765-0001`), its digits alone (matched
 * against the number, which is stored as digits).
 */
export function searchQueryOf(q: string): { text: string; digits?: string } {
  const text = normaliseSearch(q);
  const digits = /^[\d\s+().-]+$/.test(q) ? q.replace(/\D/g, '') : '';
  return { text, ...(digits !== '' && digits !== text ? { digits } : {}) };
}

/** The status a conversation shows at `now`: none stored is `open`, a snooze whose time passed is `open` again. */
export function effectiveStatus(conversation: Pick<StoredConversation, 'status' | 'snoozedUntil'>, now: string): ConversationStatus {
  const status = conversation.status ?? 'open';
  if (status === 'snoozed' && (conversation.snoozedUntil === undefined || conversation.snoozedUntil <= now)) return 'open';
  return status;
}
