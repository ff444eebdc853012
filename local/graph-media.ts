/**
 * The Graph API simulator's media (`local/graph-simulator.ts`): files a user
 * or a test registers, served as Meta serves received media.
 *
 * - `POST /local/graph/media` on the runtime's port, with the file's bytes
 *   and its `Content-Type`, registers a file and answers
 *   `{id, sha256, mime_type, file_size}`: `id` goes into a Meta-shaped media
 *   message's `image.id` (or `video`, `audio`, `document`, `sticker`), and
 *   `sha256` is base64, as Meta writes it in webhook messages (the fixtures).
 *   `?corrupt=true` makes the download serve other bytes of the same length
 *   (a SHA-256 mismatch); `?fail=N` makes the first N `GET /{media-id}` answer
 *   500 (a transient failure).
 * - `GET /{version}/{media-id}` (bearer token) answers
 *   `{messaging_product, url, mime_type, sha256, file_size, id}` as Meta does,
 *   `sha256` in hex there, `url` on the simulator;
 * - that URL serves the bytes only with the bearer token (401 without), like
 *   Meta's download URLs.
 */
import { createHash, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-event.js';

/** The largest file taken (Meta's largest media: documents, 100 MB). */
export const SIMULATED_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

export interface SimulatedMedia {
  id: string;
  mimeType: string;
  bytes: Buffer;
  /** Served instead of `bytes` (same length) when registered with `corrupt`. */
  served: Buffer;
  /** `GET /{media-id}` answers 500 this many more times. */
  failuresLeft: number;
  /** How often the file was described (`GET /{media-id}`) and downloaded. */
  described: number;
  downloaded: number;
}

export interface RegisteredMedia {
  id: string;
  /** Base64, as in Meta's webhook messages. */
  sha256: string;
  mime_type: string;
  file_size: number;
}

const DOWNLOAD_PATH = '/whatsapp_business/attachments/';

export class SimulatedMediaLibrary {
  private readonly files = new Map<string, SimulatedMedia>();

  register(bytes: Buffer, mimeType: string, options: { corrupt?: boolean; failures?: number } = {}): RegisteredMedia {
    let id: string;
    do id = `${randomInt(1_000_000, 9_999_999)}${randomInt(100_000_000, 999_999_999)}`;
    while (this.files.has(id));
    // Corrupt: the same length, its first byte flipped (a download that is complete but not the file Meta hashed).
    const served = Buffer.from(bytes);
    if (options.corrupt && served.length > 0) served[0] = served[0]! ^ 0xff;
    this.files.set(id, { id, mimeType, bytes: Buffer.from(bytes), served, failuresLeft: options.failures ?? 0, described: 0, downloaded: 0 });
    return { id, sha256: createHash('sha256').update(bytes).digest('base64'), mime_type: mimeType, file_size: bytes.length };
  }

  get(id: string): SimulatedMedia | undefined {
    return this.files.get(id);
  }

  /**
   * Answers `GET /{version}/{media-id}` and the download URL (the caller has
   * checked the bearer token); false for any other request.
   */
  handle(req: IncomingMessage, res: ServerResponse, baseUrl: string): boolean {
    if (req.method !== 'GET') return false;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === DOWNLOAD_PATH) {
      const file = this.files.get(url.searchParams.get('mid') ?? '');
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('Not found');
        return true;
      }
      file.downloaded++;
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.served.length) });
      res.end(file.served);
      return true;
    }
    const match = /^\/(v\d+\.\d+)\/(\d+)$/.exec(url.pathname);
    if (!match) return false;
    const file = this.files.get(match[2]!);
    if (!file) {
      sendJson(res, 400, {
        error: {
          message: `Unsupported get request. Object with ID '${match[2]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
        },
      });
      return true;
    }
    file.described++;
    if (file.failuresLeft > 0) {
      file.failuresLeft--;
      sendJson(res, 500, { error: { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2 } });
      return true;
    }
    sendJson(res, 200, {
      messaging_product: 'whatsapp',
      url: `${baseUrl}${DOWNLOAD_PATH}?mid=${file.id}&ext=${Date.now()}`,
      mime_type: file.mimeType,
      sha256: createHash('sha256').update(file.bytes).digest('hex'),
      file_size: file.bytes.length,
      id: file.id,
    });
    return true;
  }
}

/**
 * `POST /local/graph/media` on the runtime: the raw body is the file, its
 * `Content-Type` the type; `?corrupt=true`, `?fail=N` as above. Read here, not
 * by the runtime's 5 MiB API body reader: files go up to 100 MB.
 */
export async function registerMediaRequest(library: SimulatedMediaLibrary, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const mimeType = (req.headers['content-type'] ?? '').trim();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= SIMULATED_MEDIA_MAX_BYTES) chunks.push(chunk);
  }
  if (total > SIMULATED_MEDIA_MAX_BYTES) {
    res.setHeader('connection', 'close');
    sendJson(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: `The file is larger than ${SIMULATED_MEDIA_MAX_BYTES} bytes.` } });
    return;
  }
  if (!mimeType || !/^[\w.+-]+\/[\w.+-]+/.test(mimeType)) {
    sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: "Send the file's bytes with its Content-Type (e.g. image/jpeg).", issues: [{ path: ['header', 'content-type'], message: 'Required: the file\'s type.', code: 'invalid_type' }] } });
    return;
  }
  if (total === 0) {
    sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: 'The body is the file: it is empty.', issues: [{ path: ['body'], message: 'Empty file.', code: 'too_small' }] } });
    return;
  }
  const fail = Number(url.searchParams.get('fail') ?? 0);
  const registered = library.register(Buffer.concat(chunks, total), mimeType, {
    corrupt: url.searchParams.get('corrupt') === 'true',
    failures: Number.isInteger(fail) && fail > 0 ? Math.min(fail, 100) : 0,
  });
  sendJson(res, 201, registered);
}
