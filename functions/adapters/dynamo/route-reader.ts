/**
 * The webhook's route lookups (`NumberRouteLookup`) on the table's route rows
 * (written by the numbers feature, read-only here), and a per-container cache
 * in front of them: one delivery of hundreds of items names a few numbers, and
 * Meta sends many deliveries a second, all for the same numbers.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { MalformedItem } from '../../core/backend-failures.js';
import type { NumberRoute, NumberRouteLookup } from '../../core/ingestion.js';
// The webhook's bundle: the route entities alone, not every item type.
import { phoneNumberIdRoute, wabaRoute } from './entities/numbers.js';
import { queryAll } from './query.js';

/** A route row as the numbers feature writes it. A row that does not match is a bug worth a 5xx and a retry, not a silent drop. */
function toRoute(item: Record<string, unknown>): NumberRoute {
  const parsed = phoneNumberIdRoute.schema.safeParse(item);
  if (!parsed.success) throw new MalformedItem(`route row ${String(item.pk)}/${String(item.sk)}`, parsed.error.message);
  return parsed.data;
}

export class DynamoRouteReader implements NumberRouteLookup {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async byPhoneNumberId(phoneNumberId: string): Promise<NumberRoute | undefined> {
    // Strongly consistent: a number connected a moment ago must route on its first message.
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: phoneNumberIdRoute.key({ phoneNumberId }), ConsistentRead: true }),
    );
    return Item ? toRoute(Item) : undefined;
  }

  async byWaba(wabaId: string): Promise<NumberRoute[]> {
    return (await queryAll(this.doc, this.tableName, wabaRoute.partition({ wabaId }), wabaRoute.skPrefix())).map(toRoute);
  }
}

export interface RouteCacheOptions {
  /** How long a found route is trusted. */
  ttlMs: number;
  /** How long "not found" is trusted: short, so a newly connected number routes soon. */
  missTtlMs: number;
  /** Entries kept per kind; the oldest go first. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry<T> {
  expiresAt: number;
  value: Promise<T>;
}

/**
 * Caches lookups per container. Concurrent lookups of the same key share one
 * read; a failed read is not cached. Trade-off: a number removed or moved to
 * another account keeps its old route for up to `ttlMs`.
 */
export class CachedRouteLookup implements NumberRouteLookup {
  private readonly byPnid = new Map<string, CacheEntry<NumberRoute | undefined>>();
  private readonly byWabaId = new Map<string, CacheEntry<NumberRoute[]>>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly inner: NumberRouteLookup,
    private readonly options: RouteCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 1_000;
  }

  byPhoneNumberId(phoneNumberId: string): Promise<NumberRoute | undefined> {
    return this.cached(this.byPnid, phoneNumberId, () => this.inner.byPhoneNumberId(phoneNumberId), (route) => route !== undefined);
  }

  byWaba(wabaId: string): Promise<NumberRoute[]> {
    return this.cached(this.byWabaId, wabaId, () => this.inner.byWaba(wabaId), (routes) => routes.length > 0);
  }

  /** Forgets everything (tests; the local runtime after it rewires numbers). */
  clear(): void {
    this.byPnid.clear();
    this.byWabaId.clear();
  }

  private cached<T>(cache: Map<string, CacheEntry<T>>, key: string, load: () => Promise<T>, found: (value: T) => boolean): Promise<T> {
    const now = this.now();
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    cache.delete(key);
    const entry: CacheEntry<T> = { expiresAt: Number.POSITIVE_INFINITY, value: load() };
    cache.set(key, entry);
    if (cache.size > this.maxEntries) cache.delete(cache.keys().next().value as string);
    entry.value.then(
      (value) => {
        entry.expiresAt = now + (found(value) ? this.options.ttlMs : this.options.missTtlMs);
      },
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return entry.value;
  }
}
