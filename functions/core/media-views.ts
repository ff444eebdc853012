/**
 * A message's file as the inbox shows it (`media` on the message view):
 * `mediaViewOf` (sync, part of `messageViewOf`) says what the file is and
 * whether it is stored; `messageViewsWithMedia` (`media-urls.ts`) adds the
 * short-lived URLs when a list is read.
 */
import type { MessageMediaView } from '../../schemas/inbox.js';
import type { StoredMessage } from './inbox-ports.js';
import { MEDIA_MESSAGE_TYPES, type MediaMessageType, type StoredMedia } from './media-ports.js';
import { nonEmpty } from './message-content.js';

/** The file of a media message: stored, failed, or still pending (inbound); what was sent (outbound). Deleted messages show none. */
export function mediaViewOf(message: StoredMessage): MessageMediaView | undefined {
  if (message.deleted) return undefined;
  if (message.media) return storedMediaView(message.media);
  if (!isMediaType(message.messageType) || !message.content) return undefined;
  const pending = pendingMediaOf(message.content, message.messageType);
  if (!pending) return sentMediaOf(message.content, message.messageType);
  return message.direction === 'in' ? pending : { ...pending, status: 'sent' };
}

function storedMediaView(media: StoredMedia): MessageMediaView {
  return {
    status: media.status,
    mimeType: media.mimeType ?? null,
    ...(media.fileName ? { fileName: media.fileName } : {}),
    ...(media.caption ? { caption: media.caption } : {}),
    ...(media.sizeBytes !== undefined ? { sizeBytes: media.sizeBytes } : {}),
    // An agent's file sent by link (`agent-media.ts`): the link as given is where it opens.
    ...(media.link ? { url: media.link } : {}),
    ...(media.status === 'stored' && media.sha256 ? { sha256: media.sha256 } : {}),
    ...(media.voice ? { voice: true as const } : {}),
    ...(media.error ? { error: media.error } : {}),
  };
}

/** An outbound media message sent by link: its caption and file name as sent. */
function sentMediaOf(content: Record<string, unknown>, type: string): MessageMediaView | undefined {
  const part = content[type];
  if (!part || typeof part !== 'object') return undefined;
  const fields = part as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined);
  return {
    status: 'sent',
    mimeType: text('mime_type') ?? null,
    ...(text('filename') ? { fileName: text('filename') } : {}),
    ...(text('caption') ? { caption: text('caption') } : {}),
  };
}

/** A media message's part as Meta sends it (`message[type]`). */
export interface MediaPart {
  id: string;
  mimeType?: string;
  sha256?: string;
  caption?: string;
  fileName?: string;
  voice?: true;
}

export function isMediaType(type: string): type is MediaMessageType {
  return (MEDIA_MESSAGE_TYPES as readonly string[]).includes(type);
}

export function mediaPartOf(message: Record<string, unknown>, type: MediaMessageType): MediaPart | undefined {
  const part = message[type];
  if (!part || typeof part !== 'object') return undefined;
  const fields = part as Record<string, unknown>;
  const id = nonEmpty(fields.id);
  if (!id) return undefined;
  const text = (name: string) => nonEmpty(fields[name]);
  return {
    id,
    ...(text('mime_type') ? { mimeType: text('mime_type') } : {}),
    ...(text('sha256') ? { sha256: text('sha256') } : {}),
    ...(text('caption') ? { caption: text('caption') } : {}),
    ...(text('filename') ? { fileName: text('filename') } : {}),
    ...(type === 'audio' && fields.voice === true ? { voice: true as const } : {}),
  };
}

/** The view of a file the inbox has not stored yet, from what the webhook message says (`mediaViewOf` uses it). */
export function pendingMediaOf(message: Record<string, unknown>, type: MediaMessageType): MessageMediaView | undefined {
  const part = mediaPartOf(message, type);
  if (!part) return undefined;
  return {
    status: 'pending',
    mimeType: part.mimeType ?? null,
    ...(part.fileName ? { fileName: part.fileName } : {}),
    ...(part.caption ? { caption: part.caption } : {}),
    ...(part.voice ? { voice: true as const } : {}),
  };
}
