/**
 * Media files in S3 behind the core's `MediaStore` (`functions/core/media-ports.ts`):
 * the bucket of `lib/media-bucket.ts` (encrypted, public access blocked,
 * objects expiring by prefix). Every URL handed out is presigned for one
 * object and one method:
 * - GET for `MEDIA_GET_URL_SECONDS` (5 min), with `ResponseContentDisposition`
 *   naming the file when it has a name;
 * - PUT for `MEDIA_PUT_URL_SECONDS` (10 min), signed over `Content-Type` and
 *   `Content-Length`: S3 refuses (403 `SignatureDoesNotMatch`) a PUT of another
 *   type or size than the one declared, so an upload is exactly what was
 *   checked against Meta's media rules.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MEDIA_GET_URL_SECONDS, MEDIA_PUT_URL_SECONDS, type MediaStore, type StoredObject, type UploadTarget } from '../../core/media-ports.js';
import type { Clock } from '../../core/ports.js';

export interface S3MediaStoreOptions {
  bucketName: string;
  client?: S3Client;
  region?: string;
  clock?: Clock;
}

export class S3MediaStore implements MediaStore {
  private readonly client: S3Client;
  private readonly clock: Clock;

  constructor(private readonly options: S3MediaStoreOptions) {
    this.client = options.client ?? new S3Client(options.region ? { region: options.region } : {});
    this.clock = options.clock ?? { now: () => new Date() };
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucketName, Key: key, Body: bytes, ContentType: contentType, ContentLength: bytes.byteLength }));
  }

  async urlFor(key: string, options?: { fileName?: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.options.bucketName,
      Key: key,
      ...(options?.fileName ? { ResponseContentDisposition: contentDisposition(options.fileName) } : {}),
    });
    return getSignedUrl(this.client, command, { expiresIn: MEDIA_GET_URL_SECONDS });
  }

  async uploadTargetFor(key: string, contentType: string, sizeBytes: number): Promise<UploadTarget> {
    const command = new PutObjectCommand({ Bucket: this.options.bucketName, Key: key, ContentType: contentType, ContentLength: sizeBytes });
    const url = await getSignedUrl(this.client, command, {
      expiresIn: MEDIA_PUT_URL_SECONDS,
      // Signed, so S3 checks them: another type or size fails the signature.
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      url,
      method: 'PUT',
      headers: { 'Content-Type': contentType, 'Content-Length': String(sizeBytes) },
      expiresAt: new Date(this.clock.now().getTime() + MEDIA_PUT_URL_SECONDS * 1000).toISOString(),
    };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucketName, Key: key }));
      return { sizeBytes: head.ContentLength ?? 0, ...(head.ContentType ? { contentType: head.ContentType } : {}) };
    } catch (error) {
      const name = (error as { name?: string }).name;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NotFound' || name === 'NoSuchKey' || status === 404) return undefined;
      throw error;
    }
  }
}

/** `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the exact name. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
