/**
 * The reads the repositories share: a whole (small, bounded) partition, and
 * one page of a listing, whose cursor is always checked (`startKeyFor`).
 */
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { TABLE } from '../../../schemas/table.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { type AnyEntity, type ListQuery, encodeCursor, startKeyFor } from './cursor.js';
import { backoff } from './transact.js';

/**
 * Every page of one partition, optionally narrowed to a sort-key prefix,
 * strongly consistent: for the small, bounded sets an access pattern reads
 * whole (an account's numbers, templates, spend rows; a WABA's routes; a
 * broadcast's counter shards). Paginated listings use `queryPage` instead.
 */
export async function* queryPartition(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  skPrefix?: string,
): AsyncGenerator<Record<string, unknown>[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: skPrefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: skPrefix ? { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey } : { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':prefix': skPrefix } : { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** All items of `queryPartition`, in one array. */
export async function queryAll(doc: DynamoDBDocumentClient, tableName: string, pk: string, skPrefix?: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of queryPartition(doc, tableName, pk, skPrefix)) items.push(...page);
  return items;
}

/** Every item of `keys` that exists, strongly consistent: 100 keys a request, unprocessed keys retried with a backoff. */
export async function batchGetAll(doc: DynamoDBDocumentClient, tableName: string, keys: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 1; pending && pending.length > 0; attempt++) {
      const answer = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(answer.Responses?.[tableName] ?? []));
      pending = answer.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined;
      if (pending?.length) await backoff(attempt, 20, 1000);
    }
  }
  return items;
}

/**
 * A `FilterExpression` on a listing (its own `#f…`/`:f…` names): applied after
 * `Limit`, so a page may hold fewer items than asked (even none) and still
 * have a next cursor.
 */
export interface QueryFilter {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/**
 * One page of a listing, parsed by its entity: on the table (a partition,
 * optionally a sort-key prefix) or on one of the entity's indexes. Index
 * reads are eventually consistent, as GSIs are; nothing decides on a listing.
 */
export async function queryPage<E extends AnyEntity>(
  doc: DynamoDBDocumentClient,
  tableName: string,
  query: ListQuery<E> & { newestFirst?: boolean; filter?: QueryFilter },
  page: PageRequest,
): Promise<Page<z.output<E['schema']>>> {
  const pk = query.index ? query.index.attributes.pk : TABLE.partitionKey;
  const prefixed = !query.index && query.skPrefix !== undefined;
  const { filter } = query;
  const { Items, LastEvaluatedKey } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      ...(query.index ? { IndexName: query.index.indexName } : {}),
      KeyConditionExpression: prefixed ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
      ...(filter ? { FilterExpression: filter.expression } : {}),
      ExpressionAttributeNames: { ...(prefixed ? { '#pk': pk, '#sk': TABLE.sortKey } : { '#pk': pk }), ...filter?.names },
      ExpressionAttributeValues: { ...(prefixed ? { ':pk': query.partition, ':prefix': query.skPrefix } : { ':pk': query.partition }), ...filter?.values },
      ScanIndexForward: !query.newestFirst,
      Limit: page.limit,
      ExclusiveStartKey: startKeyFor(page.cursor, query),
    }),
  );
  return { items: (Items ?? []).map((item) => query.entity.parse(item)), nextCursor: encodeCursor(LastEvaluatedKey) };
}
