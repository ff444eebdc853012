import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

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
