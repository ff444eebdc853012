/**
 * Pure builders of the messaging limit's transaction parts (docs/quotas.md,
 * "Portfolio messaging limit"): units taken from the portfolio under their
 * guard, counted in the round's hourly bucket, moved between buckets for users
 * reached again, and released with their bucket. No I/O: the store composes
 * them with the round's reservation (`messaging-limit-store.ts`).
 */
import type { CapacityGuard } from '../../core/messaging-limit.js';
import { CapacityChanged, ReachedCellChanged } from '../../core/backend-failures.js';
import { InternalError } from '../../core/errors.js';
import { BUCKET_NUMBER_PREFIX, NUMBER_USED_PREFIX, limitBucket, portfolioLimit } from './entities/index.js';
import type { TxPart } from './transact.js';

type Counts = Record<string, number>;

/** The `#name = #name ± :value` terms of per-number attributes (`u_{phno}`, `n_{phno}`), aliased. */
function perNumber(prefix: string, counts: Counts, tag: string) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const aliases: { name: string; value: string }[] = [];
  Object.entries(counts)
    .filter(([, n]) => n !== 0)
    .forEach(([phno, n], i) => {
      names[`#${tag}${i}`] = `${prefix}${phno}`;
      values[`:${tag}${i}`] = n;
      aliases.push({ name: `#${tag}${i}`, value: `:${tag}${i}` });
    });
  return { names, values, aliases };
}

/**
 * Takes `units` of the portfolio for `owner`: `used` and the owner's part go
 * up, only if the tier and the shares are what the decision read and the
 * precomputed bounds hold (conditions cannot add; the caller passes
 * `limit − units − reserved by others`, `cap − units`, and the others' parts
 * as read).
 */
export function portfolioTake(tableName: string, key: { accountId: string; portfolioId: string }, owner: string, units: number, guard: CapacityGuard, at: string): TxPart {
  if (!Number.isSafeInteger(units) || units <= 0) throw new InternalError('Units taken must be a positive integer');
  const others = perNumber(NUMBER_USED_PREFIX, guard.othersAtLeast, 'o');
  const names: Record<string, string> = { '#tier': 'tier', '#owner': `${NUMBER_USED_PREFIX}${owner}`, ...others.names };
  const values: Record<string, unknown> = { ':k': units, ':zero': 0, ':tier': guard.tier, ':sv': guard.sharesVersion, ':at': at, ...others.values };
  const conditions = ['#tier = :tier', 'sharesVersion = :sv'];
  if (guard.usedAtMost !== undefined) {
    conditions.push('used <= :usedAtMost');
    values[':usedAtMost'] = guard.usedAtMost;
  }
  if (guard.numberAtMost !== undefined) {
    conditions.push('(attribute_not_exists(#owner) OR #owner <= :ownerAtMost)');
    values[':ownerAtMost'] = guard.numberAtMost;
  }
  for (const { name, value } of others.aliases) conditions.push(`${name} >= ${value}`);
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: portfolioLimit.key(key),
        UpdateExpression: 'SET used = used + :k, #owner = if_not_exists(#owner, :zero) + :k, updatedAt = :at',
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    },
    onConditionFailed: () => new CapacityChanged(),
  };
}

/** Counts units in the round's bucket (created by its first units), per number they belong to. */
export function bucketAdd(tableName: string, key: { accountId: string; portfolioId: string; hour: string }, releaseAt: string, byOwner: Counts): TxPart {
  const total = Object.values(byOwner).reduce((sum, n) => sum + n, 0);
  const owners = perNumber(BUCKET_NUMBER_PREFIX, byOwner, 'n');
  const sets = owners.aliases.map(({ name, value }) => `${name} = if_not_exists(${name}, :zero) + ${value}`);
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: limitBucket.key(key),
        UpdateExpression: [
          'SET #count = if_not_exists(#count, :zero) + :total',
          ...sets,
          '#type = :type, portfolioId = :p, #hour = :h, releaseAt = :r, released = if_not_exists(released, :false)',
        ].join(', '),
        ConditionExpression: 'attribute_not_exists(released) OR released = :false',
        ExpressionAttributeNames: { '#count': 'count', '#hour': 'hour', '#type': 'type', ...owners.names },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':total': total,
          ':type': limitBucket.type,
          ':p': key.portfolioId,
          ':h': key.hour,
          ':r': releaseAt,
          ':false': false,
          ...owners.values,
        },
      },
    },
    onConditionFailed: () => new CapacityChanged(),
  };
}

/** Takes units out of an older bucket (users reached again: their units move to the round's bucket), never below zero. */
export function bucketMoveOut(tableName: string, key: { accountId: string; portfolioId: string; hour: string }, byOwner: Counts): TxPart {
  const total = Object.values(byOwner).reduce((sum, n) => sum + n, 0);
  const owners = perNumber(BUCKET_NUMBER_PREFIX, byOwner, 'n');
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: limitBucket.key(key),
        UpdateExpression: `SET #count = #count - :total, ${owners.aliases.map(({ name, value }) => `${name} = ${name} - ${value}`).join(', ')}`,
        ConditionExpression: ['released = :false', ...owners.aliases.map(({ name, value }) => `${name} >= ${value}`)].join(' AND '),
        ExpressionAttributeNames: { '#count': 'count', ...owners.names },
        ExpressionAttributeValues: { ':total': total, ':false': false, ...owners.values },
      },
    },
    onConditionFailed: () => new ReachedCellChanged(key.hour),
  };
}

/** Marks a due bucket released (then deleted by TTL), only if its count is still what was read. */
export function bucketRelease(tableName: string, key: { accountId: string; portfolioId: string; hour: string }, count: number, expiresAt: number, onChanged: () => Error): TxPart {
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: limitBucket.key(key),
        UpdateExpression: 'SET released = :true, expiresAt = :ttl',
        ConditionExpression: 'released = :false AND #count = :count',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':true': true, ':false': false, ':ttl': expiresAt, ':count': count },
      },
    },
    onConditionFailed: onChanged,
  };
}

/** The released units leave the portfolio's count, and each number's part. */
export function portfolioRelease(tableName: string, key: { accountId: string; portfolioId: string }, count: number, byOwner: Counts, at: string): TxPart {
  const owners = perNumber(NUMBER_USED_PREFIX, byOwner, 'u');
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: portfolioLimit.key(key),
        UpdateExpression: ['SET used = used - :count, updatedAt = :at', ...owners.aliases.map(({ name, value }) => `${name} = ${name} - ${value}`)].join(', '),
        ConditionExpression: 'attribute_exists(used)',
        ...(Object.keys(owners.names).length ? { ExpressionAttributeNames: owners.names } : {}),
        ExpressionAttributeValues: { ':count': count, ':at': at, ...owners.values },
      },
    },
    onConditionFailed: () => new InternalError('A bucket was released from a portfolio that does not exist'),
  };
}

/** The per-number counts of an item's `{prefix}{phno}` attributes. */
export function countsOf(item: Record<string, unknown>, prefix: string): Counts {
  const counts: Counts = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(prefix) && typeof value === 'number' && value !== 0) counts[name.slice(prefix.length)] = value;
  }
  return counts;
}
