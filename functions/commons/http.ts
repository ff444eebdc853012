/**
 * HTTP plumbing shared by every API Gateway v2 handler: the error → response
 * mapping (the ONE place it happens), JSON responses, body decoding and zod
 * validation that names the wrong field.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { AppError, InternalError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed } from '../core/errors.js';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export function json(statusCode: number, body?: unknown, headers: Record<string, string> = {}): HttpResponse {
  if (body === undefined) return { statusCode, headers };
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** Maps any thrown value to the error body of docs/architecture.md ("The dashboard HTTP API"). 5xx answers never carry the message or a stack. */
export function errorResponse(error: unknown): HttpResponse {
  const appError = error instanceof AppError ? error : new InternalError();
  const body = appError.expose
    ? { error: { code: appError.code, message: appError.message, ...appError.details } }
    : { error: { code: appError.code, message: 'Internal error.' } };
  return json(appError.statusCode, body);
}

/** The raw body bytes as the client sent them (API Gateway base64-encodes binary bodies). */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function header(event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Room for a 100,000-recipient broadcast (~1.6 MB); API Gateway itself stops at 10 MB. */
const MAX_API_BODY_BYTES = 4 * 1024 * 1024;

/** Decodes a JSON body: 415 for another media type, 413 when too large, 400 naming `body` when malformed. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const bytes = rawBody(event);
  if (bytes.length === 0) return undefined;
  if (bytes.length > MAX_API_BODY_BYTES) throw new PayloadTooLarge(MAX_API_BODY_BYTES);
  const contentType = header(event, 'content-type');
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType)) throw new UnsupportedMediaType();
  return parseJsonBytes(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * JSON from raw bytes, refusing (400 naming `body`) what must never be read
 * as data: bytes that are not UTF-8 (decoding them would store U+FFFD in
 * their place), malformed JSON, and a `__proto__` key at any depth (an own
 * property after JSON.parse, but copying it into a plain object, as
 * validation does, sets that object's prototype).
 *
 * `invalidUtf8: 'replace'` reads such bytes as U+FFFD instead: for Meta's
 * signed deliveries, where a refusal would only make Meta redeliver the same
 * bytes for days and lose the message in the end.
 */
export function parseJsonBytes(bytes: Uint8Array, options: { invalidUtf8?: 'refuse' | 'replace' } = {}): unknown {
  let text: string;
  try {
    text = (options.invalidUtf8 === 'replace' ? lenientUtf8 : utf8).decode(bytes);
  } catch {
    throw new ValidationFailed([{ path: ['body'], message: 'The body is not valid UTF-8.', code: 'invalid_encoding' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationFailed([{ path: ['body'], message: 'Malformed JSON.', code: 'invalid_json' }]);
  }
  // A key is `__proto__` only if the text spells it or escapes one of its letters (`_ p r o t`): only then is the
  // tree walked. Other escapes (`\u00e7`, emoji surrogates, which Meta's deliveries are full of) cannot make one.
  if ((text.includes('__proto__') || PROTO_LETTER_ESCAPE.test(text)) && hasProtoKey(value)) {
    throw new ValidationFailed([{ path: ['body'], message: 'The key __proto__ is not allowed.', code: 'unrecognized_keys' }]);
  }
  return value;
}

/** A `\\uXXXX` escape of one of the letters of `__proto__`. */
const PROTO_LETTER_ESCAPE = /\\u00(?:5f|6f|7[024])/i;

function hasProtoKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return true;
    for (const child of Object.values(value)) stack.push(child);
  }
  return false;
}

/** Parses with a zod schema; failures become 400 `VALIDATION_FAILED` with every issue and its path. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.infer<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
    code: issue.code,
  }));
  throw new ValidationFailed(issues);
}
