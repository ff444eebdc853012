/**
 * Media an agent sends from the inbox: Meta's media rules (which types of
 * file each kind takes, and how large), the `POST /v1/uploads` body and
 * answer, and the media part of a reply (`image|video|audio|document|sticker`
 * in `POST /v1/conversations/{id}/messages`).
 *
 * Meta's rules (Cloud API, "Supported media types"): image JPEG/PNG 5 MB;
 * video MP4/3GPP 16 MB (H.264 + AAC); audio AAC, AMR, MP3, M4A, OGG (Opus
 * only) 16 MB; document text, PDF, Office 100 MB; sticker WebP 100 KB static,
 * 500 KB animated. Checked before a presigned PUT is handed out, so a file
 * Meta would refuse is never uploaded.
 */
import * as z from 'zod';
import { entityId } from './common.js';

export const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

const KB = 1024;
const MB = 1024 * KB;

/** Per kind: the MIME types Meta takes and the largest file (a sticker: static; animated ones `ANIMATED_STICKER_MAX_BYTES`). */
export const MEDIA_RULES: Record<MediaKind, { mimeTypes: readonly string[]; maxBytes: number }> = {
  image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
  video: { mimeTypes: ['video/mp4', 'video/3gpp', 'video/3gp'], maxBytes: 16 * MB },
  audio: { mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB },
  document: {
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
    maxBytes: 100 * MB,
  },
  sticker: { mimeTypes: ['image/webp'], maxBytes: 100 * KB },
};
export const ANIMATED_STICKER_MAX_BYTES = 500 * KB;

/** A MIME type as compared: lower case, without parameters, except `audio/ogg`, which Meta takes with the Opus codec only. */
export function normalMimeType(mimeType: string): string {
  return mimeType.split(';')[0]!.trim().toLowerCase();
}

/** The kind a MIME type is sent as (each supported type belongs to exactly one kind); undefined when Meta takes none. */
export function mediaKindOf(mimeType: string): MediaKind | undefined {
  const type = normalMimeType(mimeType);
  return MEDIA_KINDS.find((kind) => MEDIA_RULES[kind].mimeTypes.includes(type));
}

/** The largest file of a kind (an animated sticker may be larger than a static one). */
export function maxBytesOf(kind: MediaKind, animated = false): number {
  return kind === 'sticker' && animated ? ANIMATED_STICKER_MAX_BYTES : MEDIA_RULES[kind].maxBytes;
}

/** `audio/ogg` is the Opus codec only (Meta refuses base `audio/ogg` with other codecs). */
function oggWithOtherCodec(mimeType: string): boolean {
  const [type, ...params] = mimeType.toLowerCase().split(';').map((p) => p.trim());
  if (type !== 'audio/ogg') return false;
  const codecs = params.find((p) => p.startsWith('codecs='));
  return codecs !== undefined && !/opus/.test(codecs);
}

const supportedTypes = MEDIA_KINDS.flatMap((kind) => MEDIA_RULES[kind].mimeTypes).join(', ');

export const createUploadBody = z
  .strictObject({
    fileName: z
      .string()
      .trim()
      .min(1)
      .max(240)
      .refine((name) => !/[/\\\u0000-\u001f]/.test(name), 'A file name, without slashes or control characters.')
      .meta({ description: 'The file\'s name (a document is shown to the user under it).', example: 'invoice-1042.pdf' }),
    mimeType: z
      .string()
      .trim()
      .min(3)
      .max(128)
      .meta({ description: `The file's type; one Meta takes: ${supportedTypes}.`, example: 'application/pdf' }),
    sizeBytes: z.int().min(1).meta({ description: 'The file\'s exact size: the upload URL accepts exactly this many bytes.', example: 48213 }),
    animated: z.boolean().optional().meta({ description: 'A WebP sticker that is animated (500 KB at most instead of 100 KB).' }),
  })
  .superRefine((body, ctx) => {
    const kind = mediaKindOf(body.mimeType);
    if (!kind || oggWithOtherCodec(body.mimeType)) {
      ctx.addIssue({ code: 'custom', path: ['mimeType'], message: `WhatsApp does not take ${body.mimeType} files; send one of: ${supportedTypes}.` });
      return;
    }
    const max = maxBytesOf(kind, body.animated === true);
    if (body.sizeBytes > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['sizeBytes'],
        message: `A ${kind === 'sticker' ? `${body.animated ? 'animated' : 'static'} sticker` : kind} may be at most ${max} bytes (${max / (max >= MB ? MB : KB)} ${max >= MB ? 'MB' : 'KB'}); this one is ${body.sizeBytes}.`,
      });
    }
  })
  .meta({ description: 'A file to upload before sending it: its name, type and exact size, checked against Meta\'s media rules.' });
export type CreateUploadBody = z.infer<typeof createUploadBody>;

export const uploadCreated = z.object({
  uploadId: z.string().meta({ example: 'upl_01hx5v6f3c' }),
  kind: z.enum(MEDIA_KINDS).meta({ description: 'What the file is sent as: `image`, `video`, `audio`, `document` or `sticker`.' }),
  upload: z
    .object({
      url: z.string(),
      method: z.literal('PUT'),
      headers: z.record(z.string(), z.string()),
      expiresAt: z.string(),
    })
    .meta({ description: 'PUT the file\'s bytes to `url` with exactly these `headers` before `expiresAt`; then send it with `{kind: {uploadId}}`.' }),
  expiresAt: z.string().meta({ description: 'Until when the upload may be sent (24 hours).' }),
});
export type UploadCreated = z.infer<typeof uploadCreated>;

/** The media part of an agent's reply: a file uploaded through `POST /v1/uploads`, or a public https link Meta fetches. */
export const outboundMedia = z
  .strictObject({
    uploadId: entityId.optional().meta({ description: 'A file uploaded with `POST /v1/uploads` (and PUT).' }),
    link: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .meta({ description: 'A public https URL WhatsApp fetches the file from.' }),
    caption: z.string().trim().min(1).max(1024).optional().meta({ description: 'Not for audio or stickers.' }),
    fileName: z.string().trim().min(1).max(240).optional().meta({ description: 'Documents only: the name the user sees and saves it under.' }),
  })
  .superRefine((media, ctx) => {
    if ((media.uploadId === undefined) === (media.link === undefined)) {
      ctx.addIssue({ code: 'custom', path: [media.uploadId === undefined ? 'uploadId' : 'link'], message: 'Give exactly one of uploadId or link.' });
    }
  });
export type OutboundMedia = z.infer<typeof outboundMedia>;

/** Which media fields a kind takes (Meta: no caption on audio and stickers; a file name on documents only). */
export function mediaFieldIssues(kind: MediaKind, media: OutboundMedia): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  if (media.caption !== undefined && (kind === 'audio' || kind === 'sticker')) issues.push({ path: [kind, 'caption'], message: `WhatsApp takes no caption on ${kind === 'audio' ? 'audio' : 'a sticker'}.` });
  if (media.fileName !== undefined && kind !== 'document') issues.push({ path: [kind, 'fileName'], message: 'Only a document takes a fileName.' });
  return issues;
}
