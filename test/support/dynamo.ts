import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client.js';
import { ensureTable } from '../../local/dynamodb-local.js';

export interface TestTable {
  endpoint: string;
  tableName: string;
  doc: DynamoDBDocumentClient;
}

/** A fresh table on the run's DynamoDB Local, built from the shared definition. */
export async function createTestTable(prefix: string): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `${prefix}-${randomBytes(4).toString('hex')}`;
  await ensureTable(endpoint, tableName);
  return { endpoint, tableName, doc: createDocumentClient({ tableName, endpoint }) };
}
