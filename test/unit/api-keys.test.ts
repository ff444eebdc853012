/**
 * API keys without a table (`functions/core/api-keys.ts`, `functions/api/auth.ts`):
 * the key's format, its parse and hash; verification against a store in
 * memory (unknown, wrong secret, deleted, valid; `lastUsedAt` written only
 * when a minute old); and the principal the API function reads from either
 * authorizer.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { principalOf } from '../../functions/api/auth.js';
import { awsDeps as authorizerAwsDeps } from '../../functions/authorizer/deps.js';
import { type ApiKeyStore, type StoredApiKey, generateApiKey, hashApiKey, parseApiKey, verifyApiKey } from '../../functions/core/api-keys.js';
import { apiEvent } from '../support/api-events.js';

/** Keys in a map; `touch` follows the store's contract (writes only when `lastUsedAt` is older than `since`). */
class InMemoryKeys implements Pick<ApiKeyStore, 'get' | 'touch'> {
  readonly keys = new Map<string, StoredApiKey>();
  touches = 0;
  async get(keyId: string) {
    const key = this.keys.get(keyId);
    return key ? { ...key } : undefined;
  }
  async touch(keyId: string, at: string, since: string) {
    const key = this.keys.get(keyId);
    if (!key || (key.lastUsedAt !== undefined && key.lastUsedAt >= since)) return false;
    key.lastUsedAt = at;
    this.touches++;
    return true;
  }
}

function stored(accountId = 'acc_test000001') {
  const made = generateApiKey();
  const key: StoredApiKey = { keyId: made.keyId, accountId, name: 'CRM', prefix: made.prefix, keyHash: made.keyHash, createdAt: '2026-01-01T00:00:00.000Z' };
  return { made, key };
}

const at = (iso: string) => ({ now: () => new Date(iso) });

describe('generateApiKey', () => {
  it('makes wak_<8 lowercase letters or digits>_<43 base64url characters>, with id key_<prefix> and its SHA-256', () => {
    const made = generateApiKey();
    expect(made.key).toMatch(/^wak_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    const id = made.key.slice(4, 12);
    expect(made.prefix).toBe(`wak_${id}`);
    expect(made.keyId).toBe(`key_${id}`);
    expect(made.keyHash).toBe(createHash('sha256').update(made.key).digest('hex'));
  });

  it('never makes the same key twice in many draws', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key)).size).toBe(2000);
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(2000);
  });
});

describe('parseApiKey', () => {
  it('reads the id and prefix of a key', () => {
    const made = generateApiKey();
    expect(parseApiKey(made.key)).toEqual({ keyId: made.keyId, prefix: made.prefix });
  });

  it.each([
    ['nothing', undefined],
    ['an empty string', ''],
    ['a JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig'],
    ['another tag', `sk_abcdefgh_${'A'.repeat(43)}`],
    ['an uppercase prefix', `wak_ABCDEFGH_${'A'.repeat(43)}`],
    ['a short secret', `wak_abcdefgh_${'A'.repeat(42)}`],
    ['a long secret', `wak_abcdefgh_${'A'.repeat(44)}`],
    ['a secret with a character outside base64url', `wak_abcdefgh_${'A'.repeat(42)}=`],
  ])('refuses %s', (_, value) => {
    expect(parseApiKey(value)).toBeUndefined();
  });
});

describe('hashApiKey', () => {
  it('is the hex SHA-256 of the key, never the key', () => {
    expect(hashApiKey('wak_abc')).toBe(createHash('sha256').update('wak_abc', 'utf8').digest('hex'));
    expect(hashApiKey('wak_abc')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey('wak_abc')).not.toContain('wak_');
  });
});

describe('verifyApiKey', () => {
  it('answers the account, the admin role, the key id and via apiKey for a key it holds', async () => {
    const store = new InMemoryKeys();
    const { made, key } = stored();
    store.keys.set(key.keyId, key);
    await expect(verifyApiKey({ apiKeys: store, clock: at('2026-01-02T00:00:00Z') }, made.key)).resolves.toEqual({
      accountId: 'acc_test000001',
      role: 'admin',
      keyId: made.keyId,
      via: 'apiKey',
    });
  });

  it('refuses a key it does not hold, a deleted one, and a known id with the wrong secret', async () => {
    const store = new InMemoryKeys();
    const { made, key } = stored();
    store.keys.set(key.keyId, key);
    const deps = { apiKeys: store, clock: at('2026-01-02T00:00:00Z') };
    expect(await verifyApiKey(deps, generateApiKey().key)).toBeUndefined();
    const forged = `${made.prefix}_${'A'.repeat(43)}`;
    expect(await verifyApiKey(deps, forged)).toBeUndefined();
    expect(await verifyApiKey(deps, 'not a key')).toBeUndefined();
    store.keys.delete(key.keyId);
    expect(await verifyApiKey(deps, made.key)).toBeUndefined();
    expect(store.touches).toBe(0);
  });

  it('writes lastUsedAt on the first use and then at most once a minute', async () => {
    const store = new InMemoryKeys();
    const { made, key } = stored();
    store.keys.set(key.keyId, key);
    await verifyApiKey({ apiKeys: store, clock: at('2026-01-02T00:00:00.000Z') }, made.key);
    await verifyApiKey({ apiKeys: store, clock: at('2026-01-02T00:00:30.000Z') }, made.key);
    await verifyApiKey({ apiKeys: store, clock: at('2026-01-02T00:00:59.999Z') }, made.key);
    expect(store.touches).toBe(1);
    expect(store.keys.get(key.keyId)!.lastUsedAt).toBe('2026-01-02T00:00:00.000Z');
    await verifyApiKey({ apiKeys: store, clock: at('2026-01-02T00:01:00.001Z') }, made.key);
    expect(store.touches).toBe(2);
    expect(store.keys.get(key.keyId)!.lastUsedAt).toBe('2026-01-02T00:01:00.001Z');
  });

  it('still authorizes a valid key when recording its use fails, and reports the failure', async () => {
    const store = new InMemoryKeys();
    const { made, key } = stored();
    store.keys.set(key.keyId, key);
    const failures: unknown[] = [];
    const failing = { get: store.get.bind(store), touch: async () => Promise.reject(new Error('throttled')) };
    const context = await verifyApiKey({ apiKeys: failing, clock: at('2026-01-02T00:00:00Z'), onTouchFailed: (e) => failures.push(e) }, made.key);
    expect(context?.keyId).toBe(made.keyId);
    expect(failures).toHaveLength(1);
  });
});

describe('principalOf', () => {
  const withLambdaContext = (context: Record<string, unknown>): APIGatewayProxyEventV2 => {
    const event = apiEvent({ method: 'GET', path: '/api/v1/numbers' });
    (event.requestContext as unknown as { authorizer: unknown }).authorizer = { lambda: context };
    return event;
  };

  it('reads a dashboard token as via jwt', () => {
    expect(principalOf(apiEvent({ method: 'GET', path: '/v1/numbers', as: { role: 'owner', accountId: 'acc_test000001' } }))).toMatchObject({
      role: 'owner',
      accountId: 'acc_test000001',
      via: 'jwt',
    });
  });

  it("reads the API-key authorizer's context as via apiKey, with the key id", () => {
    expect(principalOf(withLambdaContext({ accountId: 'acc_test000001', role: 'admin', keyId: 'key_abcdefgh', via: 'apiKey' }))).toEqual({
      subject: 'apiKey:key_abcdefgh',
      role: 'admin',
      accountId: 'acc_test000001',
      via: 'apiKey',
      keyId: 'key_abcdefgh',
    });
  });

  it('never lets a key act above admin, whatever its context says', () => {
    expect(principalOf(withLambdaContext({ accountId: 'acc_test000001', role: 'support', keyId: 'key_abcdefgh', via: 'apiKey' })).role).toBe('admin');
  });

  it('refuses a context that is not the authorizer\'s shape with 401', () => {
    expect(() => principalOf(withLambdaContext({ accountId: 'acc_test000001', keyId: 'key_abcdefgh' }))).toThrow(expect.objectContaining({ statusCode: 401 }));
  });
});

describe('the authorizer composition root', () => {
  it('fails at cold start naming TABLE_NAME when it is not set', () => {
    expect(() => authorizerAwsDeps({ AWS_REGION: 'us-east-1' })).toThrow(/TABLE_NAME/);
  });
});
