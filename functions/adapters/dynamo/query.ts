import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, type PutCommand, QueryCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from './cursor.js';

/**
 * Every page of one partition, optionally narrowed to a sort-key prefix,
 * strongly consistent: for the small, bounded sets an access pattern reads
 * whole (an account's numbers, templates, spend rows; a WABA's routes; a
 * broadcast's counter shards). Paginated listings use cursors instead.
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
        KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
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

/**
 * One page of an account's items on a GSI, newest first: the whole account
 * (`gsi1`) or one of its numbers (`gsi2`), as the ledger and broadcast listings read them.
 */
export async function queryNewestFirst(
  doc: DynamoDBDocumentClient,
  tableName: string,
  index: { name: 'gsi1' | 'gsi2'; pk: string },
  page: { limit: number; cursor?: string },
): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
  const { Items, LastEvaluatedKey } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: `${index.name}pk = :pk`,
      ExpressionAttributeValues: { ':pk': index.pk },
      ScanIndexForward: false,
      Limit: page.limit,
      ExclusiveStartKey: decodeCursor(page.cursor),
    }),
  );
  return { items: Items ?? [], nextCursor: encodeCursor(LastEvaluatedKey) };
}

/** Runs one conditional write: `true` when applied, `false` when its condition said no. */
export async function writeIf(doc: DynamoDBDocumentClient, command: PutCommand | UpdateCommand): Promise<boolean> {
  try {
    await doc.send(command as UpdateCommand);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
