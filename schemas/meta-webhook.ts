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

/**
 * A Meta object id (phone_number_id, WABA id). Bounded to a key-safe shape
 * because it becomes part of a DynamoDB key: a hostile value must make the
 * change invalid, not the lookup fail.
 */
export const metaId = z
  .union([z.string(), z.int().nonnegative()])
  .transform(String)
  .pipe(z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, 'Not a Meta id.'));

/** Meta sends epoch seconds as a string; a number is accepted and kept as its string. */
const epochSeconds = z.union([z.string(), z.number()]).transform(String);

/**
 * A field nothing routes or dedupes on: when Meta sends it in a shape we do
 * not expect, it is dropped (undefined) rather than costing the whole item.
 */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

export const metaError = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  href: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
});

/** Who wrote: `wa_id` (phone, digits) and/or `user_id` (business-scoped user id for users with a username). */
export const messageContact = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  profile: lenient(z.looseObject({ name: lenient(z.string()) })),
});

/** The message this one replies to or reacts on (replies to broadcasts carry the broadcast message's wamid). */
export const messageContext = z.looseObject({
  from: z.string().optional(),
  id: z.string().optional(),
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
  referred_product: z.looseObject({ catalog_id: z.string().optional(), product_retailer_id: z.string().optional() }).optional(),
});

/** Click-to-WhatsApp ad attribution (docs/architecture.md: a default-number feature). */
export const messageReferral = z.looseObject({
  source_url: z.string().optional(),
  source_id: z.string().optional(),
  source_type: z.string().optional(),
  headline: z.string().optional(),
  body: z.string().optional(),
  media_type: z.string().optional(),
  image_url: z.string().optional(),
  video_url: z.string().optional(),
  thumbnail_url: z.string().optional(),
  ctwa_clid: z.string().optional(),
});

/** What every inbound message has, whatever its type: the contract consumers can rely on. */
export const inboundMessageBase = z.looseObject({
  id: z.string().min(1),
  /** The sender's phone (digits). Absent for a user known only by username: `from_user_id` (BSUID) names them then. */
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  timestamp: epochSeconds,
  type: z.string().min(1),
  context: lenient(messageContext),
  referral: lenient(messageReferral),
  errors: lenient(z.array(metaError)),
  /** Set by us when Meta's `type` was unknown (or its body malformed) and the message became `unsupported`. */
  original_type: z.string().optional(),
});

const media = z.looseObject({
  id: z.string(),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  url: z.string().optional(),
});

const withType = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  inboundMessageBase.extend({ type: z.literal(type), ...shape });

export const textMessage = withType('text', { text: z.looseObject({ body: z.string() }) });
export const imageMessage = withType('image', { image: media });
export const audioMessage = withType('audio', { audio: media.extend({ voice: z.boolean().optional() }) });
export const videoMessage = withType('video', { video: media });
export const documentMessage = withType('document', { document: media.extend({ filename: z.string().optional() }) });
export const stickerMessage = withType('sticker', { sticker: media.extend({ animated: z.boolean().optional() }) });

const replyChoice = z.looseObject({ id: z.string(), title: z.string().optional(), description: z.string().optional() });
/** `interactive.type` is `button_reply`, `list_reply` or `nfm_reply` (WhatsApp Flows); others pass untouched. */
export const interactiveMessage = withType('interactive', {
  interactive: z.looseObject({
    type: z.string(),
    button_reply: replyChoice.optional(),
    list_reply: replyChoice.optional(),
    nfm_reply: z.looseObject({ name: z.string().optional(), body: z.string().optional(), response_json: z.string().optional() }).optional(),
  }),
});
/** A template's quick-reply button. */
export const buttonMessage = withType('button', { button: z.looseObject({ payload: z.string().optional(), text: z.string() }) });
/** `emoji` is absent when the user removed the reaction. */
export const reactionMessage = withType('reaction', { reaction: z.looseObject({ message_id: z.string(), emoji: z.string().optional() }) });
export const locationMessage = withType('location', {
  location: z.looseObject({
    latitude: z.number(),
    longitude: z.number(),
    name: z.string().optional(),
    address: z.string().optional(),
    url: z.string().optional(),
  }),
});
export const contactsMessage = withType('contacts', {
  contacts: z.array(
    z.looseObject({
      name: z.looseObject({ formatted_name: z.string().optional() }).optional(),
      phones: z.array(z.looseObject({ phone: z.string().optional(), wa_id: z.string().optional(), type: z.string().optional() })).optional(),
    }),
  ),
});
/** Catalog orders (docs/architecture.md: a default-number feature). Prices are Meta's decimals, not our micros. */
export const orderMessage = withType('order', {
  order: z.looseObject({
    catalog_id: z.string(),
    text: z.string().optional(),
    product_items: z.array(
      z.looseObject({
        product_retailer_id: z.string(),
        quantity: z.number(),
        item_price: z.number().optional(),
        currency: z.string().optional(),
      }),
    ),
  }),
});
/** E.g. `customer_changed_number` (with `new_wa_id`) or `customer_identity_changed`. */
export const systemMessage = withType('system', {
  system: z.looseObject({
    body: z.string().optional(),
    type: z.string().optional(),
    new_wa_id: z.string().optional(),
    wa_id: z.string().optional(),
    identity: z.string().optional(),
    customer: z.string().optional(),
  }),
});
/** The first time a user opens a chat with the business. */
export const requestWelcomeMessage = withType('request_welcome', {});
export const unsupportedMessage = withType('unsupported', {
  unsupported: z.looseObject({ type: z.string().optional() }).optional(),
});

const knownMessage = z.discriminatedUnion('type', [
  textMessage,
  imageMessage,
  audioMessage,
  videoMessage,
  documentMessage,
  stickerMessage,
  interactiveMessage,
  buttonMessage,
  reactionMessage,
  locationMessage,
  contactsMessage,
  orderMessage,
  systemMessage,
  requestWelcomeMessage,
  unsupportedMessage,
]);

export const KNOWN_MESSAGE_TYPES: ReadonlySet<string> = new Set(knownMessage.options.map((option) => option.shape.type.value));

/** A known type whose body does not match its schema is kept as `unsupported` rather than lost. */
const degradedMessage = inboundMessageBase.transform((message) => ({
  ...message,
  type: 'unsupported' as const,
  original_type: message.original_type ?? message.type,
}));

function unknownTypeAsUnsupported(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const type = (raw as { type?: unknown }).type;
  if (typeof type === 'string' && KNOWN_MESSAGE_TYPES.has(type)) return raw;
  return { ...raw, type: 'unsupported', original_type: typeof type === 'string' ? type : 'missing' };
}

/** One inbound message of any type; never fails on an unknown type (see the module comment). */
export const inboundMessage = z.preprocess(unknownTypeAsUnsupported, z.union([knownMessage, degradedMessage]));

export type InboundMessage = z.infer<typeof inboundMessage>;
export type InboundMessageBase = z.infer<typeof inboundMessageBase>;

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
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: epochSeconds,
  recipient_id: lenient(z.string()),
  recipient_user_id: lenient(z.string()),
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

/** Any other field (`message_template_quality_update`, `phone_number_name_update`, …): kept whole. */
export const otherFieldValue = z.looseObject({});

export const WABA_FIELDS = {
  templateStatus: 'message_template_status_update',
  quality: 'phone_number_quality_update',
  account: 'account_update',
} as const;

/** The value schema of each field we understand; others use `otherFieldValue`. */
export const changeValueSchemas = {
  messages: messagesValueShallow,
  [WABA_FIELDS.templateStatus]: templateStatusUpdate,
  [WABA_FIELDS.quality]: phoneNumberQualityUpdate,
  [WABA_FIELDS.account]: accountUpdate,
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
          z.looseObject({ field: z.literal(WABA_FIELDS.templateStatus), value: templateStatusUpdate }),
          z.looseObject({ field: z.literal(WABA_FIELDS.quality), value: phoneNumberQualityUpdate }),
          z.looseObject({ field: z.literal(WABA_FIELDS.account), value: accountUpdate }),
          z.looseObject({ field: z.string(), value: otherFieldValue }),
        ]),
      ),
    }),
  ),
});

export type WebhookDelivery = z.infer<typeof webhookDelivery>;
