/**
 * A file an agent uploads to send from the inbox (docs/data-model.md,
 * "Uploads"): what `POST /v1/uploads` promised (kind, type, exact size, name)
 * and where the bytes go (`uploads/{accountId}/{uploadId}` in the media
 * store). Its own partition, named by the account and the upload id, so
 * another account's id is simply not found. `expiresAt` is the table's TTL
 * (epoch seconds): 24 hours after the upload was handed out.
 */
import * as z from 'zod';
import { MEDIA_KINDS } from '../../../../schemas/uploads.js';
import { defineEntity } from './entity.js';

export const upload = defineEntity({
  type: 'upload',
  key: { pk: 'UPLOAD#{accountId}#{uploadId}', sk: 'UPLOAD' },
  schema: z.object({
    accountId: z.string(),
    uploadId: z.string(),
    kind: z.enum(MEDIA_KINDS),
    mimeType: z.string(),
    fileName: z.string(),
    sizeBytes: z.number(),
    key: z.string(),
    createdAt: z.string(),
    expiresAt: z.number(),
  }),
});
