/**
 * Files an agent sends from the inbox (issue 18, "Media out").
 *
 * - `createUpload` (`POST /v1/uploads`): Meta's media rules are checked
 *   first (the body's schema, `schemas/uploads.ts`: type per kind, largest
 *   size), then an upload is recorded (24 hours) and a presigned PUT handed
 *   out for `uploads/{accountId}/{uploadId}` (`MediaStore.uploadTargetFor`),
 *   bound to the file's type and exact size.
 * - `sendMediaAsAgent` (`POST /v1/conversations/{id}/messages` with
 *   `image|video|audio|document|sticker`): an `uploadId` must name an upload
 *   of the account, of that kind, whose bytes are there with the promised
 *   size and type (`MediaStore.head`); Meta then fetches it through a
 *   short-lived presigned GET (`MediaStore.urlFor`). A `link` must pass the
 *   URL guard (https, a public address; the local runtime allows its own
 *   http URLs). The send is free-form: refused outside the 24-hour window
 *   (409 `WINDOW_CLOSED`, nothing sent) through the one send path
 *   (`replies.ts`), and recorded with its file (`media` on the message).
 */
import { type CreateUploadBody, type MediaKind, type OutboundMedia, type UploadCreated, maxBytesOf, mediaKindOf, normalMimeType } from '../../schemas/uploads.js';
import { Conflict, UnsafeUrl, ValidationFailed, WindowClosed } from './errors.js';
import type { ConversationRef, InboxDeps } from './inbox-ports.js';
import { type MediaStore, type StoredMedia, uploadKey } from './media-ports.js';
import type { Clock, IdGenerator } from './ports.js';
import { type OutgoingMessage, replyTo } from './replies.js';

/** How long an upload may be sent after it was handed out (the bucket's `uploads/` objects expire soon after). */
export const UPLOAD_RETENTION_MS = 24 * 3_600_000;

export interface StoredUpload {
  accountId: string;
  uploadId: string;
  kind: MediaKind;
  /** As the client gave it: the PUT must carry exactly this `Content-Type`. */
  mimeType: string;
  fileName: string;
  sizeBytes: number;
  /** `uploadKey(accountId, uploadId)`. */
  key: string;
  createdAt: string;
  expiresAt: string;
}

export interface UploadRepository {
  /** Records a new upload (a fresh id: never overwrites one). */
  create(upload: StoredUpload): Promise<void>;
  /** The account's upload, unless it has expired (TTL deletion lags). */
  get(accountId: string, uploadId: string, now: Date): Promise<StoredUpload | undefined>;
}

/** The URL guard every customer-given URL passes (`safe-http.ts`): throws `UnsafeUrl`. */
export interface LinkGuard {
  check(url: string): Promise<void>;
}

export interface UploadDeps {
  uploads: UploadRepository;
  media: MediaStore;
  ids: IdGenerator;
  clock: Clock;
}

export interface AgentMediaDeps extends InboxDeps {
  uploads: Pick<UploadRepository, 'get'>;
  media: Pick<MediaStore, 'head' | 'urlFor'>;
  /** The API's URL guard (the webhook subscriptions' own: https and public in AWS). */
  webhookTransport: LinkGuard;
}

export async function createUpload(deps: UploadDeps, accountId: string, body: CreateUploadBody): Promise<UploadCreated> {
  // The body's schema already refused what Meta would; checked again so no caller can skip it.
  const kind = mediaKindOf(body.mimeType);
  if (!kind) throw new ValidationFailed([{ path: ['body', 'mimeType'], message: `WhatsApp does not take ${body.mimeType} files.`, code: 'custom' }]);
  const max = maxBytesOf(kind, body.animated === true);
  if (body.sizeBytes > max) throw new ValidationFailed([{ path: ['body', 'sizeBytes'], message: `A ${kind} may be at most ${max} bytes.`, code: 'too_big' }]);

  const now = deps.clock.now();
  const uploadId = deps.ids.newId('upl');
  const key = uploadKey(accountId, uploadId);
  const upload: StoredUpload = {
    accountId,
    uploadId,
    kind,
    mimeType: body.mimeType,
    fileName: body.fileName,
    sizeBytes: body.sizeBytes,
    key,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + UPLOAD_RETENTION_MS).toISOString(),
  };
  const target = await deps.media.uploadTargetFor(key, body.mimeType, body.sizeBytes);
  await deps.uploads.create(upload);
  return { uploadId, kind, upload: target, expiresAt: upload.expiresAt };
}

/** An agent's file, sent from the conversation's own number inside the window (`WindowClosed` outside it). */
export async function sendMediaAsAgent(deps: AgentMediaDeps, ref: ConversationRef, kind: MediaKind, media: OutboundMedia): Promise<{ wamid: string }> {
  const at = deps.clock.now();
  const file = media.uploadId !== undefined ? await uploadedFile(deps, ref.accountId, kind, media.uploadId, at) : await linkedFile(deps, kind, media.link!);
  const fileName = kind === 'document' ? (media.fileName ?? file.fileName) : undefined;
  const caption = kind === 'audio' || kind === 'sticker' ? undefined : media.caption;
  const stored: StoredMedia = {
    status: 'stored',
    ...(file.key ? { key: file.key } : { link: file.url }),
    ...(file.mimeType ? { mimeType: file.mimeType } : {}),
    ...(fileName ? { fileName } : {}),
    ...(caption ? { caption } : {}),
    ...(file.sizeBytes !== undefined ? { sizeBytes: file.sizeBytes } : {}),
    at: at.toISOString(),
  };
  const outcome = await replyTo(deps, ref, outgoingMedia(kind, file.url, caption, fileName), { by: 'agent', media: stored });
  if (outcome.outcome === 'WINDOW_CLOSED') throw new WindowClosed();
  return { wamid: outcome.wamid };
}

interface ResolvedFile {
  /** What Meta fetches. */
  url: string;
  key?: string;
  mimeType?: string;
  fileName?: string;
  sizeBytes?: number;
}

/** An upload of the account, of this kind, whose bytes are stored as promised; a presigned GET for Meta. */
async function uploadedFile(deps: AgentMediaDeps, accountId: string, kind: MediaKind, uploadId: string, now: Date): Promise<ResolvedFile> {
  const path = ['body', kind, 'uploadId'];
  const upload = await deps.uploads.get(accountId, uploadId, now);
  if (!upload) throw new ValidationFailed([{ path, message: `No upload ${uploadId} in this account (or it expired: uploads are kept 24 hours).`, code: 'custom' }]);
  if (upload.kind !== kind) {
    throw new ValidationFailed([{ path, message: `The upload ${uploadId} is a ${upload.kind} (${upload.mimeType}); send it as ${upload.kind}, not ${kind}.`, code: 'custom' }]);
  }
  const object = await deps.media.head(upload.key);
  const problem = !object
    ? 'its file was not uploaded yet: PUT the bytes to the upload URL first'
    : object.sizeBytes !== upload.sizeBytes
      ? `its file has ${object.sizeBytes} bytes, not the ${upload.sizeBytes} announced`
      : object.contentType !== undefined && normalMimeType(object.contentType) !== normalMimeType(upload.mimeType)
        ? `its file was stored as ${object.contentType}, not ${upload.mimeType}`
        : undefined;
  if (problem) throw new Conflict('UPLOAD_INCOMPLETE', `The upload ${uploadId} cannot be sent: ${problem}.`, { field: path.join('.'), uploadId });
  return {
    url: await deps.media.urlFor(upload.key, { fileName: upload.fileName }),
    key: upload.key,
    mimeType: upload.mimeType,
    fileName: upload.fileName,
    sizeBytes: upload.sizeBytes,
  };
}

/** A link Meta fetches: it must pass the URL guard (https and a public address, in AWS). */
async function linkedFile(deps: AgentMediaDeps, kind: MediaKind, link: string): Promise<ResolvedFile> {
  try {
    await deps.webhookTransport.check(link);
  } catch (error) {
    if (error instanceof UnsafeUrl) throw new ValidationFailed([{ path: ['body', kind, 'link'], message: `${error.message} (${error.reason})`, code: 'unsafe_url' }]);
    throw error;
  }
  return { url: link };
}

function outgoingMedia(kind: MediaKind, url: string, caption: string | undefined, fileName: string | undefined): OutgoingMessage {
  switch (kind) {
    case 'image':
    case 'video':
      return { type: kind, url, ...(caption ? { caption } : {}) };
    case 'document':
      return { type: 'document', url, ...(caption ? { caption } : {}), ...(fileName ? { filename: fileName } : {}) };
    case 'audio':
    case 'sticker':
      return { type: kind, url };
  }
}
