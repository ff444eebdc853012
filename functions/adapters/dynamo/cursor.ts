/**
 * Opaque pagination cursors: a query's `LastEvaluatedKey`, base64url JSON.
 *
 * A cursor is only ever the last key of the very query it continues, so
 * `startKeyFor` takes one back only when it is exactly such a key: the key
 * attributes of the table (and of the index read), all strings, in the
 * query's partition, an item of the entity listed, belonging to the same
 * account. Anything else (another account's key, a forged or truncated one)
 * is bad input, answered 400 `VALIDATION_FAILED` on `query.cursor`, never
 * passed to DynamoDB.
 */
import { TABLE } from '../../../schemas/table.js';
import { ValidationFailed } from '../../core/errors.js';
import type { Entity, IndexKey } from './entities/entity.js';

/** Any entity, whatever its templates and schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEntity = Entity<string, string, any, any>;

export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

/** What a list query reads: the entity, the table or one of its indexes, the partition and an optional sort-key prefix. */
export interface ListQuery<E extends AnyEntity = AnyEntity> {
  entity: E;
  /** One of the entity's indexes; the table itself when absent. */
  index?: IndexKey<string, string>;
  partition: string;
  /** Table queries only: `begins_with` on the sort key. */
  skPrefix?: string;
}

/** The `ExclusiveStartKey` a cursor names for this query, or `undefined` for the first page. */
export function startKeyFor(cursor: string | undefined, query: ListQuery): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  const key = decode(cursor);
  if (!key || !continues(key, query)) throw notACursor();
  return key;
}

function continues(key: Record<string, unknown>, { entity, index, partition, skPrefix }: ListQuery): boolean {
  const attributes = [TABLE.partitionKey, TABLE.sortKey, ...(index ? [index.attributes.pk, index.attributes.sk] : [])];
  const names = Object.keys(key);
  if (names.length !== attributes.length || !attributes.every((name) => typeof key[name] === 'string')) return false;
  if (key[index ? index.attributes.pk : TABLE.partitionKey] !== partition) return false;
  if (skPrefix !== undefined && !(key[TABLE.sortKey] as string).startsWith(skPrefix)) return false;
  if (index && !index.sk.parse(key[index.attributes.sk])) return false;
  const item = entity.keyParts(key) as Record<string, string> | undefined;
  if (!item) return false;
  // The item's own key names the same account (and number) as the partition read.
  const read = ((index ? index.pk : entity.pk).parse(partition) ?? {}) as Record<string, string>;
  return Object.entries(read).every(([part, value]) => item[part] === undefined || item[part] === value);
}

function decode(cursor: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON: not a cursor
  }
  return undefined;
}

function notACursor(): ValidationFailed {
  return new ValidationFailed([{ path: ['query', 'cursor'], message: 'Not a cursor this API returned.', code: 'invalid_format' }]);
}
