/**
 * The hostile input corpus (test/fixtures/hostile/cases.ts) against the local
 * runtime over real HTTP: the bytes, headers and content types go through the
 * real node http server, then the very API and webhook Lambdas. Every case
 * answers the 4xx its contract gives (JSON `{error: {code, message}}` naming
 * the field or the problem), never a 5xx; afterwards the account's listings
 * are what they were, nothing reached the bus, no prototype was polluted, and
 * ordinary requests work.
 */
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { signatureFor } from '../../functions/webhook/signature.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { type Caller, type Expectation, type HostileCase, TOLERANT_NUMBER, type WebhookCase, inboundText, requestCases, routeCases, webhookCases } from '../fixtures/hostile/cases.js';
import { localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let support: string;
let owner: string;
let ownerB: string;
/** Account A's API key (x-api-key on /api/v1/…). */
let apiKey: string;
let accountId: string;
let accountB: string;
/** What every listing of account A answered before the corpus ran. */
let before: Record<string, unknown>;
let busEventsBefore: number;
/** Events the corpus publishes on purpose: the tolerated deliveries, to account B. */
let publishedOnPurpose = 0;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

const MAIN = { name: 'Main', displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request over HTTP, the path sent exactly as given (no URL normalisation) and the body byte for byte. */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<Answer> {
  const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const { port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, ...(bytes ? { 'content-length': String(bytes.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

/** The bytes as sent over a plain socket, and the status line of the answer: for what no HTTP client sends. */
function sendRaw(bytes: Buffer): Promise<string> {
  const { port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

const fill = (text: string) => text.replaceAll('{{accountId}}', accountId);

function authFor(as: Caller): Record<string, string> {
  if (as === 'owner') return { authorization: `Bearer ${owner}` };
  if (as === 'support') return { authorization: `Bearer ${support}` };
  if (as === 'apiKey') return { 'x-api-key': apiKey };
  return {};
}

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: (string | number)[]; message: string; code: string }[] };
}

/** The answer is the refusal the case expects: its status, a JSON error with a code and a message naming the problem. */
function expectRefusal(name: string, expected: Expectation, answer: Answer): ErrorBody {
  const shown = `${name}: ${answer.status} ${answer.text.slice(0, 400)}`;
  expect(answer.status, shown).toBeLessThan(500);
  expect(expected.status, shown).toContain(answer.status);
  expect(answer.headers['content-type'], shown).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as ErrorBody;
  expect(body.error?.code, shown).toBe(expected.code ?? body.error?.code);
  expect(body.error.message, shown).toMatch(/\S/);
  const said = [body.error.message, ...(body.error.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`)].join('\n');
  if (expected.where && answer.status === 400) {
    const where = expected.where;
    const named = body.error.message.includes(where.join('.')) || (body.error.issues ?? []).some((issue) => where.every((part, i) => issue.path[i] === part));
    expect(named, `${shown}\nnames ${where.join('.')}`).toBe(true);
  }
  if (expected.mentions) expect(said, shown).toMatch(expected.mentions);
  return body;
}

async function busEvents(): Promise<number> {
  return ((await (await fetch(`${runtime.url}/local/bus/events`)).json()) as { items: unknown[] }).items.length;
}

/** Every listing of account A with no path parameter: what the corpus must leave as it was. */
const listings = apiRoutes.filter((route) => route.method === 'GET' && !route.path.includes('{') && route.role !== 'support');

async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const route of listings) {
    const takesLimit = route.query instanceof z.ZodObject && 'limit' in route.query.shape;
    const answer = await send('GET', `${route.path}${takesLimit ? '?limit=100' : ''}`, authFor('owner'));
    expect(answer.status, `${route.path}: ${answer.text}`).toBe(200);
    out[route.path] = JSON.parse(answer.text);
  }
  // A key's last use is when it was last sent, refused or not: not an item stored.
  for (const key of (out['/v1/api-keys'] as { items: { lastUsedAt?: unknown }[] }).items) delete key.lastUsedAt;
  return out;
}

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0 });
  const client = localClient(runtime);
  support = await client.token({ role: 'support' });
  const plan = { users: 5, teams: 3, chatbotSessions: 2, aiResponses: 10 };
  const [a, b] = await Promise.all([
    client.api('POST', '/v1/admin/accounts', support, { name: 'Hostile A', plan, creditsMicros: 10_000_000 }),
    client.api('POST', '/v1/admin/accounts', support, { name: 'Hostile B', plan }),
  ]);
  expect([a.status, b.status]).toEqual([201, 201]);
  accountId = a.body.accountId;
  accountB = b.body.accountId;
  owner = await client.token({ role: 'owner', accountId });
  ownerB = await client.token({ role: 'owner', accountId: accountB });
  expect((await client.api('POST', '/v1/numbers', owner, MAIN)).status).toBe(201);
  expect((await client.api('POST', '/v1/numbers', ownerB, TOLERANT_NUMBER)).status).toBe(201);
  // Two seats in each account: a listing of one a page has a second page, so a real cursor to misuse.
  for (const [token, tag] of [[owner, 'a'], [ownerB, 'b']] as const) {
    for (const n of [1, 2]) expect((await client.api('POST', '/v1/users', token, { email: `agent${n}@${tag}.example.com`, role: 'agent' })).status).toBe(201);
  }
  expect((await client.api('POST', '/v1/teams', owner, { name: 'Support' })).status).toBe(201);
  const key = await client.api('POST', '/v1/api-keys', owner, { name: 'Hostile key' });
  expect(key.status).toBe(201);
  apiKey = key.body.key;
  before = await snapshot();
  busEventsBefore = await busEvents();
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
});

const generated = routeCases(apiRoutes);

async function run(c: HostileCase): Promise<void> {
  const headers = { ...authFor(c.as), ...c.headers };
  const body = typeof c.body === 'string' ? fill(c.body) : c.body;
  expectRefusal(c.name, c.expect, await send(c.method, fill(c.path), headers, body));
}

describe('every route of the table, generated', () => {
  it('covers every route: each one has at least one case', () => {
    for (const route of apiRoutes) {
      const mine = generated.filter((c) => c.name.startsWith(`${route.method} ${route.path}:`));
      const mayHaveNone = !route.body && !route.query && !route.params;
      if (!mayHaveNone) expect(mine.length, `${route.method} ${route.path}`).toBeGreaterThan(0);
    }
    expect(generated.length).toBeGreaterThan(200);
  });

  it.each(generated.filter((c) => c.as !== 'apiKey' && /\{\w+\} is /.test(c.name)))('$name', run);
  it.each(generated.filter((c) => c.as !== 'apiKey' && /: \?/.test(c.name)))('$name', run);
  it.each(generated.filter((c) => c.as !== 'apiKey' && !/\{\w+\} is |: \?/.test(c.name)))('$name', run);
  it.each(generated.filter((c) => c.as === 'apiKey'))('$name', run);
});

describe('the request around the routes, hand-written', () => {
  it.each(requestCases)('$name', run);

  /** The status and JSON error of a raw answer. */
  function refusalOf(raw: string): { status: number; error: { code: string; message: string } } {
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head, raw.slice(0, 300)).toMatch(/content-type: application\/json/i);
    return { status: Number(head.split(' ')[1]), error: (JSON.parse(body) as ErrorBody).error };
  }

  it('a header block over 16 KB: 431 with a JSON error, and the server goes on serving', async () => {
    const head = `GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${owner}\r\nX-Junk: ${'j'.repeat(32 * 1024)}\r\nConnection: close\r\n\r\n`;
    const answer = refusalOf(await sendRaw(Buffer.from(head, 'latin1')));
    expect(answer).toMatchObject({ status: 431, error: { code: 'HEADERS_TOO_LARGE' } });
    expect(answer.error.message).toMatch(/headers/);
    expect((await send('GET', '/v1/users', authFor('owner'))).status).toBe(200);
  });

  it('10,000 headers: 431 with a JSON error', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const head = `GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\nConnection: close\r\n\r\n`;
    expect(refusalOf(await sendRaw(Buffer.from(head, 'latin1')))).toMatchObject({ status: 431, error: { code: 'HEADERS_TOO_LARGE' } });
  });

  it('invalid UTF-8 bytes in the request target: a 4xx with a JSON error, never a 5xx', async () => {
    const head = Buffer.concat([Buffer.from('GET /v1/users/'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${owner}\r\nConnection: close\r\n\r\n`)]);
    const answer = refusalOf(await sendRaw(head));
    expect([400, 404, 405]).toContain(answer.status);
    expect(answer.error.message).toMatch(/\S/);
  });

  it('a request line that is not HTTP: 400 BAD_REQUEST', async () => {
    expect(refusalOf(await sendRaw(Buffer.from('HELLO\r\n\r\n')))).toMatchObject({ status: 400, error: { code: 'BAD_REQUEST' } });
  });

  it('a header value with a control character: 400 BAD_REQUEST', async () => {
    const head = `GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${owner}\r\nX-Bad: a\u0001b\r\nConnection: close\r\n\r\n`;
    expect(refusalOf(await sendRaw(Buffer.from(head, 'latin1')))).toMatchObject({ status: 400, error: { code: 'BAD_REQUEST' } });
  });

  it('a Content-Length that the body does not have (and a negative one): 400 BAD_REQUEST', async () => {
    const negative = `POST /v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n{}`;
    expect(refusalOf(await sendRaw(Buffer.from(negative)))).toMatchObject({ status: 400, error: { code: 'BAD_REQUEST' } });
    const both = `POST /v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`;
    expect(refusalOf(await sendRaw(Buffer.from(both)))).toMatchObject({ status: 400, error: { code: 'BAD_REQUEST' } });
  });
});

describe('pagination cursors this API did not issue for this listing', () => {
  let cursorA: string;
  const cursorCases = () => ({
    foreign: { as: ownerB, path: `/v1/users?limit=1&cursor=${cursorA}` },
    otherListing: { as: owner, path: `/v1/teams?limit=1&cursor=${cursorA}` },
    otherKind: { as: owner, path: `/v1/automations/keywords?limit=1&cursor=${cursorA}` },
  });
  const forge = (edit: (key: Record<string, unknown>) => unknown) => Buffer.from(JSON.stringify(edit(JSON.parse(Buffer.from(cursorA, 'base64url').toString('utf8'))))).toString('base64url');
  const refused = async (bearer: string, path: string) => expectRefusal(path, { status: [400], code: 'VALIDATION_FAILED', where: ['query', 'cursor'] }, await send('GET', path, { authorization: `Bearer ${bearer}` }));

  beforeAll(async () => {
    const first = JSON.parse((await send('GET', '/v1/users?limit=1', authFor('owner'))).text);
    cursorA = first.nextCursor;
    expect(cursorA).toBeTruthy();
  });

  it("account A's cursor works for A (the control)", async () => {
    const answer = await send('GET', `/v1/users?limit=1&cursor=${cursorA}`, authFor('owner'));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).items).toHaveLength(1);
  });

  it("account A's cursor used by account B: 400 on query.cursor", async () => {
    await refused(ownerB, cursorCases().foreign.path);
  });

  it("A's users cursor on A's teams listing: 400", async () => {
    await refused(owner, cursorCases().otherListing.path);
  });

  it("A's users cursor on A's keyword automations: 400", async () => {
    await refused(owner, cursorCases().otherKind.path);
  });

  it("A's cursor with B's partition put in: refused to A; to B it is a key of B's own, and shows B's seats only", async () => {
    const swapped = forge((key) => JSON.parse(JSON.stringify(key).replaceAll(accountId, accountB)));
    await refused(owner, `/v1/users?limit=1&cursor=${swapped}`);
    // Cursors are checked, not signed: a key in B's own partition is one B could have been given; it reads B's items only.
    const answer = await send('GET', `/v1/users?limit=100&cursor=${swapped}`, { authorization: `Bearer ${ownerB}` });
    expect(answer.status).toBe(200);
    for (const user of JSON.parse(answer.text).items as { email: string }[]) expect(user.email).toMatch(/@b\.example\.com$/);
  });

  it('a cursor with an extra attribute, with typed values, truncated: 400', async () => {
    await refused(owner, `/v1/users?limit=1&cursor=${forge((key) => ({ ...key, extra: 'x' }))}`);
    await refused(owner, `/v1/users?limit=1&cursor=${forge((key) => Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }])))}`);
    await refused(owner, `/v1/users?limit=1&cursor=${cursorA.slice(0, -6)}`);
  });
});

describe('the webhook, hand-written', () => {
  async function deliver(c: WebhookCase): Promise<Answer> {
    const bytes = c.body === undefined ? undefined : typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : Buffer.from(c.body);
    const signature = c.signature ?? 'valid';
    const headers: Record<string, string> = { 'content-type': 'application/json', ...c.headers };
    if (signature === 'valid') headers['x-hub-signature-256'] = signatureFor(bytes ?? Buffer.alloc(0), runtime.env.WHATSAPP_APP_SECRET);
    else if (signature !== 'none') headers['x-hub-signature-256'] = signature.value;
    return send(c.method ?? 'POST', '/webhook', headers, bytes);
  }

  it.each(webhookCases)('$name', async (c) => {
    const published = await busEvents();
    const answer = await deliver(c);
    if ('tolerated' in c.expect) {
      expect(answer.status, `${c.name}: ${answer.text.slice(0, 400)}`).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ published: 1, unrouted: 0, invalid: 0 });
      publishedOnPurpose += 1;
      await runtime.bus.drain();
      expect(await busEvents()).toBe(published + 1);
      // Every consumer took it: no dead letter, and the inbox shows the message with a time a Date holds.
      const dead = ((await (await fetch(`${runtime.url}/local/bus/dead-letters`)).json()) as { items: unknown[] }).items;
      expect(JSON.stringify(dead).slice(0, 2000)).toBe('[]');
      const message = JSON.parse(String(c.body)).entry[0].changes[0].value.messages[0] as { from: string; id: string };
      const listed = await send('GET', `/v1/conversations/${TOLERANT_NUMBER.displayPhoneNumber}_${message.from}/messages`, { authorization: `Bearer ${ownerB}` });
      expect(listed.status, listed.text).toBe(200);
      const stored = (JSON.parse(listed.text).items as { wamid: string; timestamp: string }[]).find((m) => m.wamid === message.id);
      expect(stored, listed.text).toBeDefined();
      expect(Number.isFinite(Date.parse(stored!.timestamp)), stored!.timestamp).toBe(true);
      return;
    }
    if ('invalid' in c.expect) {
      expect(answer.status, `${c.name}: ${answer.text.slice(0, 400)}`).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ published: 0, unrouted: 0, invalid: c.expect.invalid });
    } else {
      expectRefusal(c.name, c.expect, answer);
    }
    await runtime.bus.drain();
    expect(await busEvents(), `${c.name}: nothing reaches the bus`).toBe(published);
  });

  it('the verification handshake with a wrong token or mode: 403, no challenge echoed', async () => {
    for (const query of ['hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=abc', 'hub.mode=unsubscribe&hub.challenge=abc', 'hub.challenge=%E0%A4%A', '']) {
      const answer = await send('GET', `/webhook?${query}`);
      expect(answer.status, query).toBe(403);
      expect(answer.text).not.toContain('abc');
    }
  });
});

describe('afterwards', () => {
  it("nothing was stored: every listing of the account answers as before, nothing reached the bus", async () => {
    expect(await snapshot()).toEqual(before);
    await runtime.bus.drain();
    expect(await busEvents()).toBe(busEventsBefore + publishedOnPurpose);
    const dead = ((await (await fetch(`${runtime.url}/local/bus/dead-letters`)).json()) as { items: unknown[] }).items;
    expect(JSON.stringify(dead).slice(0, 3000)).toBe('[]');
  });

  it('no prototype was polluted by a __proto__ or constructor key', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the system works normally: a team is created and listed, a real delivery is published', async () => {
    const created = await send('POST', '/v1/teams', { ...authFor('owner'), 'content-type': 'application/json' }, '{"name": "After the storm"}');
    expect(created.status, created.text).toBe(201);
    const teams = JSON.parse((await send('GET', '/v1/teams?limit=100', authFor('owner'))).text) as { items: { name: string }[] };
    expect(teams.items.map((t) => t.name)).toContain('After the storm');
    const raw = inboundText({ timestamp: String(Math.floor(Date.now() / 1000)), id: 'wamid.HOSTILE_AFTER' });
    const answer = await send('POST', '/webhook', { 'content-type': 'application/json', 'x-hub-signature-256': signatureFor(raw, runtime.env.WHATSAPP_APP_SECRET) }, raw);
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ published: 1, invalid: 0 });
  });
});
