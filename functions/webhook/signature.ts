/**
 * Meta's delivery signature (docs/architecture.md): `X-Hub-Signature-256: sha256=<hex>`
 * where hex is HMAC-SHA256(app secret, body). It is computed over the raw
 * bytes as received, never over re-serialised JSON, which would differ in
 * escapes (`\u00e1` vs `á`), key order and spacing.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from './verification.js';

const HEADER_VALUE = /^sha256=([0-9a-f]{64})$/i;

/** Whether `header` is the valid signature of `body`; a missing or malformed header is simply not valid. */
export function verifySignature(body: Buffer, header: string | undefined, appSecret: string): boolean {
  const match = header?.trim().match(HEADER_VALUE);
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return constantTimeEqual(Buffer.from(match[1], 'hex'), expected);
}

/** The header value Meta would send for `body`: for tests, the local simulator and the README. */
export function signatureFor(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
