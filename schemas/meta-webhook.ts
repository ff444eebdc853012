/**
 * Meta's WhatsApp Cloud API webhook payloads (docs/architecture.md), as zod schemas.
 *
 * Tolerant by design, because Meta adds fields and types without notice:
 * - every object is a `looseObject`: fields we do not know pass through;
 * - a message whose `type` we do not know becomes `type: "unsupported"` with
 *   the original kept in `original_type`, and so does a known type whose body
 *   does not match its schema: stored, never dropped;
 * - fields Meta is retiring (`conversation`, `pricing.billable`,
 *   `current_limit`) are optional;
 * - a field nothing routes or dedupes on (context, pricing, errors, …) that
 *   arrives in an unexpected shape is dropped, not the item (`lenient`). The
 *   fields that identify, route or order an item (ids, `from`, `timestamp`,
 *   `status`, `display_phone_number`) stay strict: without them an item is
 *   invalid, logged and counted.
 *
 * The webhook parses a delivery layer by layer (`webhookEnvelope` →
 * `webhookEntry` → `webhookChange` → one item at a time) so one malformed item
 * never fails the rest of the delivery; `webhookDelivery` describes a whole
 * payload at once, for documentation and tests.
 */
import * as z from 'zod';
import { epochSeconds, lenient, metaError, messageContact, inboundMessage, wamid } from './meta-message.js';

/**
 * A Meta object id (phone_number_id, WABA id). Bounded to a key-safe shape
 * because it becomes part of a DynamoDB key: a hostile value must make the
 * change invalid, not the lookup fail.
 */
export const metaId = z
  .union([z.string(), z.int().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, 'Not a Meta id.'));


/** `conversation` is being retired by Meta (per-message pricing): optional. */
export const statusConversation = z.looseObject({
  id: z.string().optional(),
  expiration_timestamp: epochSeconds.optional(),
  origin: z.looseObject({ type: z.string().optional() }).optional(),
});

/** `billable` is being retired: optional. */
export const statusPricing = z.looseObject({
  billable: z.boolean().optional(),
  pricing_model: z.string().optional(),
  category: z.string().optional(),
  type: z.string().optional(),
});

/** A status of a message the business sent: `sent`, `delivered`, `read`, `failed` (and others Meta adds, kept as they are). */
export const messageStatus = z.looseObject({
  id: wamid,
  status: z.string().min(1),
  timestamp: epochSeconds,
  /** The user's number, or a group's id when `recipient_type` is `group`: kept raw, never read as a phone number then. */
  recipient_id: lenient(z.string()),
  recipient_user_id: lenient(z.string()),
  /** `individual` (or absent) or `group`; a group status also names the member in `recipient_participant_id`. */
  recipient_type: lenient(z.string()),
  conversation: lenient(statusConversation),
  pricing: lenient(statusPricing),
  errors: lenient(z.array(metaError)),
  /** Set by us when sending; `bc:{broadcastId}` marks a broadcast's message. */
  biz_opaque_callback_data: lenient(z.string()),
});

export type MessageStatus = z.infer<typeof messageStatus>;

export const phoneNumberMetadata = z.looseObject({
  display_phone_number: z.string().optional(),
  phone_number_id: metaId,
});

/** `field: "messages"`: inbound messages and statuses of one number, routed by `metadata.phone_number_id`. */
export const messagesValue = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: phoneNumberMetadata,
  contacts: z.array(messageContact).optional(),
  messages: z.array(inboundMessage).optional(),
  statuses: z.array(messageStatus).optional(),
  errors: z.array(metaError).optional(),
});

/** The same value, items left raw: the webhook parses each item on its own so one bad item spoils nothing else. */
export const messagesValueShallow = messagesValue.extend({
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

/** The `metadata` of a field that may come WABA-level: routed by it when present, else by the WABA. */
const optionalMetadata = phoneNumberMetadata.optional();

/**
 * `field: "smb_message_echoes"` (a number in coexistence with the WhatsApp
 * Business app): what the business sent from the app, one item per message,
 * `from` the business number and `to` (or `to_user_id`) the user. Items left
 * raw, parsed one by one.
 */
export const messageEchoesValue = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: optionalMetadata,
  message_echoes: z.array(z.unknown()).optional(),
});

/** One thread of a `history` chunk: `id` is the user's wa_id; messages from either side, raw. */
export const historyThread = z.looseObject({
  id: z.string().min(1),
  messages: z.array(z.unknown()).optional(),
});

/** One chunk of `history`: its sync progress, threads raw (parsed one by one), or `errors` when the user declined to share. */
export const historyChunk = z.looseObject({
  metadata: lenient(z.looseObject({ phase: z.number().optional(), chunk_order: z.number().optional(), progress: z.number().optional() })),
  threads: z.array(z.unknown()).optional(),
  errors: lenient(z.array(metaError)),
});

/** `field: "history"`: the Business app's past threads, sent once at onboarding (coexistence). */
export const historyValue = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: optionalMetadata,
  history: z.array(z.unknown()).optional(),
});

/** One item of `user_preferences`: a user stopping or resuming a category (`marketing_messages`) of messages. */
export const userPreference = z
  .looseObject({
    wa_id: z.string().optional(),
    user_id: z.string().optional(),
    category: z.string().min(1),
    /** `stop`, `resume`, and others Meta adds (`signup`), kept as they are. */
    value: z.string().min(1),
    timestamp: epochSeconds.optional(),
    detail: lenient(z.string()),
  })
  .refine((item) => item.wa_id !== undefined || item.user_id !== undefined, { message: 'Names no user (wa_id or user_id).', path: ['wa_id'] });

export type UserPreference = z.infer<typeof userPreference>;

/** `field: "user_preferences"`; `contacts` may add the user's `user_id`/name (when it names the same user). */
export const userPreferencesValue = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: optionalMetadata,
  contacts: z.array(z.unknown()).optional(),
  user_preferences: z.array(z.unknown()).optional(),
});

/** `field: "message_template_status_update"`: concerns every number of the WABA. */
export const templateStatusUpdate = z.looseObject({
  /** APPROVED, REJECTED, PENDING, PAUSED, DISABLED, FLAGGED, REINSTATED, PENDING_DELETION, … */
  event: z.string().min(1),
  message_template_id: lenient(z.union([z.string(), z.number()])),
  message_template_name: lenient(z.string()),
  message_template_language: lenient(z.string()),
  message_template_category: lenient(z.string()),
  reason: lenient(z.string().nullable()),
  other_info: lenient(z.looseObject({ title: z.string().optional(), description: z.string().optional() })),
});

export type TemplateStatusUpdate = z.infer<typeof templateStatusUpdate>;

/**
 * `field: "phone_number_quality_update"`: messaging-limit tier and quality
 * flags. `current_limit` is being retired for `max_daily_conversations_per_business`
 * (the portfolio's limit since October 2025); older payloads carried a number
 * in `max_daily_conversation_per_phone_number`.
 */
export const phoneNumberQualityUpdate = z.looseObject({
  display_phone_number: z.string().optional(),
  /** FLAGGED, UNFLAGGED, UPGRADE, DOWNGRADE, ONBOARDING, THROUGHPUT_UPGRADE, … */
  event: z.string().min(1),
  current_limit: lenient(z.string()),
  old_limit: lenient(z.string()),
  max_daily_conversations_per_business: lenient(z.string()),
  max_daily_conversation_per_phone_number: lenient(z.union([z.number(), z.string()])),
});

export type PhoneNumberQualityUpdate = z.infer<typeof phoneNumberQualityUpdate>;

/** `field: "account_update"`: WABA lifecycle (bans, restrictions, offboarding); `phone_number` narrows it to one number. */
export const accountUpdate = z.looseObject({
  event: z.string().min(1),
  phone_number: z.string().optional(),
  ban_info: lenient(z.looseObject({ waba_ban_state: z.string().optional(), waba_ban_date: z.string().optional() })),
  violation_info: lenient(z.looseObject({ violation_type: z.string().optional() })),
  restriction_info: z.unknown().optional(),
});

export type AccountUpdate = z.infer<typeof accountUpdate>;

/**
 * `field: "business_capability_update"`: the business portfolio's limits,
 * sent to every WABA of the portfolio when they change. Since October 2025
 * `max_daily_conversations_per_business` is the portfolio's messaging limit
 * (`TIER_250` … `TIER_UNLIMITED`); older payloads carried a number in
 * `max_daily_conversation_per_phone_number`.
 */
export const businessCapabilityUpdate = z.looseObject({
  max_daily_conversations_per_business: lenient(z.union([z.string(), z.number()])),
  max_daily_conversation_per_phone_number: lenient(z.union([z.number(), z.string()])),
  max_phone_numbers_per_business: lenient(z.union([z.number(), z.string()])),
});

export type BusinessCapabilityUpdate = z.infer<typeof businessCapabilityUpdate>;

/** Any other field (`message_template_quality_update`, `phone_number_name_update`, …): kept whole. */
export const otherFieldValue = z.looseObject({});

/** Fields about a number's conversations that are not new inbound messages; they may come with or without `metadata`. */
export const RECORD_FIELDS = {
  echoes: 'smb_message_echoes',
  history: 'history',
  userPreferences: 'user_preferences',
} as const;

export const WABA_FIELDS = {
  templateStatus: 'message_template_status_update',
  quality: 'phone_number_quality_update',
  account: 'account_update',
  businessCapability: 'business_capability_update',
} as const;

/** The value schema of each field we understand; others use `otherFieldValue`. */
export const changeValueSchemas = {
  messages: messagesValueShallow,
  [RECORD_FIELDS.echoes]: messageEchoesValue,
  [RECORD_FIELDS.history]: historyValue,
  [RECORD_FIELDS.userPreferences]: userPreferencesValue,
  [WABA_FIELDS.templateStatus]: templateStatusUpdate,
  [WABA_FIELDS.quality]: phoneNumberQualityUpdate,
  [WABA_FIELDS.account]: accountUpdate,
  [WABA_FIELDS.businessCapability]: businessCapabilityUpdate,
} as const;

export const webhookChange = z.looseObject({ field: z.string().min(1), value: z.unknown() });

export const webhookEntry = z.looseObject({
  /** The WABA id. */
  id: metaId,
  time: z.number().optional(),
  changes: z.array(z.unknown()),
});

/** What makes a body a WhatsApp Business delivery at all; anything else answers 400. */
export const webhookEnvelope = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.unknown()),
});

/** A whole delivery, fully typed: for documentation and tests (the webhook parses layer by layer). */
export const webhookDelivery = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    webhookEntry.extend({
      changes: z.array(
        z.union([
          z.looseObject({ field: z.literal('messages'), value: messagesValue }),
          z.looseObject({ field: z.literal(RECORD_FIELDS.echoes), value: messageEchoesValue.extend({ message_echoes: z.array(inboundMessage).optional() }) }),
          z.looseObject({ field: z.literal(RECORD_FIELDS.history), value: historyValue }),
          z.looseObject({ field: z.literal(RECORD_FIELDS.userPreferences), value: userPreferencesValue.extend({ user_preferences: z.array(userPreference).optional() }) }),
          z.looseObject({ field: z.literal(WABA_FIELDS.templateStatus), value: templateStatusUpdate }),
          z.looseObject({ field: z.literal(WABA_FIELDS.quality), value: phoneNumberQualityUpdate }),
          z.looseObject({ field: z.literal(WABA_FIELDS.account), value: accountUpdate }),
          z.looseObject({ field: z.literal(WABA_FIELDS.businessCapability), value: businessCapabilityUpdate }),
          z.looseObject({ field: z.string(), value: otherFieldValue }),
        ]),
      ),
    }),
  ),
});

export type WebhookDelivery = z.infer<typeof webhookDelivery>;
