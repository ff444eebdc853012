/**
 * The automation consumer's own items (docs/automations.md, "The consumer";
 * docs/data-model.md): the decision claim per inbound message, and per
 * conversation the lock, the chatbot session, the reply-rate buckets, the
 * fallback marker and the first-message marker; per route the round-robin
 * cursor. (A flag for an agent is the conversation's own `needsAgent`.)
 *
 * None of them lives under `A#{accountId}` / `AUTO#…`: that prefix is the
 * stored automations' (one Query reads a whole set), and merges copy it.
 * The conversation's items share one partition per conversation, so they
 * never crowd the account partition. Times are ISO strings; `leaseUntilMs`
 * is epoch milliseconds (leases are seconds long); `expiresAt` is the
 * table's TTL (epoch seconds).
 */
import * as z from 'zod';
import { automationDecision } from '../../../../schemas/automations.js';
import { defineEntity } from './entity.js';

/** One conversation's automation state: `{phno}` and `{contactKey}` as in the inbox's keys. */
const CONVERSATION_STATE = 'AUTOCONV#{accountId}#{whatsappPhno}#{contactKey}';

/**
 * The decision for one inbound message, claimed with a conditional write:
 * `in-progress` under a lease while a run works on it (with the plan it made
 * and how far it got, so a run taking over after a crash resumes it),
 * `decided` with the decision once done. Kept 10 days, as the inbox's dedupe
 * records (longer than Meta's 7 days of redeliveries).
 */
export const automationClaim = defineEntity({
  type: 'automationClaim',
  key: { pk: 'AUTOCLAIM#{phoneNumberId}#{wamid}', sk: 'CLAIM' },
  schema: z.object({
    status: z.enum(['in-progress', 'decided']),
    leaseUntilMs: z.number().optional(),
    claimedAt: z.string(),
    expiresAt: z.number(),
    /** The plan the run made and the outcomes of the actions it carried out (`RunProgress`). */
    progress: z.record(z.string(), z.unknown()).optional(),
    accountId: z.string().optional(),
    whatsapp_phno: z.string().optional(),
    contactKey: z.string().optional(),
    decision: automationDecision.optional(),
    decidedAt: z.string().optional(),
  }),
});

/** One decision at a time per conversation: held by `owner` until `leaseUntilMs`. */
export const conversationLock = defineEntity({
  key: { pk: CONVERSATION_STATE, sk: 'LOCK' },
  schema: z.object({ owner: z.string(), leaseUntilMs: z.number(), at: z.string(), expiresAt: z.number() }),
});

/** The chatbot session open on (number, contact); TTL 24 h after its last activity. */
export const chatbotSession = defineEntity({
  type: 'chatbotSession',
  key: { pk: CONVERSATION_STATE, sk: 'SESSION' },
  schema: z.object({
    chatbotId: z.string(),
    stepId: z.string(),
    retries: z.number(),
    startedAt: z.string(),
    lastActivityAt: z.string(),
    startedBy: z.string(),
    expiresAt: z.number(),
  }),
});

/** Automatic replies sent to the conversation in one 10-minute window (`{bucket}`: the window's start, ISO). */
export const replyBucket = defineEntity({
  key: { pk: CONVERSATION_STATE, sk: 'REPLIES#{bucket}' },
  schema: z.object({ count: z.number(), expiresAt: z.number() }),
});

/** When the conversation last got a fallback (at most one per 30 minutes). */
export const fallbackMarker = defineEntity({
  key: { pk: CONVERSATION_STATE, sk: 'FALLBACK' },
  schema: z.object({ lastAt: z.string(), expiresAt: z.number() }),
});

/**
 * The contact has written to this number: put once, by the first message the
 * consumer saw. `firstWamid` names that message, so a redelivery of it is
 * still the first; it is absent when the contact was known to the inbox
 * before the marker existed (never a welcome then).
 */
export const firstMessageMarker = defineEntity({
  key: { pk: CONVERSATION_STATE, sk: 'SEEN' },
  schema: z.object({ firstWamid: z.string().optional(), at: z.string() }),
});

/** A route's round-robin position: how many conversations it has handed out. */
export const roundRobinCursor = defineEntity({
  key: { pk: 'AUTOROUTE#{accountId}#{routeId}', sk: 'CURSOR' },
  schema: z.object({ position: z.number() }),
});
