/**
 * The team inbox's items (docs/data-model.md, "Team inbox"): contacts (and
 * their BSUID links), conversations (one user's, or a WhatsApp group's),
 * messages, the wamid pointers that lead a status, an edit or a deletion to
 * its message, the edits and deletions themselves, and the consumer's dedupe
 * records.
 */
import * as z from 'zod';
import { aiAnswerMeta, automationDecision } from '../../../../schemas/automations.js';
import type { MessageStatus } from '../../../../schemas/inbox.js';
import type { Direction } from '../../../core/inbox-ports.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity, word } from './entity.js';

/** A contact of one number: the same person writing to two numbers is two contacts. */
export const contact = defineEntity({
  type: 'contact',
  key: { pk: ACCOUNT_PARTITION, sk: 'CONTACT#{whatsappPhno}#{contactKey}' },
  schema: z.object({
    accountId: z.string(),
    whatsapp_phno: z.string(),
    contactKey: z.string(),
    waId: z.string().optional(),
    userId: z.string().optional(),
    name: z.string().optional(),
    attributes: z.record(z.string(), z.unknown()).default({}),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    blocked: z.boolean().optional().catch(undefined),
    /** The name WhatsApp's profile last sent; `name` shows `customName` (an agent's) when there is one. */
    profileName: z.string().optional(),
    customName: z.string().optional(),
    nameEditedAt: z.string().optional(),
  }),
});

/** A BSUID seen next to a number: a later username-only message from it finds the same contact. */
export const contactUserId = defineEntity({
  type: 'contactUserId',
  key: { pk: ACCOUNT_PARTITION, sk: 'CONTACTUSER#{whatsappPhno}#{userId}' },
  schema: z.object({ contactKey: z.string() }),
});

/** Conversations sort newest first by their last message: every one of the account (gsi1), or one number's (gsi2). */
const CONVERSATION_ORDER = '{lastMessageAt}#{whatsappPhno}#{contactKey}';

const optionalText = z.unknown().optional().transform((value) => (typeof value === 'string' ? value : undefined));

const nullableText = z.string().nullable().catch(null);

/** A conversation's ad referral as stored (`AdReferral` in `message-content.ts`). */
const adReferral = z.object({
  sourceId: nullableText,
  sourceType: nullableText,
  sourceUrl: nullableText,
  headline: nullableText,
  body: nullableText,
  mediaType: nullableText,
  ctwaClid: nullableText,
  at: z.string(),
  wamid: z.string(),
});

/** `{at}#{wamid}` of a conversation's last message: its last-message fields move only to a later one. */
export function lastMessageKey(at: string, wamid: string): string {
  return `${at}#${wamid}`;
}

export const conversation = defineEntity({
  type: 'conversation',
  key: { pk: ACCOUNT_PARTITION, sk: 'CONV#{whatsappPhno}#{contactKey}' },
  indexes: {
    gsi1: { pk: 'A#{accountId}#CONV', sk: CONVERSATION_ORDER },
    gsi2: { pk: 'A#{accountId}#CONV#{whatsappPhno}', sk: CONVERSATION_ORDER },
  },
  schema: z.object({
    accountId: z.string(),
    whatsapp_phno: z.string(),
    contactKey: z.string(),
    conversationId: z.string().optional(),
    unreadCount: z.unknown().optional().transform((value) => Number(value ?? 0)),
    waId: optionalText,
    userId: optionalText,
    lastWaId: optionalText,
    contactName: optionalText,
    createdAt: optionalText,
    lastMessageAt: optionalText,
    lastMessageKey: optionalText,
    lastMessagePreview: optionalText,
    lastMessageDirection: optionalText,
    assignedTeamId: optionalText,
    /** Written with `assignedTeamId` (removed when a team is assigned without a member). */
    assignedUserId: optionalText,
    windowOpenUntil: optionalText,
    /** Only agents' replies set it, only forward. */
    lastAgentReplyAt: optionalText,
    /** `{reason, at}`: set by an automation, removed by an agent's reply. */
    needsAgent: z.object({ reason: z.string(), at: z.string() }).optional().catch(undefined),
    /** The latest click-to-WhatsApp ad referral (default number only); replaced only by one with a later `adReferralKey`. */
    adReferral: adReferral.optional().catch(undefined),
    adReferralKey: optionalText,
    /** Meta's free entry point window (72 hours from the referral's message); only moves forward. */
    freeEntryUntil: optionalText,
    /** `group` for a WhatsApp group's conversation (`contactKey` `group.{id}`); absent: one user's. */
    kind: optionalText,
    groupId: optionalText,
    /** `open` | `pending` | `resolved` | `snoozed` (absent before issue 18: `open`); `snoozedUntil` only with `snoozed`. */
    status: optionalText,
    snoozedUntil: optionalText,
    statusChangedAt: optionalText,
    statusChangedBy: optionalText,
    /** The latest inbound message (`lastInboundKey` `{at}#{wamid}`, only forward): read receipts name it. */
    lastInboundWamid: optionalText,
    lastInboundAt: optionalText,
    /** An agent's name for the contact (wins over the profile's), and the search text with it. */
    customName: optionalText,
  }),
});

/** `media` on a message item (`StoredMedia` in `media-ports.ts`). */
const storedMedia = z.object({
  status: z.enum(['stored', 'failed']),
  key: z.string().optional(),
  /** An agent's outbound file sent by link (no key). */
  link: z.string().optional(),
  mimeType: z.string().optional(),
  fileName: z.string().optional(),
  caption: z.string().optional(),
  sizeBytes: z.number().optional(),
  sha256: z.string().optional(),
  voice: z.literal(true).optional().catch(undefined),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  at: z.string(),
});

/** One partition per conversation, oldest first. */
export const message = defineEntity({
  type: 'message',
  key: { pk: 'C#{accountId}#{whatsappPhno}#{contactKey}', sk: 'M#{timestamp}#{wamid}' },
  schema: z.object({
    accountId: z.string().optional(),
    whatsapp_phno: z.string().optional(),
    phoneNumberId: z.string().optional(),
    contactKey: z.string().optional(),
    wamid: z.string(),
    direction: word<Direction>(),
    messageType: z.string(),
    text: z.string().default(''),
    timestamp: z.string(),
    status: word<MessageStatus>(),
    statusRank: z.number().optional(),
    statusAt: z.string().optional(),
    content: z.record(z.string(), z.unknown()).optional(),
    receivedAt: z.string().optional(),
    bizOpaqueCallbackData: z.string().optional(),
    broadcastId: z.string().optional(),
    error: z.object({ code: z.number().nullish(), title: z.string().nullish() }).optional(),
    /**
     * The automation consumer's decision on an inbound message. It may be
     * written before the inbox consumer writes the message: the item is then
     * a placeholder (`direction: "in"`, no `receivedAt`) that listings skip
     * and the inbox consumer's write completes.
     */
    automationDecision: automationDecision.optional().catch(undefined),
    ai: aiAnswerMeta.optional().catch(undefined),
    /** `business_app` (an echo) or `history` (the app's past threads); absent: through the Cloud API. */
    source: optionalText,
    /** In a group: the member who wrote it. */
    from: z.object({ waId: z.string().optional(), userId: z.string().optional(), name: z.string().optional() }).optional().catch(undefined),
    /** The text as first written, kept by the first edit applied. */
    originalText: z.string().optional(),
    /** Every edit applied, by the edit's wamid: `{text, at}` (commutative: any order ends the same). */
    editVersions: z.record(z.string(), z.object({ text: z.string(), at: z.string() })).optional().catch(undefined),
    /** `{at}#{wamid}` of the edit `text` shows: only a later edit replaces it. */
    editKey: z.string().optional(),
    editedAt: z.string().optional(),
    deleted: z.boolean().optional(),
    deletedAt: z.string().optional(),
    /** A media message's file, written once by the media consumer (`recordMedia`): stored, or failed and why. */
    media: storedMedia.optional().catch(undefined),
  }),
});

/**
 * An edit or a deletion (revoke) of a message, by the original's wamid:
 * always written first, then applied to the original if its wamid pointer
 * exists; the original, once recorded, applies every one found here (write,
 * then read, on both sides: whichever comes second sees the other).
 */
export const messageAmendment = defineEntity({
  type: 'messageAmendment',
  key: { pk: 'AMEND#{phoneNumberId}#{originalWamid}', sk: 'AMEND#{wamid}' },
  schema: z.object({
    kind: word<'edit' | 'revoke'>(),
    originalWamid: z.string(),
    wamid: z.string(),
    /** Meta's time of the edit or deletion. */
    at: z.string(),
    /** An edit's new text (a text's body, a media's caption). */
    text: z.string().optional(),
    createdAt: z.string(),
    expiresAt: z.number(),
  }),
});

/** A message item the automation consumer's decision created before the inbox consumer wrote the message. */
export function isDecisionPlaceholder(item: { direction: string; receivedAt?: string }): boolean {
  return item.direction === 'in' && item.receivedAt === undefined;
}

/** Leads a status, an edit or a deletion, which name only the wamid, to its message item (written for every message since issue 16). */
export const wamidPointer = defineEntity({
  type: 'wamidPointer',
  key: { pk: 'WAMID#{phoneNumberId}#{wamid}', sk: 'WAMID' },
  schema: z.object({
    messagePk: z.string(),
    messageSk: z.string(),
    accountId: z.string(),
    whatsapp_phno: z.string().optional(),
    contactKey: z.string().optional(),
    createdAt: z.string().optional(),
    expiresAt: z.number().optional(),
  }),
});

/** An event a consumer has handled, scoped by number: each consumer dedupes under its own sort key. */
export const consumerDedupe = defineEntity({
  type: 'dedupe',
  key: { pk: 'DEDUP#{phoneNumberId}#{eventId}', sk: '{consumer}' },
  schema: z.object({ wamid: z.string(), at: z.string(), expiresAt: z.number() }),
});

/** An internal note on a conversation (never sent): one partition per conversation, oldest first. */
export const conversationNote = defineEntity({
  type: 'conversationNote',
  key: { pk: 'NOTES#{accountId}#{whatsappPhno}#{contactKey}', sk: 'NOTE#{createdAt}#{noteId}' },
  schema: z.object({
    noteId: z.string(),
    text: z.string(),
    authorSubject: z.string(),
    authorUserId: z.string().optional(),
    createdAt: z.string(),
  }),
});
