/**
 * Where media files live (S3 in AWS, a local folder served by the runtime in
 * `npm start`): inbound files fetched from the Graph API, and files an agent
 * uploads to send. Every URL handed out is short-lived and names one object.
 *
 * Keys (decided here, used by both sides):
 * - inbound: `media/{accountId}/{whatsappPhno}/{wamid}`;
 * - uploads: `uploads/{accountId}/{uploadId}`.
 */
export interface StoredObject {
  sizeBytes: number;
  contentType?: string;
}

export interface UploadTarget {
  /** PUT the file's bytes here, with `headers`, before `expiresAt`. */
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  expiresAt: string;
}

export interface MediaStore {
  /** Stores the bytes under `key` (overwrites: a retried store writes the same bytes). */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** A short-lived URL that GETs the object (`fileName` as the download's name, when given). */
  urlFor(key: string, options?: { fileName?: string }): Promise<string>;
  /** A short-lived URL a client PUTs exactly this type and size of file to. */
  uploadTargetFor(key: string, contentType: string, sizeBytes: number): Promise<UploadTarget>;
  /** What is stored under `key`; undefined when nothing is. */
  head(key: string): Promise<StoredObject | undefined>;
}

export const inboundMediaKey = (accountId: string, whatsappPhno: string, wamid: string) => `media/${accountId}/${whatsappPhno}/${wamid}`;
export const uploadKey = (accountId: string, uploadId: string) => `uploads/${accountId}/${uploadId}`;

/** How long a presigned GET of a media file works (the view's `url`). */
export const MEDIA_GET_URL_SECONDS = 5 * 60;
/** How long an upload target (presigned PUT) works. */
export const MEDIA_PUT_URL_SECONDS = 10 * 60;

/** The Graph API media types whose file the inbox keeps (voice is `audio` with `voice: true`). */
export const MEDIA_MESSAGE_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaMessageType = (typeof MEDIA_MESSAGE_TYPES)[number];

/**
 * What a message item records about its file (`media` on the message item),
 * written by the media consumer once (`functions/core/inbound-media.ts`):
 * `stored` with the object's key, or `failed` with why (never retried).
 */
export interface StoredMedia {
  status: 'stored' | 'failed';
  /** Where the bytes are (`inboundMediaKey`); only when stored. */
  key?: string;
  /** An outbound file an agent sent by link (no key: the bytes are not ours): the link as given, shown as the view's `url`. */
  link?: string;
  mimeType?: string;
  fileName?: string;
  caption?: string;
  sizeBytes?: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256?: string;
  voice?: true;
  error?: { code: string; message: string };
  at: string;
}
