/**
 * Meta's message objects as the inbox stores and shows them: the type a
 * message is stored as, the text a conversation shows for it, Meta's
 * timestamps and error codes, and the catalog order, referred product and
 * click-to-WhatsApp ad referral a message may carry.
 */

const PREVIEW_LENGTH = 120;

/** Message types stored as themselves; any other type is stored as `unsupported` (with Meta's object kept). */
export const KNOWN_MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'request_welcome',
  'template',
  'unsupported',
] as const;

/** The type a message is stored as: Meta's own when we know it, else `unsupported`. */
export function storedType(metaType: string): string {
  return (KNOWN_MESSAGE_TYPES as readonly string[]).includes(metaType) ? metaType : 'unsupported';
}

type MetaObject = Record<string, unknown>;

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker']);

/**
 * What the inbox shows for a message of any type: the words the user wrote or
 * picked where there are some, a bracketed label where there are none.
 */
export function displayText(message: MetaObject & { type: string }): string {
  const type = message.type;
  const part = objectAt(message, type);
  if (MEDIA_TYPES.has(type)) {
    const caption = stringAt(part, 'caption');
    if (caption) return caption;
    if (type === 'document' && stringAt(part, 'filename')) return `[document] ${stringAt(part, 'filename')}`;
    if (type === 'audio' && part?.voice === true) return '[voice message]';
    return `[${type}]`;
  }
  switch (type) {
    case 'text':
      return stringAt(part, 'body') ?? '';
    case 'location':
      return stringAt(part, 'name') ?? stringAt(part, 'address') ?? '[location]';
    case 'contacts': {
      const cards = Array.isArray(message.contacts) ? (message.contacts as MetaObject[]) : [];
      const names = cards.map((card) => stringAt(objectAt(card, 'name'), 'formatted_name')).filter((n): n is string => Boolean(n));
      return names.length ? `[contact] ${names.join(', ')}` : '[contact]';
    }
    case 'interactive': {
      const kind = stringAt(part, 'type');
      if (kind === 'button_reply' || kind === 'list_reply') return stringAt(objectAt(part, kind), 'title') ?? '[interactive]';
      if (kind === 'nfm_reply') return '[form reply]';
      if (kind === 'call_permission_reply') return callPermissionText(stringAt(objectAt(part, kind), 'response'));
      return '[interactive]';
    }
    case 'button':
      return stringAt(part, 'text') ?? stringAt(part, 'payload') ?? '[button]';
    case 'reaction':
      // An empty emoji is how WhatsApp reports a reaction taken back.
      return stringAt(part, 'emoji') ?? '[reaction removed]';
    case 'order': {
      const items = Array.isArray(part?.product_items) ? part.product_items.length : 0;
      return stringAt(part, 'text') ?? `[order] ${items} item${items === 1 ? '' : 's'}`;
    }
    case 'system':
      return stringAt(part, 'body') ?? '[system]';
    case 'request_welcome':
      return '[welcome request]';
    case 'template':
      return `[template] ${stringAt(part, 'name') ?? ''}`.trim();
    case 'media_placeholder':
      // History: a media message of the Business app's past threads, its media not synced.
      return '[media]';
    case 'unsupported':
      return message.original_type === 'media_placeholder' ? '[media]' : '[unsupported]';
    default:
      return '[unsupported]';
  }
}

/** The user's answer to a request to call them: `[call permission: accepted]` or `rejected` (another answer as Meta wrote it). */
function callPermissionText(response: string | undefined): string {
  const answer = response === 'accept' ? 'accepted' : response === 'reject' ? 'rejected' : (response ?? 'unknown');
  return `[call permission: ${answer}]`;
}

/**
 * What an `edit` or a `revoke` message does to an earlier one: an edit gives
 * the original's new text (`displayText` of `edit.message`: a text's body, a
 * media's caption); undefined for any other message. Read from Meta's type,
 * or from `original_type` when the parser kept it as `unsupported`.
 */
export type Amendment = { kind: 'edit'; originalWamid: string; text: string } | { kind: 'revoke'; originalWamid: string };

export function amendmentOf(message: MetaObject & { type: string }): Amendment | undefined {
  const type = message.type === 'unsupported' && typeof message.original_type === 'string' ? message.original_type : message.type;
  if (type !== 'edit' && type !== 'revoke') return undefined;
  const part = objectAt(message, type);
  const originalWamid = stringAt(part, 'original_message_id');
  if (!originalWamid) return undefined;
  if (type === 'revoke') return { kind: 'revoke', originalWamid };
  const edited = objectAt(part, 'message');
  const editedType = stringAt(edited, 'type');
  return { kind: 'edit', originalWamid, text: edited && editedType ? displayText({ ...edited, type: editedType }) : '' };
}

/** One line of the text, cut to what a conversation list shows. */
export function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > PREVIEW_LENGTH ? `${oneLine.slice(0, PREVIEW_LENGTH - 1)}…` : oneLine;
}

/** The last second a JavaScript Date can represent (8.64e15 ms). */
const MAX_DATE_SECONDS = 8_640_000_000_000;

/** Meta's epoch-seconds string as ISO; the delivery time when it is missing or malformed. */
export function metaTime(epochSeconds: string | undefined, fallbackIso: string): string {
  const seconds = Number(epochSeconds);
  // Past what a Date holds (year 275760, e.g. milliseconds sent as seconds) is malformed too: toISOString would throw.
  if (!epochSeconds || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_DATE_SECONDS) return new Date(fallbackIso).toISOString();
  return new Date(seconds * 1000).toISOString();
}

/** Meta's error code as a number; `null` when it names none. */
export function metaErrorCode(code: number | string | undefined): number | null {
  const value = Number(code);
  return code !== undefined && Number.isFinite(value) ? value : null;
}

// ------------------------------------------------------------ catalog and ads

/** One line of a catalog order, its price in integer micros of its currency (Meta sends a decimal). */
export interface OrderItem {
  productRetailerId: string;
  quantity: number;
  itemPriceMicros?: number;
  currency?: string;
}

/** A catalog order as the inbox shows it: its items, and per currency what the priced items add up to. */
export interface OrderSummary {
  catalogId: string;
  text?: string;
  items: OrderItem[];
  totals: { currency: string; amountMicros: number }[];
}

/** The catalog product a message asks about (`context.referred_product`). */
export interface ReferredProduct {
  catalogId: string;
  productRetailerId: string;
}

/** A click-to-WhatsApp ad's referral, as a conversation keeps it: `at` and `wamid` of the message that carried it. */
export interface AdReferral {
  sourceId: string | null;
  sourceType: string | null;
  sourceUrl: string | null;
  headline: string | null;
  body: string | null;
  mediaType: string | null;
  ctwaClid: string | null;
  at: string;
  wamid: string;
}

/** Meta's price decimal (19.9) as integer micros (19,900,000); undefined when it is not a usable amount. */
export function decimalToMicros(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  const micros = Math.round(value * 1_000_000);
  return Number.isSafeInteger(micros) ? micros : undefined;
}

/** The order an `order` message carries; undefined for any other message or an order without a catalog. */
export function orderOf(message: MetaObject): OrderSummary | undefined {
  if (message.type !== 'order') return undefined;
  const order = objectAt(message, 'order');
  const catalogId = stringAt(order, 'catalog_id');
  if (!order || !catalogId) return undefined;
  const lines = Array.isArray(order.product_items) ? (order.product_items as unknown[]) : [];
  const items: OrderItem[] = [];
  const totals = new Map<string, number>();
  for (const line of lines) {
    const item = line && typeof line === 'object' ? (line as MetaObject) : undefined;
    const productRetailerId = stringAt(item, 'product_retailer_id');
    const quantity = Number(item?.quantity);
    if (!productRetailerId || !Number.isFinite(quantity)) continue;
    const itemPriceMicros = decimalToMicros(item?.item_price);
    const currency = stringAt(item, 'currency');
    items.push({ productRetailerId, quantity, ...(itemPriceMicros !== undefined ? { itemPriceMicros } : {}), ...(currency ? { currency } : {}) });
    if (itemPriceMicros !== undefined && currency) totals.set(currency, (totals.get(currency) ?? 0) + Math.round(itemPriceMicros * quantity));
  }
  const text = stringAt(order, 'text');
  return { catalogId, ...(text ? { text } : {}), items, totals: [...totals].map(([currency, amountMicros]) => ({ currency, amountMicros })) };
}

/** The product a message refers to, when the user wrote from a product's page or message. */
export function referredProductOf(message: MetaObject): ReferredProduct | undefined {
  const product = objectAt(objectAt(message, 'context'), 'referred_product');
  const catalogId = stringAt(product, 'catalog_id');
  const productRetailerId = stringAt(product, 'product_retailer_id');
  return catalogId && productRetailerId ? { catalogId, productRetailerId } : undefined;
}

/**
 * The ad referral a message carries, stamped with the message's time and
 * wamid; undefined when it has none or names no ad (no source id, url nor click id).
 */
export function adReferralOf(message: MetaObject & { id: string }, at: string): AdReferral | undefined {
  const referral = objectAt(message, 'referral');
  if (!referral) return undefined;
  const field = (key: string) => stringAt(referral, key) ?? null;
  const ad: AdReferral = {
    sourceId: field('source_id'),
    sourceType: field('source_type'),
    sourceUrl: field('source_url'),
    headline: field('headline'),
    body: field('body'),
    mediaType: field('media_type'),
    ctwaClid: field('ctwa_clid'),
    at,
    wamid: message.id,
  };
  return ad.sourceId || ad.sourceUrl || ad.ctwaClid ? ad : undefined;
}

function objectAt(value: unknown, key: string): MetaObject | undefined {
  const inner = value && typeof value === 'object' ? (value as MetaObject)[key] : undefined;
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as MetaObject) : undefined;
}

function stringAt(value: MetaObject | undefined, key: string): string | undefined {
  return nonEmpty(value?.[key]);
}

/** The string itself when it has more than blanks. */
export function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
