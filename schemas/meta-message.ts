/**
 * One inbound WhatsApp message as Meta's webhook delivers it, every type, and
 * the small field rules the webhook's other payloads share (epoch seconds,
 * `lenient` fields, Meta's error objects). Tolerant in the ways
 * `meta-webhook.ts` describes: unknown fields pass, an unknown type or a known
 * type with an unexpected body is kept as `unsupported`, never dropped.
 */
import * as z from 'zod';

/** Meta sends epoch seconds as a string; a number is accepted and kept as its string. */
export const epochSeconds = z.union([z.string(), z.number()]).transform(String);

/**
 * A message id (wamid) as Meta sends it: under 100 characters in practice.
 * Bounded because it becomes part of DynamoDB keys (a sort key holds at most
 * 1,024 bytes): a longer one makes the item invalid, not its write fail.
 */
export const wamid = z.string().min(1).max(512);

/**
 * A field nothing routes or dedupes on: when Meta sends it in a shape we do
 * not expect, it is dropped (undefined) rather than costing the whole item.
 */
export const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

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
  id: wamid,
  /** The sender's phone (digits). Absent for a user known only by username: `from_user_id` (BSUID) names them then. */
  from: z.string().optional(),
  /** Part of the contact's key when there is no phone: bounded as `wamid` is. */
  from_user_id: z.string().max(256).optional(),
  /** Set when the message was written in a group: the group's id (the sender, a member, is still `from`). Kept raw. */
  group_id: lenient(z.string()),
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
/**
 * `interactive.type` is `button_reply`, `list_reply`, `nfm_reply` (WhatsApp Flows) or `call_permission_reply`
 * (the user's answer to a request to call them: `response` `accept` or `reject`); others pass untouched.
 */
export const interactiveMessage = withType('interactive', {
  interactive: z.looseObject({
    type: z.string(),
    button_reply: replyChoice.optional(),
    list_reply: replyChoice.optional(),
    nfm_reply: z.looseObject({ name: z.string().optional(), body: z.string().optional(), response_json: z.string().optional() }).optional(),
    call_permission_reply: lenient(
      z.looseObject({
        /** `accept` or `reject` (others Meta adds pass as they are). */
        response: z.string(),
        expiration_timestamp: epochSeconds.optional(),
        response_source: z.string().optional(),
      }),
    ),
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
/**
 * The user edited an earlier message: `edit.original_message_id` names it and `edit.message` is its new
 * version (a message body without id or sender: `type` and the body of that type, e.g. `text`, `image`).
 */
export const editMessage = withType('edit', {
  edit: z.looseObject({
    original_message_id: z.string().min(1),
    message: z.looseObject({ type: z.string().optional() }).optional(),
  }),
});
/** The user deleted an earlier message for everyone: `revoke.original_message_id` names it. */
export const revokeMessage = withType('revoke', {
  revoke: z.looseObject({ original_message_id: z.string().min(1) }),
});
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
  editMessage,
  revokeMessage,
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
