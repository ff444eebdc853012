/** Meta's webhook verification handshake (docs/architecture.md): echo `hub.challenge` when the token matches. */
import { timingSafeEqual } from 'node:crypto';

export type HandshakeResult = { ok: true; challenge: string } | { ok: false };

export function answerHandshake(query: Record<string, string | undefined>, verifyToken: string): HandshakeResult {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe' || token === undefined || challenge === undefined) return { ok: false };
  return constantTimeEqual(token, verifyToken) ? { ok: true, challenge } : { ok: false };
}

/** Compares secrets without leaking their length or content through timing. */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const right = Buffer.isBuffer(b) ? b : Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
