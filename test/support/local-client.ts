/**
 * An HTTP client of the local runtime for end-to-end tests: local tokens, the
 * dashboard API, and webhook deliveries signed as Meta signs them.
 */
import type { LocalRuntime } from '../../local/runtime.js';
import { sign } from './webhook.js';

export function localClient(runtime: Pick<LocalRuntime, 'url' | 'env'>) {
  return {
    async token(body: { role: string; accountId?: string; userId?: string }): Promise<string> {
      const res = await fetch(`${runtime.url}/local/token`, { method: 'POST', body: JSON.stringify(body) });
      return ((await res.json()) as { token: string }).token;
    },

    /** Calls the dashboard API with a bearer token and decodes the JSON answer. */
    async api(method: string, path: string, bearer: string, body?: unknown) {
      const res = await fetch(`${runtime.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },

    /** Posts the exact bytes to /webhook with Meta's `X-Hub-Signature-256`. */
    async deliver(raw: string | Buffer): Promise<number> {
      const res = await fetch(`${runtime.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw, runtime.env.WHATSAPP_APP_SECRET) },
        body: raw,
      });
      return res.status;
    },
  };
}

/** Polls until `done` holds or the deadline passes; the caller asserts on what came back. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    value = await read();
  }
  return value;
}
