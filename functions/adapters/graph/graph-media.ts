/**
 * The Graph API's media endpoints behind the core's `MediaSource` port
 * (`functions/core/inbound-media.ts`): `GET {base}/{version}/{media-id}` for a
 * received file's short-lived URL and description, then the download of that
 * URL with the same bearer token (Meta refuses it without). Both with the
 * number's access token as every other Graph call gets it (a getter: Secrets
 * Manager in AWS, cached per container). Meta's errors are classified as the
 * send path does (`classify`): throttling and 5xx are retried here a few
 * times, then surface as retryable errors for the queue to retry.
 */
import * as z from 'zod';
import { WhatsAppUnavailable } from '../../core/errors.js';
import { MediaTooLarge, type MediaSource, type RemoteMedia } from '../../core/inbound-media.js';
import { classify } from './graph-client.js';

export interface GraphMediaOptions {
  baseUrl: string;
  version: string;
  accessToken: () => Promise<string>;
  fetch?: typeof fetch;
  /** Attempts per request, retries included. @default 3 */
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Per request of the description. @default 15 s */
  timeoutMs?: number;
  /** Per download (a 100 MB document). @default 120 s */
  downloadTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** `GET /{media-id}`: Meta's answer (`file_size` is a number, or a string in some versions). */
const mediaObject = z.looseObject({
  url: z.string().min(1),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  file_size: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  id: z.string().optional(),
});

export class GraphMediaSource implements MediaSource {
  private readonly fetchFn: typeof fetch;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: GraphMediaOptions) {
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async describe(mediaId: string, phoneNumberId: string): Promise<RemoteMedia> {
    // `phone_number_id`: Meta answers only when the media belongs to that number.
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/${this.options.version}/${encodeURIComponent(mediaId)}?phone_number_id=${encodeURIComponent(phoneNumberId)}`;
    const token = await this.options.accessToken();
    const body = await this.withRetries(async () => {
      let response: Response;
      try {
        response = await this.fetchFn(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000) });
      } catch {
        return { retry: true as const, error: new WhatsAppUnavailable('The Graph API did not answer the media request; retrying.') };
      }
      const parsed = safeJson(await response.text());
      if (response.ok) return { body: parsed };
      return classify(response.status, parsed);
    });
    const media = mediaObject.safeParse(body);
    if (!media.success) throw new WhatsAppUnavailable('WhatsApp answered the media request in an unexpected shape.');
    const { url: fileUrl, mime_type, sha256, file_size } = media.data;
    return { url: fileUrl, ...(mime_type ? { mimeType: mime_type } : {}), ...(sha256 ? { sha256 } : {}), ...(file_size !== undefined ? { fileSize: file_size } : {}) };
  }

  async download(url: string, maxBytes: number): Promise<Uint8Array> {
    const token = await this.options.accessToken();
    return this.withRetries<Uint8Array>(async () => {
      let response: Response;
      try {
        response = await this.fetchFn(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(this.options.downloadTimeoutMs ?? 120_000) });
      } catch {
        return { retry: true as const, error: new WhatsAppUnavailable('The media download did not answer; retrying.') };
      }
      if (!response.ok) {
        await response.arrayBuffer().catch(() => undefined);
        // Even a 4xx of a URL Meta just gave is worth another round (a new URL comes with the next attempt).
        return { retry: response.status >= 500 || response.status === 429, error: new WhatsAppUnavailable(`The media download answered HTTP ${response.status}; retrying.`) };
      }
      const announced = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(announced) && announced > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        return { retry: false as const, error: new MediaTooLarge(announced, maxBytes) };
      }
      try {
        return { body: await readAtMost(response, maxBytes) };
      } catch (error) {
        if (error instanceof MediaTooLarge) return { retry: false as const, error };
        return { retry: true as const, error: new WhatsAppUnavailable('The media download was cut short; retrying.') };
      }
    });
  }

  private async withRetries<T>(attempt: () => Promise<{ body: T } | { retry: boolean; error: Error }>): Promise<T> {
    for (let round = 1; ; round++) {
      const outcome = await attempt();
      if ('body' in outcome) return outcome.body;
      if (!outcome.retry || round >= this.maxAttempts) throw outcome.error;
      await this.sleep(Math.random() * this.baseDelayMs * 2 ** (round - 1));
    }
  }
}

/** The response's bytes, refusing more than `maxBytes` as they stream in. */
async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new MediaTooLarge(undefined, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
