/**
 * The team inbox's contracts: the bus events its consumer reads (parsed a
 * little more tolerantly than their contracts in `schemas/events/` where
 * Meta's payloads have become optional), the dashboard API's bodies and
 * answers for contacts, conversations and messages, and the Graph API shapes
 * the sender and the local simulator exchange.
 */
import * as z from 'zod';
import { aiAnswerMeta, automationDecision } from './automations.js';
import { entityId, pageQuery, whatsappPhno } from './common.js';
import { messageReceived, metaMessageItem } from './events/message-received.js';
import { messageRecorded } from './events/message-recorded.js';
import { messageStatusUpdated, metaStatusItem } from './events/message-status-updated.js';
import { parseConversationId } from './whatsapp-ids.js';

// ---------------------------------------------------------------- bus events

/**
 * An inbound message as the inbox reads it. Users with a username may come
 * with no phone number: `from` is then absent and `from_user_id` (their BSUID)
 * identifies them, so `from` is optional here.
 */
export const inboxMessageReceived = messageReceived.extend({
  message: metaMessageItem.extend({
    from: z.string().optional(),
    from_user_id: z.string().optional(),
  }),
});

/**
 * An echo (`business_app`) or a history message as the inbox reads it: its
 * contract as is (`message` loose, `from` optional).
 */
export const inboxMessageRecorded = messageRecorded;

/** A status as the inbox reads it: `recipient_user_id` replaces `recipient_id` for username-only users. */
export const inboxStatusUpdated = messageStatusUpdated.extend({
  status: metaStatusItem.extend({
    recipient_user_id: z.string().optional(),
    errors: z.array(z.looseObject({ code: z.union([z.number(), z.string()]).optional(), title: z.string().optional(), message: z.string().optional() })).optional(),
  }),
});

export type InboxMessageReceived = z.infer<typeof inboxMessageReceived>;
export type InboxStatusUpdated = z.infer<typeof inboxStatusUpdated>;
export type InboxMessageRecorded = z.infer<typeof inboxMessageRecorded>;

// ------------------------------------------------------------ dashboard API

export const inboxListQuery = pageQuery.extend({ whatsapp_phno: whatsappPhno.optional() });

export const CONVERSATION_KINDS = ['direct', 'group'] as const;
export type ConversationKind = (typeof CONVERSATION_KINDS)[number];

export const conversationListQuery = inboxListQuery.extend({
  kind: z.enum(CONVERSATION_KINDS).optional().meta({ description: '`group`: WhatsApp groups only; `direct`: one-to-one conversations only; both without.' }),
});

export const messagesQuery = pageQuery;

export const conversationParams = z.object({
  conversationId: z
    .string()
    .regex(/^[1-9]\d{6,14}_[A-Za-z0-9.]{1,160}$/, 'Not a conversation id this API returned.')
    .meta({
      description: '`{whatsapp_phno}_{waId}` (or `_{BSUID}` for a username-only user, `_group.{groupId}` for a WhatsApp group), as listed.',
      example: '15550001001_5511987650001',
    })
    .transform((value, ctx) => {
      const parsed = parseConversationId(value);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: 'Not a conversation id this API returned.' });
        return z.NEVER;
      }
      return { conversationId: value, ...parsed };
    }),
});

/**
 * An agent's reply: free text, or saved reply material (`/v1/automations/reply-material`)
 * with its placeholders filled for the contact. Exactly one of the two.
 * WhatsApp caps a text message body at 4,096 characters.
 */
export const replyBody = z
  .strictObject({
    text: z.string().trim().min(1).max(4096).optional(),
    replyMaterialId: entityId.optional().meta({ description: 'Reply material to send; a template material is sent even with the 24-hour window closed.' }),
  })
  .superRefine((body, ctx) => {
    if (body.text !== undefined && body.replyMaterialId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['replyMaterialId'], message: 'Give either text or replyMaterialId, not both.' });
    } else if (body.text === undefined && body.replyMaterialId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'Give text, or replyMaterialId to send saved reply material.' });
    }
  })
  .meta({ description: 'Exactly one of `text` (free text) or `replyMaterialId` (saved reply material, placeholders filled for the contact).' });

export const assignBody = z.strictObject({
  teamId: entityId,
  userId: entityId.optional().meta({ description: 'A user of the account to hand the conversation to; without, any earlier one is cleared.' }),
});

/** The latest click-to-WhatsApp ad that brought the user (default number only); Meta's ad fields, null where it gave none. */
export const adReferralView = z.object({
  sourceId: z.string().nullable().meta({ description: 'The ad (or post) id: Meta\'s `source_id`.' }),
  sourceType: z.string().nullable().meta({ description: '`ad` or `post`.' }),
  sourceUrl: z.string().nullable(),
  headline: z.string().nullable(),
  body: z.string().nullable(),
  mediaType: z.string().nullable(),
  ctwaClid: z.string().nullable().meta({ description: 'The click id, for conversion reporting to Meta.' }),
  at: z.string().meta({ description: 'When the user sent the message that carried the referral.' }),
  wamid: z.string(),
});

export const contactView = z.object({
  waId: z.string().nullable().meta({ description: 'Canonical digits of the user\'s number; null for a username-only user known by BSUID.' }),
  userId: z.string().optional().meta({ description: 'Meta\'s business-scoped user id (BSUID), when given.' }),
  name: z.string().nullable(),
  attributes: z.looseObject({ whatsapp_phno: z.string() }).meta({
    description:
      'Always `whatsapp_phno`; on the default number, after a click-to-WhatsApp ad, the latest click\'s `ctwa_source_id`, `ctwa_source_type`, `ctwa_source_url`, `ctwa_headline`, `ctwa_clid` and `ctwa_at`.',
  }),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  marketing: z
    .object({ optedOut: z.boolean(), at: z.string() })
    .nullable()
    .meta({ description: 'The user\'s latest word on marketing messages from this number (`user_preferences`, Meta\'s time); null when never given. Opted out: MARKETING broadcasts skip them.' }),
});

export const conversationView = z.object({
  conversationId: z.string(),
  whatsapp_phno: z.string(),
  kind: z.enum(CONVERSATION_KINDS).meta({ description: '`group`: a WhatsApp group the number is in (replies go to the group); `direct`: one user.' }),
  groupId: z.string().optional().meta({ description: 'On a group conversation: Meta\'s group id.' }),
  waId: z.string().nullable(),
  userId: z.string().optional(),
  contactName: z.string().nullable(),
  lastMessageAt: z.string().nullable(),
  lastMessagePreview: z.string().nullable(),
  unreadCount: z.int(),
  assignedTeamId: z.string().nullable(),
  assignedUserId: z.string().nullable().meta({ description: 'The user the conversation is handed to, by an agent or a route\'s round robin.' }),
  windowOpenUntil: z.string().nullable(),
  lastAgentReplyAt: z.string().nullable().meta({ description: 'When an agent (never an automation) last replied.' }),
  needsAgent: z
    .object({ reason: z.string(), at: z.string() })
    .nullable()
    .meta({ description: 'Set when an automation left the conversation for an agent (why, and since when); cleared by an agent\'s reply.' }),
  adReferral: adReferralView.nullable().meta({ description: 'The latest click-to-WhatsApp ad referral on the default number; null on additional numbers.' }),
  freeEntryUntil: z
    .string()
    .nullable()
    .meta({ description: 'Until when messages to the user from this number are free (Meta\'s 72-hour free entry point window after an ad click).' }),
});

export const MESSAGE_STATUSES = ['received', 'accepted', 'sent', 'delivered', 'read', 'failed'] as const;
/** A stored message's status, as the inbox shows it. */
export const inboxMessageStatus = z.enum(MESSAGE_STATUSES);
export type MessageStatus = z.infer<typeof inboxMessageStatus>;

/** A catalog order's items; prices converted from Meta's decimals to integer micros of the item's currency. */
export const orderView = z.object({
  catalogId: z.string(),
  text: z.string().optional(),
  items: z.array(
    z.object({
      productRetailerId: z.string(),
      quantity: z.number(),
      itemPriceMicros: z.int().optional().meta({ description: 'Meta\'s `item_price` (a decimal) in integer micros of `currency`.' }),
      currency: z.string().optional(),
    }),
  ),
  totals: z.array(z.object({ currency: z.string(), amountMicros: z.int() })).meta({ description: 'Per currency, quantity × price of the priced items.' }),
});

export const MESSAGE_SOURCES = ['cloud_api', 'business_app', 'history'] as const;
export type MessageSource = (typeof MESSAGE_SOURCES)[number];

export const messageView = z.object({
  wamid: z.string(),
  direction: z.enum(['in', 'out']),
  type: z.string(),
  text: z.string().nullable().meta({ description: 'What the message says (its latest edit); null once the sender deleted it.' }),
  status: inboxMessageStatus,
  timestamp: z.string(),
  source: z.enum(MESSAGE_SOURCES).meta({
    description:
      '`cloud_api`: received or sent through the Cloud API; `business_app`: typed in the WhatsApp Business app (coexistence); `history`: from the app\'s past threads synced at onboarding.',
  }),
  from: z
    .object({ waId: z.string().nullable(), userId: z.string().optional(), name: z.string().nullable() })
    .optional()
    .meta({ description: 'In a group conversation: the member who wrote the message.' }),
  editedAt: z.string().optional().meta({ description: 'When the sender last edited the message (Meta\'s time of the edit).' }),
  edits: z
    .array(z.object({ text: z.string(), at: z.string() }))
    .optional()
    .meta({ description: 'The earlier versions, oldest first (the first is the message as written); withheld once deleted.' }),
  deleted: z.literal(true).optional().meta({ description: 'The sender deleted the message for everyone: its text and content are withheld.' }),
  deletedAt: z.string().optional(),
  error: z.object({ code: z.number().nullable(), title: z.string().nullable() }).optional(),
  automation: automationDecision.optional().meta({ description: 'On an inbound message: what the automations decided for it, and why.' }),
  ai: aiAnswerMeta.optional().meta({ description: "On an AI agent's answer: the agent, the knowledge passages it used, and the messages it answers." }),
  order: orderView.optional().meta({ description: 'On an inbound `order` message: the catalog order\'s items.' }),
  product: z
    .object({ catalogId: z.string(), productRetailerId: z.string() })
    .optional()
    .meta({ description: 'On an inbound message sent from a catalog product: the product it asks about.' }),
});

export const replyAccepted = z.object({ wamid: z.string() });

export type ContactView = z.infer<typeof contactView>;
export type ConversationView = z.infer<typeof conversationView>;
export type MessageView = z.infer<typeof messageView>;
