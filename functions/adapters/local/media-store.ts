/**
 * The local runtime's `MediaStore` (`functions/core/media-ports.ts`): files in
 * a folder (`--persist DIR` → `DIR/media`, else a temporary folder), served
 * by the runtime itself under `/local/media/{key}`, with URLs signed the way
 * S3 presigns them, so the same rules hold locally:
 *
 * - `GET /local/media/{key}?expires=…&name=…&sig=…`: the file, when the
 *   signature (HMAC-SHA256 with the runtime's own key over method, key,
 *   expiry and download name) is right and the expiry has not passed;
 *   otherwise 403 (`AccessDenied`), as S3 refuses an expired or altered URL;
 * - `PUT /local/media/{key}?expires=…&type=…&size=…&sig=…`: an upload whose
 *   `Content-Type` and `Content-Length` are the ones signed (403
 *   `SignatureDoesNotMatch` otherwise, as S3 with signed headers), and whose
 *   body is exactly that long (400 `IncompleteBody`).
 *
 * Each key is one file (its name is the URL-encoded key) with a small
 * `.meta.json` beside it holding the content type.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { MEDIA_GET_URL_SECONDS, MEDIA_PUT_URL_SECONDS, type MediaStore, type StoredObject, type UploadTarget } from '../../core/media-ports.js';
import type { Clock } from '../../core/ports.js';

/** The path the runtime serves the files under. */
export const LOCAL_MEDIA_PATH = '/local/media/';

/** The largest upload taken (Meta's largest media: documents, 100 MB). */
export const LOCAL_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

export interface LocalMediaStoreOptions {
  /** The folder the files live in (created when missing). */
  dir: string;
  /** The runtime's base URL (known once it listens). */
  baseUrl: () => string;
  /** Signs the URLs: a secret of this runtime. */
  signingKey: string;
  clock?: Clock;
  maxBytes?: number;
}

export class LocalMediaStore implements MediaStore {
  private readonly clock: Clock;
  private readonly maxBytes: number;
  private ready: Promise<unknown> | undefined;

  constructor(private readonly options: LocalMediaStoreOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.maxBytes = options.maxBytes ?? LOCAL_MEDIA_MAX_BYTES;
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.ensureDir();
    const file = this.fileOf(key);
    // Written beside, then renamed: a reader never sees half a file.
    const part = `${file}.${randomUUID()}.part`;
    await writeFile(part, bytes);
    await writeFile(`${file}.meta.json`, JSON.stringify({ contentType }));
    await rename(part, file);
  }

  async urlFor(key: string, options?: { fileName?: string }): Promise<string> {
    const expires = this.expiry(MEDIA_GET_URL_SECONDS);
    const name = options?.fileName;
    const query = new URLSearchParams({ expires: String(expires), ...(name ? { name } : {}) });
    query.set('sig', this.sign(['GET', key, String(expires), name ?? '']));
    return `${this.urlOf(key)}?${query}`;
  }

  async uploadTargetFor(key: string, contentType: string, sizeBytes: number): Promise<UploadTarget> {
    const expires = this.expiry(MEDIA_PUT_URL_SECONDS);
    const query = new URLSearchParams({ expires: String(expires), type: contentType, size: String(sizeBytes) });
    query.set('sig', this.sign(['PUT', key, String(expires), contentType, String(sizeBytes)]));
    return {
      url: `${this.urlOf(key)}?${query}`,
      method: 'PUT',
      headers: { 'Content-Type': contentType, 'Content-Length': String(sizeBytes) },
      expiresAt: new Date(expires * 1000).toISOString(),
    };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const file = this.fileOf(key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const contentType = await this.contentTypeOf(file);
    return { sizeBytes: info.size, ...(contentType ? { contentType } : {}) };
  }

  /**
   * Serves `GET` and `PUT /local/media/{key}` (the runtime calls it before it
   * reads any body: uploads are larger than its API bodies). False when the
   * request is not for this path.
   */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith(LOCAL_MEDIA_PATH)) return false;
    let key: string;
    try {
      key = decodeURIComponent(url.pathname.slice(LOCAL_MEDIA_PATH.length));
    } catch {
      s3Error(res, 400, 'InvalidURI', 'The key is not URL-encoded properly.');
      return true;
    }
    const query = url.searchParams;
    const expires = Number(query.get('expires'));
    const signature = query.get('sig') ?? '';
    if (!key || !Number.isInteger(expires)) {
      s3Error(res, 403, 'AccessDenied', 'Query-string authentication requires the expires and sig parameters.');
      return true;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const name = query.get('name') ?? undefined;
      if (!this.verify(['GET', key, String(expires), name ?? ''], signature)) {
        s3Error(res, 403, 'AccessDenied', 'The request signature we calculated does not match the signature you provided.');
        return true;
      }
      if (this.expired(expires)) {
        s3Error(res, 403, 'AccessDenied', 'Request has expired');
        return true;
      }
      const file = this.fileOf(key);
      const bytes = await readFile(file).catch(() => undefined);
      if (!bytes) {
        s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        return true;
      }
      const contentType = (await this.contentTypeOf(file)) ?? 'application/octet-stream';
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': String(bytes.byteLength),
        ...(name ? { 'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}` } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return true;
    }
    if (req.method === 'PUT') {
      const type = query.get('type') ?? '';
      const size = query.get('size') ?? '';
      if (!this.verify(['PUT', key, String(expires), type, size], signature)) {
        s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
        return drain(req, true);
      }
      if (this.expired(expires)) {
        s3Error(res, 403, 'AccessDenied', 'Request has expired');
        return drain(req, true);
      }
      // Signed headers: another type or length than the signed ones is another request.
      if ((req.headers['content-type'] ?? '') !== type || (req.headers['content-length'] ?? '') !== size) {
        s3Error(res, 403, 'SignatureDoesNotMatch', `The upload was signed for Content-Type ${type} and Content-Length ${size}.`);
        return drain(req, true);
      }
      const expected = Number(size);
      if (!Number.isSafeInteger(expected) || expected > this.maxBytes) {
        s3Error(res, 400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${this.maxBytes} bytes).`);
        return drain(req, true);
      }
      const body = await readUpTo(req, expected);
      if (body === 'too-large' || body.byteLength !== expected) {
        s3Error(res, 400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
        return true;
      }
      await this.put(key, body, type);
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return true;
    }
    s3Error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    return drain(req, true);
  }

  private urlOf(key: string): string {
    return `${this.options.baseUrl().replace(/\/+$/, '')}${LOCAL_MEDIA_PATH}${encodeURIComponent(key)}`;
  }

  private fileOf(key: string): string {
    // One flat file per key: its encoded name holds no separator, so no key reaches outside the folder.
    return join(this.options.dir, encodeURIComponent(key).replace(/^\.+/, (dots) => '%2E'.repeat(dots.length)));
  }

  private async contentTypeOf(file: string): Promise<string | undefined> {
    const meta = await readFile(`${file}.meta.json`, 'utf8').catch(() => undefined);
    if (!meta) return undefined;
    try {
      const parsed = JSON.parse(meta) as { contentType?: unknown };
      return typeof parsed.contentType === 'string' ? parsed.contentType : undefined;
    } catch {
      return undefined;
    }
  }

  private ensureDir() {
    return (this.ready ??= mkdir(this.options.dir, { recursive: true }));
  }

  private expiry(seconds: number): number {
    return Math.floor(this.clock.now().getTime() / 1000) + seconds;
  }

  private expired(expires: number): boolean {
    return Math.floor(this.clock.now().getTime() / 1000) > expires;
  }

  private sign(parts: string[]): string {
    return createHmac('sha256', this.options.signingKey).update(parts.join('\n')).digest('hex');
  }

  private verify(parts: string[], signature: string): boolean {
    const expected = Buffer.from(this.sign(parts), 'hex');
    const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** S3's error shape. */
function s3Error(res: ServerResponse, status: number, code: string, message: string) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message.replace(/[<&>]/g, '')}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
  res.end(body);
}

/** Reads and drops the rest of a refused upload, so the client reads the answer. */
function drain(req: IncomingMessage, result: boolean): boolean {
  req.resume();
  return result;
}

/** The body, or `too-large` past `limit` bytes (the rest is dropped). */
async function readUpTo(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > limit) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
