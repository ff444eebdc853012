/**
 * `CachedRouteLookup`: a found route is trusted for the TTL, "not found" for
 * a shorter one, concurrent lookups share a read, failures are not cached.
 */
import { describe, expect, it } from 'vitest';
import { CachedRouteLookup } from '../../functions/adapters/dynamo/route-reader.js';
import type { NumberRoute, NumberRouteLookup } from '../../functions/core/ingestion.js';
import { FIXTURE_ROUTES } from '../support/webhook.js';

class CountingRoutes implements NumberRouteLookup {
  reads = 0;
  fail = false;
  routes: NumberRoute[] = [FIXTURE_ROUTES.default];
  async byPhoneNumberId(id: string) {
    this.reads++;
    if (this.fail) throw new Error('table unavailable');
    return this.routes.find((route) => route.phoneNumberId === id);
  }
  async byWaba(wabaId: string) {
    this.reads++;
    return this.routes.filter((route) => route.wabaId === wabaId);
  }
}

function setup() {
  const inner = new CountingRoutes();
  let now = 0;
  const cache = new CachedRouteLookup(inner, { ttlMs: 60_000, missTtlMs: 5_000, now: () => now });
  return { inner, cache, advance: (ms: number) => (now += ms) };
}

describe('CachedRouteLookup', () => {
  it('reads a found route once within the TTL', async () => {
    const { inner, cache, advance } = setup();
    await cache.byPhoneNumberId('110000000000001');
    advance(59_000);
    expect(await cache.byPhoneNumberId('110000000000001')).toEqual(FIXTURE_ROUTES.default);
    expect(inner.reads).toBe(1);
  });

  it('reads again once the TTL has passed', async () => {
    const { inner, cache, advance } = setup();
    await cache.byPhoneNumberId('110000000000001');
    advance(60_001);
    await cache.byPhoneNumberId('110000000000001');
    expect(inner.reads).toBe(2);
  });

  it('trusts "not found" only briefly, so a newly connected number soon routes', async () => {
    const { inner, cache, advance } = setup();
    expect(await cache.byPhoneNumberId('110000000000002')).toBeUndefined();
    inner.routes.push(FIXTURE_ROUTES.vendas);
    advance(4_000);
    expect(await cache.byPhoneNumberId('110000000000002')).toBeUndefined();
    advance(1_001);
    expect(await cache.byPhoneNumberId('110000000000002')).toEqual(FIXTURE_ROUTES.vendas);
  });

  it('shares one read between concurrent lookups of the same number', async () => {
    const { inner, cache } = setup();
    await Promise.all(Array.from({ length: 20 }, () => cache.byPhoneNumberId('110000000000001')));
    expect(inner.reads).toBe(1);
  });

  it('does not cache a failed read', async () => {
    const { inner, cache } = setup();
    inner.fail = true;
    await expect(cache.byPhoneNumberId('110000000000001')).rejects.toThrow('table unavailable');
    inner.fail = false;
    expect(await cache.byPhoneNumberId('110000000000001')).toEqual(FIXTURE_ROUTES.default);
  });

  it('caches a WABA\'s routes like a number\'s', async () => {
    const { inner, cache } = setup();
    await cache.byWaba('210000000000001');
    expect(await cache.byWaba('210000000000001')).toEqual([FIXTURE_ROUTES.default]);
    expect(inner.reads).toBe(1);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const inner = new CountingRoutes();
    const cache = new CachedRouteLookup(inner, { ttlMs: 60_000, missTtlMs: 60_000, maxEntries: 2, now: () => 0 });
    await cache.byPhoneNumberId('a');
    await cache.byPhoneNumberId('b');
    await cache.byPhoneNumberId('c');
    await cache.byPhoneNumberId('a');
    expect(inner.reads).toBe(4);
  });
});
