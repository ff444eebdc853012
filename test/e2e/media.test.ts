/**
 * Media in end to end through the local runtime over HTTP: a photo registered
 * with the Graph API simulator (`POST /local/graph/media`), a signed
 * Meta-shaped image message at /webhook, the bus, the inbox and media
 * consumers, then `GET /v1/conversations/{id}/messages` shows `media.url`,
 * which opens the very bytes registered; an expired or forged URL is refused.
 * A corrupted download is refused and reported on the message.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { fixtureText } from '../support/inbox.js';
import { eventually, localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let agent: string; // the reader of the inbox

const VENDAS = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
const DEFAULT = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const CONVERSATION = '/v1/conversations/15550001002_5511987650001/messages';

const token = (body: { role: string; accountId?: string }) => localClient(runtime).token(body);
const api = (method: string, path: string, bearer: string, body?: unknown) => localClient(runtime).api(method, path, bearer, body);

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const support = await token({ role: 'support' });
  const created = await api('POST', '/v1/admin/accounts', support, { name: 'Acme', plan: { users: 5, teams: 3, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 });
  expect(created.status).toBe(201);
  const accountId = created.body.accountId as string;
  const owner = await token({ role: 'owner', accountId });
  expect((await api('POST', '/v1/addons', owner, { type: 'number', quantity: 1 })).status).toBe(200);
  for (const [i, number] of [DEFAULT, VENDAS].entries()) expect((await api('POST', '/v1/numbers', owner, { name: `Number ${i + 1}`, ...number })).status).toBe(201);
  agent = owner; // owners see every number (an agent sees the numbers their teams cover: docs/architecture.md)
});

afterAll(async () => {
  await runtime?.stop();
});

/** A photo-like file: bytes of every value, so any change in transit shows. */
function photo(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + 17) % 256;
  return bytes;
}

async function register(bytes: Buffer, type: string, query = '') {
  const res = await fetch(`${runtime.url}/local/graph/media${query}`, { method: 'POST', headers: { 'content-type': type }, body: bytes });
  return { status: res.status, body: (await res.json()) as { id: string; sha256: string; mime_type: string; file_size: number } };
}

/** The image fixture, stamped now, with the registered file's id and sha256 (as Meta sends them) and its own wamid. */
function imageMessage(media: { id: string; sha256: string }, wamid: string): string {
  return fixtureText('image-message.json')
    .replace(/"timestamp": "\d+"/, `"timestamp": "${Math.floor(Date.now() / 1000)}"`)
    .replace('"1470000000000001"', JSON.stringify(media.id))
    .replace('"q5JAzBphW7m1k6Lr3o9gCOlgXiXgD5oA4bV7Yk2cS7E="', JSON.stringify(media.sha256))
    .replace('wamid.IN_IMAGE_0001', wamid);
}

async function messageOf(wamid: string) {
  const page = await api('GET', CONVERSATION, agent);
  expect(page.status).toBe(200);
  return (page.body.items as { wamid: string; media?: Record<string, any> }[]).find((m) => m.wamid === wamid);
}

describe('media in through the local runtime', () => {
  const bytes = photo(300_000);
  let url = '';

  it('registers a file with the simulator, as Meta describes it', async () => {
    const registered = await register(bytes, 'image/jpeg');
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ mime_type: 'image/jpeg', file_size: bytes.length });
    expect(Buffer.from(registered.body.sha256, 'base64')).toHaveLength(32);
    // Meta's media object needs the token, like the real Graph API.
    const anonymous = await fetch(`${runtime.env.GRAPH_API_BASE_URL}/v23.0/${registered.body.id}`);
    expect(anonymous.status).toBe(401);

    expect(await localClient(runtime).deliver(imageMessage(registered.body, 'wamid.IN_IMAGE_E2E'))).toBe(200);
    await runtime.bus.drain();
    const message = await eventually(() => messageOf('wamid.IN_IMAGE_E2E'), (m) => m?.media?.status === 'stored');
    expect(message).toMatchObject({ type: 'image', text: 'este modelo', media: { status: 'stored', mimeType: 'image/jpeg', caption: 'este modelo', sizeBytes: bytes.length } });
    expect(message!.media!.sha256).toBe(Buffer.from(registered.body.sha256, 'base64').toString('hex'));
    expect(Date.parse(message!.media!.expiresAt)).toBeGreaterThan(Date.now());
    url = message!.media!.url;
    expect(url.startsWith(`${runtime.url}/local/media/`)).toBe(true);
  });

  it('opens the file through its URL, byte-identical to what the simulator served', async () => {
    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await opened.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses a forged URL (another key, another expiry, another signature) and an expired one', async () => {
    const forged = new URL(url);
    forged.searchParams.set('expires', String(Number(forged.searchParams.get('expires')) + 3600));
    expect((await fetch(forged)).status).toBe(403);
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('IN_IMAGE_E2E', 'IN_IMAGE_OTHER');
    expect((await fetch(otherKey)).status).toBe(403);
    const badSig = new URL(url);
    badSig.searchParams.set('sig', '0'.repeat(64));
    expect((await fetch(badSig)).status).toBe(403);
    // A URL made for an expiry in the past, signed by the runtime itself: refused as expired.
    const key = decodeURIComponent(new URL(url).pathname.slice('/local/media/'.length));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 10 * 60 * 1000);
    let stale: string;
    try {
      stale = await runtime.media.urlFor(key);
    } finally {
      vi.useRealTimers();
    }
    const expired = await fetch(stale);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('refuses and reports a download whose bytes do not match the sha256 Meta gave', async () => {
    const registered = await register(photo(5000), 'image/jpeg', '?corrupt=true');
    expect(registered.status).toBe(201);
    expect(await localClient(runtime).deliver(imageMessage(registered.body, 'wamid.IN_IMAGE_CORRUPT'))).toBe(200);
    await runtime.bus.drain();
    const message = await eventually(() => messageOf('wamid.IN_IMAGE_CORRUPT'), (m) => m?.media?.status !== undefined && m.media.status !== 'pending');
    expect(message!.media).toMatchObject({ status: 'failed', error: { code: 'SHA256_MISMATCH' } });
    expect(message!.media!.url).toBeUndefined();
    // Permanent: handled, not dead-lettered.
    const dead = (await (await fetch(`${runtime.url}/local/bus/dead-letters`)).json()) as { items: { rule: string }[] };
    expect((dead.items as { rule: string }[]).filter((d) => d.rule === 'media')).toEqual([]);
  });

  it('refuses a registration without a content type', async () => {
    const res = await fetch(`${runtime.url}/local/graph/media`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    expect(res.status).toBe(400);
  });
});
