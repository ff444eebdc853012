/**
 * Media in (docs/architecture.md, "Media"): for an inbound image, video,
 * audio (voice), document or sticker message, the media consumer fetches the
 * file from the Graph API (`GET /{media-id}` for its short-lived URL, then the
 * download with the same bearer token), checks its SHA-256 against what Meta
 * said (the media object's and the webhook message's), stores it
 * (`MediaStore.put`, key `inboundMediaKey`) and records `media` on the message.
 *
 * - The message never waits for its file: the inbox consumer stores it on its
 *   own; until the file is stored the view shows `media.status: "pending"`.
 * - A transient failure (Graph 5xx, throttling, a timeout, a download cut
 *   short) throws a retryable error: the record fails and is retried, then
 *   goes to the DLQ. A permanent one (a SHA-256 mismatch, a media id Meta
 *   refuses, a file larger than Meta allows) stores nothing and records
 *   `media: {status: "failed", error}` once: retrying could not help.
 * - Redelivery is idempotent: the same key gets the same bytes, and `media`
 *   is set once (`recordMedia`: a stored file is never replaced).
 * - Works before or after the inbox consumer stored the message: a received
 *   message not stored yet gets `media` on a placeholder its write completes
 *   (like an automation decision). A recorded one (echo, history) is written
 *   whole by the inbox consumer, so it must be stored first: until then the
 *   record is retried.
 */
import { createHash } from 'node:crypto';
import type { InboxMessageReceived, InboxMessageRecorded } from '../../schemas/inbox.js';
import { conversationIdOf, groupContactKey } from '../../schemas/whatsapp-ids.js';
import { MessageNotRecorded } from './backend-failures.js';
import { contactIdentity, senderOf } from './contact-id.js';
import { AppError, WhatsAppRejected, WhatsAppUnavailable } from './errors.js';
import type { ConversationRef, StoredMessage } from './inbox-ports.js';
import { messageViewOf } from './inbox-views.js';
import type { LiveUpdates } from './live-updates.js';
import { type MediaStore, type StoredMedia, inboundMediaKey } from './media-ports.js';
import { isMediaType, mediaPartOf } from './media-views.js';
import { metaTime, nonEmpty } from './message-content.js';
import type { Clock } from './ports.js';

// ------------------------------------------------------------------- ports

/** What `GET /{version}/{media-id}` answers: the file's short-lived URL and Meta's description of it. */
export interface RemoteMedia {
  url: string;
  mimeType?: string;
  /** As Meta writes it: hex in some answers, base64 in others (both are accepted). */
  sha256?: string;
  fileSize?: number;
}

/** The Graph API's media endpoints, with the number's access token. */
export interface MediaSource {
  /**
   * The media's URL and description. Throws `WhatsAppRejected` when Meta
   * refuses the id for good (unknown, expired, another number's) and a
   * retryable error (`WhatsAppUnavailable`, `WhatsAppThrottled`) otherwise.
   */
  describe(mediaId: string, phoneNumberId: string): Promise<RemoteMedia>;
  /** The bytes at `url`, at most `maxBytes` (`MediaTooLarge` above); failures are retryable. */
  download(url: string, maxBytes: number): Promise<Uint8Array>;
}

/** Where `media` is written: the message item (`functions/adapters/dynamo/message-repository.ts`). */
export interface MessageMediaRepository {
  recordMedia(
    target: { phoneNumberId: string; wamid: string; placeholderAt?: { ref: ConversationRef; timestamp: string } },
    media: StoredMedia,
  ): Promise<{ outcome: 'recorded' | 'unchanged' | 'not-found'; message?: StoredMessage; contactKey?: string }>;
  /** Whether the message is stored (its wamid pointer exists). */
  hasMessage(phoneNumberId: string, wamid: string): Promise<boolean>;
  /** As the inbox reads it: the contact key a BSUID was last seen with next to a phone number. */
  contactKeyForUserId(accountId: string, whatsappPhno: string, userId: string): Promise<string | undefined>;
}

export interface MediaConsumerDeps {
  source: MediaSource;
  store: Pick<MediaStore, 'put'>;
  messages: MessageMediaRepository;
  clock: Clock;
  /** `message.updated` once `media` changed on a stored message. @default nothing is published */
  live?: LiveUpdates;
}

/** The largest file Meta sends (documents: 100 MB); a little slack for Meta's rounding. */
export const MAX_MEDIA_BYTES = 100 * 1024 * 1024;

/** The download came back larger than allowed: permanent. */
export class MediaTooLarge extends AppError {
  readonly code = 'MEDIA_TOO_LARGE';
  readonly statusCode = 422;
  constructor(sizeBytes: number | undefined, maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes${sizeBytes !== undefined ? ` (${sizeBytes})` : ''}.`);
  }
}

// --------------------------------------------------------------- use case

export type MediaEvent =
  | { kind: 'received'; detail: InboxMessageReceived }
  | { kind: 'recorded'; detail: InboxMessageRecorded }
  | { kind: 'ignored'; detailType: string };

export type MediaOutcome =
  | { outcome: 'ignored'; why: string }
  | { outcome: 'stored' | 'duplicate'; key: string; sizeBytes: number }
  | { outcome: 'failed'; code: MediaFailureCode; message: string; recorded: boolean };

export type MediaFailureCode = 'SHA256_MISMATCH' | 'MEDIA_UNAVAILABLE' | 'MEDIA_TOO_LARGE';

export async function processMediaEvent(deps: MediaConsumerDeps, event: MediaEvent): Promise<MediaOutcome> {
  if (event.kind === 'ignored') return { outcome: 'ignored', why: `detail type ${event.detailType}` };
  const { detail } = event;
  const message = detail.message as Record<string, unknown> & { id: string; type: string; timestamp: string; group_id?: string };
  const type = message.type;
  if (!isMediaType(type)) return { outcome: 'ignored', why: `a ${type} message` };
  const part = mediaPartOf(message, type);
  if (!part) return { outcome: 'ignored', why: `a ${type} message without a media id` };
  const wamid = message.id;
  const { phoneNumberId } = detail;

  let placeholderAt: { ref: ConversationRef; timestamp: string } | undefined;
  if (event.kind === 'recorded') {
    // Echoes and history are written whole (never over a placeholder): wait until the inbox stored it.
    if (!(await deps.messages.hasMessage(phoneNumberId, wamid))) throw new MessageNotRecorded(`The message ${wamid} is not stored yet; its media waits.`);
  } else {
    placeholderAt = await placeholderOf(deps, event.detail);
  }

  const key = inboundMediaKey(detail.accountId, detail.whatsapp_phno, wamid);
  const record = async (media: StoredMedia) => {
    const result = await deps.messages.recordMedia({ phoneNumberId, wamid, ...(placeholderAt ? { placeholderAt } : {}) }, media);
    if (result.outcome === 'not-found') throw new MessageNotRecorded(`The message ${wamid} is not stored yet; its media waits.`);
    if (result.outcome === 'recorded' && result.message && result.contactKey && deps.live) {
      // Best effort: a dashboard that misses it sees the file on its next read.
      await deps.live
        .publish({
          type: 'message.updated',
          accountId: detail.accountId,
          whatsapp_phno: detail.whatsapp_phno,
          conversationId: conversationIdOf(detail.whatsapp_phno, result.contactKey),
          message: messageViewOf(result.message),
        })
        .catch(() => undefined);
    }
    return result.outcome;
  };
  const described = { ...(part.fileName ? { fileName: part.fileName } : {}), ...(part.caption ? { caption: part.caption } : {}), ...(part.voice ? { voice: true as const } : {}) };
  const fail = async (code: MediaFailureCode, why: string, extra: Partial<StoredMedia> = {}): Promise<MediaOutcome> => {
    const outcome = await record({ status: 'failed', ...(part.mimeType ? { mimeType: part.mimeType } : {}), ...described, ...extra, error: { code, message: why }, at: deps.clock.now().toISOString() });
    return { outcome: 'failed', code, message: why, recorded: outcome === 'recorded' };
  };

  let remote: RemoteMedia;
  try {
    remote = await deps.source.describe(part.id, phoneNumberId);
  } catch (error) {
    if (error instanceof WhatsAppRejected) return fail('MEDIA_UNAVAILABLE', `WhatsApp refused the media id ${part.id}: ${error.details.metaMessage}`);
    throw error;
  }
  if (remote.fileSize !== undefined && remote.fileSize > MAX_MEDIA_BYTES) return fail('MEDIA_TOO_LARGE', new MediaTooLarge(remote.fileSize, MAX_MEDIA_BYTES).message);

  let bytes: Uint8Array;
  try {
    bytes = await deps.source.download(remote.url, MAX_MEDIA_BYTES);
  } catch (error) {
    if (error instanceof MediaTooLarge) return fail('MEDIA_TOO_LARGE', error.message);
    throw error;
  }
  // Fewer (or more) bytes than Meta announced: a download cut short, most likely. Retried, not refused.
  if (remote.fileSize !== undefined && bytes.byteLength !== remote.fileSize) {
    throw new WhatsAppUnavailable(`The download of ${part.id} gave ${bytes.byteLength} bytes, Meta announced ${remote.fileSize}; retrying.`);
  }
  const digest = createHash('sha256').update(bytes).digest();
  const sha256 = digest.toString('hex');
  const expected = [
    { from: 'the media object', value: remote.sha256 },
    { from: 'the webhook message', value: part.sha256 },
  ].filter((claim): claim is { from: string; value: string } => claim.value !== undefined && claim.value !== '');
  const wrong = expected.find((claim) => !sha256Matches(claim.value, digest));
  if (wrong) {
    return fail('SHA256_MISMATCH', `The downloaded bytes hash to ${sha256}; ${wrong.from} says ${wrong.value}. Nothing was stored.`, { sizeBytes: bytes.byteLength, sha256 });
  }

  const mimeType = remote.mimeType ?? part.mimeType ?? 'application/octet-stream';
  await deps.store.put(key, bytes, mimeType);
  const outcome = await record({ status: 'stored', key, mimeType, ...described, sizeBytes: bytes.byteLength, sha256, at: deps.clock.now().toISOString() });
  return { outcome: outcome === 'recorded' ? 'stored' : 'duplicate', key, sizeBytes: bytes.byteLength };
}

/** Where the inbox consumer lists a received message: its conversation (the group's, or the sender's) at Meta's time. */
async function placeholderOf(deps: MediaConsumerDeps, detail: InboxMessageReceived): Promise<{ ref: ConversationRef; timestamp: string } | undefined> {
  const { message, contact } = detail;
  const timestamp = metaTime(message.timestamp, detail.receivedAt);
  const groupId = nonEmpty(message.group_id);
  let contactKey: string | undefined;
  if (groupId) contactKey = groupContactKey(groupId);
  else {
    const identity = contactIdentity(senderOf(message, contact));
    if (!identity) return undefined;
    contactKey = identity.contactKey;
    // A username-only user once seen with a number stays the contact we know (as in the inbox).
    if (!identity.waId && identity.userId) contactKey = (await deps.messages.contactKeyForUserId(detail.accountId, detail.whatsapp_phno, identity.userId)) ?? contactKey;
  }
  return { ref: { accountId: detail.accountId, whatsappPhno: detail.whatsapp_phno, contactKey }, timestamp };
}

/**
 * Whether Meta's `sha256` names this digest. Meta writes it as hex in the
 * media object and as base64 in webhook messages (our fixtures), so either is
 * accepted (and base64url); anything that is neither never matches.
 */
export function sha256Matches(claimed: string, digest: Uint8Array): boolean {
  const value = claimed.trim();
  const actual = Buffer.from(digest);
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex').equals(actual);
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').equals(actual);
  return false;
}
