/**
 * Meta's message objects as the inbox stores and shows them: the type a
 * message is stored as, the text a conversation shows for it, and Meta's
 * timestamps and error codes.
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
    default:
      return '[unsupported]';
  }
}

/** One line of the text, cut to what a conversation list shows. */
export function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > PREVIEW_LENGTH ? `${oneLine.slice(0, PREVIEW_LENGTH - 1)}…` : oneLine;
}

/** Meta's epoch-seconds string as ISO; the delivery time when it is missing or malformed. */
export function metaTime(epochSeconds: string | undefined, fallbackIso: string): string {
  const seconds = Number(epochSeconds);
  if (!epochSeconds || !Number.isFinite(seconds) || seconds <= 0) return new Date(fallbackIso).toISOString();
  return new Date(seconds * 1000).toISOString();
}

/** Meta's error code as a number; `null` when it names none. */
export function metaErrorCode(code: number | string | undefined): number | null {
  const value = Number(code);
  return code !== undefined && Number.isFinite(value) ? value : null;
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
