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
import { inboxTemplate } from './agent-sends.js';
import { MEDIA_KINDS, mediaFieldIssues, outboundMedia } from './uploads.js';
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

export const CONVERSATION_STATUSES = ['open', 'pending', 'resolved', 'snoozed'] as const;
export const conversationStatus = z.enum(CONVERSATION_STATUSES).meta({
  description:
    '`open` (new conversations, and a `resolved` or `snoozed` one a new inbound message reopened), `pending` (waiting on someone), `resolved`, `snoozed` until `snoozedUntil` (then `open` again).',
});

export const conversationListQuery = inboxListQuery.extend({
  kind: z.enum(CONVERSATION_KINDS).optional().meta({ description: '`group`: WhatsApp groups only; `direct`: one-to-one conversations only; both without.' }),
  status: conversationStatus.optional().meta({ description: 'Only conversations of this status, as read now (a snooze that ran out is `open`); every status without.' }),
  assignee: z
    .union([z.literal('me'), z.literal('none'), entityId])
    .optional()
    .meta({ description: 'A user id; `me`: the caller\'s own seat; `none`: handed to no user.' }),
  teamId: entityId.optional().meta({ description: 'Only conversations assigned to this team.' }),
  unread: z.enum(['true', 'false']).transform((value) => value === 'true').optional().meta({ description: '`true`: with unread messages only; `false`: read ones only.' }),
  q: z.string().trim().min(1).max(100).optional().meta({ description: 'Search: part of the contact\'s name or number (case- and accent-insensitive; `+55 11 98765` finds `5511987650001`).' }),
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
 * An agent's reply: free text, saved reply material (`/v1/automations/reply-material`)
 * with its placeholders filled for the contact, a file (`image`, `video`,
 * `audio`, `document`, `sticker`: an upload or a link), or a template
 * approved on the number. Exactly one of them.
 * WhatsApp caps a text message body at 4,096 characters.
 */
export const REPLY_PARTS = ['text', 'replyMaterialId', ...MEDIA_KINDS, 'template'] as const;

export const replyBody = z
  .strictObject({
    text: z.string().trim().min(1).max(4096).optional(),
    replyMaterialId: entityId.optional().meta({ description: 'Reply material to send; a template material is sent even with the 24-hour window closed.' }),
    image: outboundMedia.optional().meta({ description: 'A JPEG or PNG (5 MB): `{uploadId | link, caption?}`.' }),
    video: outboundMedia.optional().meta({ description: 'An MP4 or 3GPP video (16 MB): `{uploadId | link, caption?}`.' }),
    audio: outboundMedia.optional().meta({ description: 'AAC, AMR, MP3, M4A or OGG/Opus audio (16 MB): `{uploadId | link}`.' }),
    document: outboundMedia.optional().meta({ description: 'A PDF, Office or text file (100 MB): `{uploadId | link, caption?, fileName?}`.' }),
    sticker: outboundMedia.optional().meta({ description: 'A WebP sticker (100 KB static, 500 KB animated): `{uploadId | link}`.' }),
    template: inboxTemplate.optional(),
  })
  .superRefine((body, ctx) => {
    const given = REPLY_PARTS.filter((part) => body[part] !== undefined);
    if (given.length > 1) {
      const message =
        given[0] === 'text' && given[1] === 'replyMaterialId' && given.length === 2
          ? 'Give either text or replyMaterialId, not both.'
          : `Give exactly one of ${REPLY_PARTS.join(', ')}; not both ${given[0]} and ${given[1]}.`;
      ctx.addIssue({ code: 'custom', path: [given[1]!], message });
    } else if (given.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'Give text, or replyMaterialId to send saved reply material, a file (image, video, audio, document, sticker) or a template.' });
    }
    for (const kind of MEDIA_KINDS) {
      const media = body[kind];
      if (media) for (const issue of mediaFieldIssues(kind, media)) ctx.addIssue({ code: 'custom', ...issue });
    }
  })
  .meta({ description: 'Exactly one of `text`, `replyMaterialId`, `image`, `video`, `audio`, `document`, `sticker` or `template`.' });
export type ReplyBody = z.infer<typeof replyBody>;

/**
 * An assignment: `{teamId}` (any earlier user cleared), `{teamId, userId}`,
 * `{userId}` (the team stays), `{userId: null}` (the user cleared, the team
 * stays), `{teamId: null}` or `{teamId: null, userId: null}` (unassigned).
 */
export const assignBody = z
  .strictObject({
    teamId: entityId
      .nullable()
      .optional()
      .meta({ description: 'A team of the account; `null` unassigns the conversation (team and user). Without it, with `userId`, the team stays as it is.' }),
    userId: entityId
      .nullable()
      .optional()
      .meta({ description: 'A user of the account to hand the conversation to; with `teamId` and without `userId`, any earlier one is cleared; `null` clears the user.' }),
  })
  .superRefine((body, ctx) => {
    if (body.teamId === undefined && body.userId === undefined) ctx.addIssue({ code: 'custom', path: ['teamId'], message: 'Give teamId, userId, or both (null unassigns).' });
    if (body.teamId === null && typeof body.userId === 'string') {
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'A conversation without a team is handed to no user: give userId null, or a teamId.' });
    }
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
  contactId: z.string().meta({ description: '`{whatsapp_phno}_{contactKey}`: `PATCH /v1/contacts/{contactId}` edits it; the same as its conversation\'s id.' }),
  blocked: z.boolean().meta({ description: '`true`: automations stay silent for this contact.' }),
  nameEditedAt: z.string().nullable().meta({ description: 'When an agent named the contact: `name` is then theirs, kept over the WhatsApp profile\'s.' }),
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
  status: conversationStatus.meta({ description: 'As read now: a snooze whose time has passed reads `open`; conversations from before statuses existed read `open`.' }),
  snoozedUntil: z.string().nullable().meta({ description: 'With `snoozed`: when it reads `open` again.' }),
  statusChangedAt: z.string().nullable(),
  statusChangedBy: z
    .string()
    .nullable()
    .meta({ description: 'Who last set the status: the user id (or token subject) of the agent, `system:inbound-message` when a new message reopened it.' }),
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

/**
 * A media message's file (image, video, audio or voice, document, sticker).
 * Inbound: `pending` until the media consumer fetched it from the Graph API
 * and stored it, then `stored` with `url` (a presigned GET of short life, made
 * when the message is read); `failed` when it cannot be stored (e.g.
 * `SHA256_MISMATCH`), with `error`. Outbound: what was sent.
 */
export const MEDIA_STATUSES = ['pending', 'stored', 'failed', 'sent'] as const;
export const messageMediaView = z.object({
  status: z.enum(MEDIA_STATUSES).meta({ description: '`pending`: not fetched yet; `stored`: `url` opens it; `failed`: see `error`; `sent`: an outbound file.' }),
  mimeType: z.string().nullable(),
  fileName: z.string().optional(),
  caption: z.string().optional(),
  sizeBytes: z.int().optional().meta({ description: 'Once stored (or as uploaded).' }),
  sha256: z.string().optional().meta({ description: 'Hex SHA-256 of the stored bytes (checked against Meta\'s).' }),
  voice: z.literal(true).optional().meta({ description: 'An audio message recorded as a voice note.' }),
  url: z.string().optional().meta({ description: 'A short-lived (about 5 minutes) GET URL of the file; ask the messages again for a fresh one.' }),
  expiresAt: z.string().optional().meta({ description: 'When `url` stops working.' }),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type MessageMediaView = z.infer<typeof messageMediaView>;

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
  media: messageMediaView.optional().meta({ description: 'On an image, video, audio (voice), document or sticker message: the file and where to open it.' }),
});

export const replyAccepted = z.object({ wamid: z.string() });

export type ContactView = z.infer<typeof contactView>;
export type ConversationView = z.infer<typeof conversationView>;
export type MessageView = z.infer<typeof messageView>;
