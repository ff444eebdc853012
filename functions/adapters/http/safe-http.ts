/**
 * The guard against server-side request forgery for every URL a customer
 * gives us (webhook subscriptions, integrations), and the one HTTP client
 * allowed to call such a URL.
 *
 * - Scheme: `https:` only, `http:` only where the policy allows it (the local
 *   runtime). No credentials in the URL.
 * - Address: the host is resolved (every address, `lookup(all)`) and each
 *   address is classified; private (10/8, 172.16/12, 192.168/16, 100.64/10,
 *   fc00::/7), loopback (127/8, ::1; allowed only with `allowLoopback`),
 *   link-local (169.254/16, fe80::/10), the instance metadata addresses
 *   (169.254.169.254, fd00:ec2::254), unspecified, multicast, broadcast and
 *   reserved/documentation ranges are refused, also when wrapped in IPv6
 *   (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
 *   If any address of the name is refused, the URL is refused.
 * - Pinning: `safePost` connects to the very address it checked (a custom
 *   `lookup` hands the socket that address), so a DNS answer that changes
 *   between the check and the connect (DNS rebinding) cannot redirect us.
 *   Host header and TLS SNI stay the URL's host name.
 * - Redirects are never followed (a 3xx is a failure), the whole request has
 *   a deadline, and the response body is capped (the request is aborted past
 *   the cap).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { OutboundRequestFailed, UnsafeUrl } from '../../core/errors.js';
import type { WebhookTransport } from '../../core/outgoing-webhook-ports.js';

export { OutboundRequestFailed, UnsafeUrl };

/** One resolved address of a host name. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; injectable so tests can simulate DNS rebinding. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface UrlPolicy {
  /** Allow 127/8 and ::1 (the local runtime only). */
  allowLoopback: boolean;
  /** Allow `http:` (the local runtime only); AWS is `https:` only. */
  allowHttp: boolean;
  /** @default `node:dns/promises` lookup with `all: true` */
  resolve?: HostResolver;
}

export interface SafePostPolicy extends UrlPolicy {
  /** Deadline for the whole request, connect to last byte. @default 10000 */
  timeoutMs?: number;
  /** Response bytes read before the request is aborted. @default 65536 */
  maxResponseBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** What an address is, for the guard. Only `public` (and `loopback` where allowed) may be called. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

const systemResolver: HostResolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Throws `UnsafeUrl` (with a `reason`) unless `url` may be called under `policy`. */
export async function assertSafeUrl(url: string, policy: UrlPolicy): Promise<void> {
  await resolveSafeTarget(url, policy);
}

/**
 * POSTs `body` to `url` through the guard: checks the URL, connects to the
 * checked address, never follows a redirect. Resolves with any non-3xx status
 * (the caller decides what counts as success); throws `UnsafeUrl` for a
 * refused URL and `OutboundRequestFailed` for a timeout, a network error, a
 * redirect or a response over the cap.
 */
export async function safePost(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: SafePostPolicy,
): Promise<{ status: number; body: string }> {
  const target = await resolveSafeTarget(url, policy);
  const timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxResponseBytes = policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const payload = Buffer.from(body, 'utf8');
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const request = target.url.protocol === 'https:' ? https.request : http.request;

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | null, result?: { status: number; body: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve(result!);
    };
    const req = request(
      {
        protocol: target.url.protocol,
        hostname: target.hostname,
        port: target.url.port || undefined,
        path: `${target.url.pathname}${target.url.search}`,
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(payload.length) },
        lookup: pinned,
        // A fresh connection per request: a pooled socket could be one opened to an address checked earlier.
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          req.destroy();
          finish(new OutboundRequestFailed('redirect', `The endpoint answered ${status}; redirects are not followed.`, status));
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxResponseBytes) {
            req.destroy();
            finish(
              new OutboundRequestFailed(
                'response_too_large',
                `The response is larger than ${maxResponseBytes} bytes; the request was aborted.`,
                status,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => finish(null, { status, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => finish(networkFailure(error, status)));
      },
    );
    const deadline = setTimeout(() => {
      req.destroy();
      finish(new OutboundRequestFailed('timeout', `No complete answer within ${timeoutMs} ms.`));
    }, timeoutMs);
    req.on('error', (error) => finish(networkFailure(error, null)));
    req.end(payload);
  });
}

/** The `WebhookTransport` port over the guard: one policy (AWS: https, no loopback; local: both allowed). */
export class SafeHttpTransport implements WebhookTransport {
  constructor(private readonly policy: SafePostPolicy) {}

  check(url: string): Promise<void> {
    return assertSafeUrl(url, this.policy);
  }

  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return safePost(url, body, headers, this.policy);
  }
}

function networkFailure(error: Error, status: number | null): OutboundRequestFailed {
  const code = (error as NodeJS.ErrnoException).code;
  return new OutboundRequestFailed('network', `The request failed: ${code ?? error.message}`, status);
}

interface SafeTarget {
  url: URL;
  /** The host name without IPv6 brackets (Host header and SNI). */
  hostname: string;
  /** The checked address the socket connects to. */
  address: string;
  family: 4 | 6;
}

async function resolveSafeTarget(rawUrl: string, policy: UrlPolicy): Promise<SafeTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UnsafeUrl('invalid_url', 'The URL is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new UnsafeUrl('scheme', policy.allowHttp ? 'Use an http or https URL.' : 'Use an https URL.');
  }
  if (url.username || url.password) throw new UnsafeUrl('credentials', 'The URL must not carry credentials.');
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!hostname) throw new UnsafeUrl('invalid_url', 'The URL has no host.');

  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal) {
    addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolver)(hostname);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new UnsafeUrl('unresolvable', `The host ${hostname} does not resolve.`);
  }
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) continue;
    throw new UnsafeUrl(kind, `The host ${hostname} resolves to a ${kind.replace('_', '-')} address (${address}); only public addresses may be called.`);
  }
  const first = addresses[0]!;
  return { url, hostname, address: first.address, family: first.family };
}

/** Classifies an IPv4 or IPv6 address (an IPv6 address embedding IPv4 is classified by the IPv4 part). */
export function classifyAddress(address: string): AddressClass {
  const kind = isIP(address);
  if (kind === 4) return classifyIpv4(ipv4ToInt(address));
  if (kind === 6) return classifyIpv6(ipv6ToHextets(address));
  return 'reserved';
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const V4_RANGES: readonly [string, number, AddressClass][] = [
  // Most specific first: the metadata address sits inside link-local.
  ['169.254.169.254', 32, 'metadata'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V4_TABLE = V4_RANGES.map(([base, bits, kind]) => ({ base: ipv4ToInt(base), bits, kind }));

function classifyIpv4(n: number): AddressClass {
  for (const { base, bits, kind } of V4_TABLE) {
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return kind;
  }
  return 'public';
}

/** Expands an IPv6 address (with `::` and an optional dotted IPv4 tail) into 8 hextets. */
function ipv6ToHextets(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4ToInt(tail[1]!);
    text = `${text.slice(0, tail.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function classifyIpv6(h: number[]): AddressClass {
  const [a, b, c, d, e, f, g, last] = h as [number, number, number, number, number, number, number, number];
  const embedded = (hi: number, lo: number) => classifyIpv4(hi * 65536 + lo);
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    if (f === 0xffff) return embedded(g, last); // IPv4-mapped ::ffff:a.b.c.d
    if (f === 0 && g === 0 && last === 0) return 'unspecified';
    if (f === 0 && g === 0 && last === 1) return 'loopback';
    return 'reserved'; // IPv4-compatible (deprecated) and the rest of ::/80
  }
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return embedded(g, last); // NAT64
  if (a === 0x2002) return embedded(b, c); // 6to4 carries the IPv4 address in bits 16–47
  if (a === 0xfd00 && b === 0x0ec2 && c === 0 && d === 0 && e === 0 && f === 0 && g === 0 && last === 0x254) return 'metadata';
  if ((a & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((a & 0xffc0) === 0xfe80) return 'link_local'; // fe80::/10
  if ((a & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  if (a === 0x2001 && b === 0x0db8) return 'reserved'; // documentation
  if (a === 0x0100 && b === 0 && c === 0 && d === 0) return 'reserved'; // discard-only 100::/64
  if (a === 0x2001 && b < 0x0200) return 'reserved'; // 2001::/23 IETF protocol assignments (Teredo etc.)
  return 'public';
}
