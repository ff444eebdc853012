/**
 * The SSRF guard (`functions/adapters/http/safe-http.ts`): the address
 * classifier over every refused range, the URL rules, and `safePost` against
 * real local servers: loopback allowed only by policy, the connection pinned
 * to the checked address (Host header kept), a redirect refused, a slow
 * server cut at the deadline, a huge answer aborted at the cap.
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostResolver, type UrlPolicy, assertSafeUrl, classifyAddress, safePost } from '../../functions/adapters/http/safe-http.js';
import { OutboundRequestFailed, UnsafeUrl } from '../../functions/core/errors.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.10.10', 'link_local'],
    ['fe80::1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
  ])('classifies IPv6 %s by the IPv4 address it carries (%s)', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

const strict: UrlPolicy = { allowLoopback: false, allowHttp: false };
const local: UrlPolicy = { allowLoopback: true, allowHttp: true };
const resolvingTo = (...addresses: string[]): HostResolver => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function refusal(promise: Promise<unknown>): Promise<UnsafeUrl> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeUrl);
  return error as UnsafeUrl;
}

describe('assertSafeUrl', () => {
  it('accepts https to a public address', async () => {
    await expect(assertSafeUrl('https://hooks.example.com/in', { ...strict, resolve: resolvingTo('93.184.216.34') })).resolves.toBeUndefined();
  });

  it('refuses http unless the policy allows it', async () => {
    expect((await refusal(assertSafeUrl('http://hooks.example.com/in', { ...strict, resolve: resolvingTo('93.184.216.34') }))).reason).toBe('scheme');
    await expect(assertSafeUrl('http://hooks.example.com/in', { ...local, resolve: resolvingTo('93.184.216.34') })).resolves.toBeUndefined();
  });

  it('refuses a name of which any address is private', async () => {
    const error = await refusal(assertSafeUrl('https://mixed.example.com/', { ...strict, resolve: resolvingTo('93.184.216.34', '10.0.0.5') }));
    expect(error.reason).toBe('private');
    expect(error.message).toContain('10.0.0.5');
  });

  it('refuses literal metadata, link-local and mapped loopback addresses', async () => {
    expect((await refusal(assertSafeUrl('https://169.254.169.254/latest/meta-data', strict))).reason).toBe('metadata');
    expect((await refusal(assertSafeUrl('https://[fe80::1]/', strict))).reason).toBe('link_local');
    expect((await refusal(assertSafeUrl('https://[::ffff:127.0.0.1]/', strict))).reason).toBe('loopback');
    // The WHATWG parser reads 2130706433 as 127.0.0.1.
    expect((await refusal(assertSafeUrl('https://2130706433/', strict))).reason).toBe('loopback');
  });

  it('allows loopback only with allowLoopback', async () => {
    expect((await refusal(assertSafeUrl('http://localhost:3000/', { allowLoopback: false, allowHttp: true }))).reason).toBe('loopback');
    await expect(assertSafeUrl('http://localhost:3000/', local)).resolves.toBeUndefined();
  });

  it('refuses credentials in the URL and a name that does not resolve', async () => {
    expect((await refusal(assertSafeUrl('https://user:pw@hooks.example.com/', { ...strict, resolve: resolvingTo('93.184.216.34') }))).reason).toBe('credentials');
    expect((await refusal(assertSafeUrl('https://nowhere.invalid/', { ...strict, resolve: async () => [] }))).reason).toBe('unresolvable');
  });
});

describe('safePost against local servers', () => {
  let server: Server;
  let base: string;
  let port: number;
  const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, body });
        if (req.url === '/redirect') {
          res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
        } else if (req.url === '/slow') {
          // Never answers: the deadline must cut it.
        } else if (req.url === '/huge') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const chunk = 'x'.repeat(16 * 1024);
          for (let i = 0; i < 64; i++) res.write(chunk);
          res.end();
        } else {
          res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'application/json' }).end('{"ok":true}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts to loopback when allowed, and answers the status', async () => {
    const answer = await safePost(`${base}/ok`, '{"a":1}', { 'content-type': 'application/json', 'x-test': 'yes' }, local);
    expect(answer).toEqual({ status: 200, body: '{"ok":true}' });
    const request = seen.at(-1)!;
    expect(request.body).toBe('{"a":1}');
    expect(request.headers['x-test']).toBe('yes');
    expect(request.headers['content-length']).toBe('7');
  });

  it('answers a 500 as a status, not an error', async () => {
    expect((await safePost(`${base}/fail`, '{}', {}, local)).status).toBe(500);
  });

  it('refuses loopback when not allowed, before connecting', async () => {
    const before = seen.length;
    const error = await refusal(safePost(`${base}/ok`, '{}', {}, { allowLoopback: false, allowHttp: true }));
    expect(error.reason).toBe('loopback');
    expect(seen.length).toBe(before);
  });

  it('connects to the checked address, keeping the Host header of the name', async () => {
    await safePost(`http://receiver.test:${port}/pinned`, '{}', {}, { ...local, resolve: resolvingTo('127.0.0.1') });
    const request = seen.at(-1)!;
    expect(request.path).toBe('/pinned');
    expect(request.headers.host).toBe(`receiver.test:${port}`);
  });

  it('never follows a redirect', async () => {
    const error = await safePost(`${base}/redirect`, '{}', {}, local).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundRequestFailed);
    expect((error as OutboundRequestFailed).reason).toBe('redirect');
    expect((error as OutboundRequestFailed).status).toBe(302);
    expect(seen.at(-1)!.path).toBe('/redirect');
  });

  it('cuts a server that does not answer at the deadline', async () => {
    const started = Date.now();
    const error = await safePost(`${base}/slow`, '{}', {}, { ...local, timeoutMs: 300 }).catch((e: unknown) => e);
    expect((error as OutboundRequestFailed).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('aborts a response over the cap', async () => {
    const error = await safePost(`${base}/huge`, '{}', {}, { ...local, maxResponseBytes: 64 * 1024 }).catch((e: unknown) => e);
    expect((error as OutboundRequestFailed).reason).toBe('response_too_large');
    expect((error as OutboundRequestFailed).status).toBe(200);
  });
});
