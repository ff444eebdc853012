import { randomBytes } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
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
  await engineReady(endpoint);
  const tableName = `${prefix}-${randomBytes(4).toString('hex')}`;
  await ensureTable(endpoint, tableName);
  return { endpoint, tableName, doc: createDocumentClient({ tableName, endpoint }) };
}

let ready: Promise<void> | undefined;

/** The global setup does not wait for the engine to start: the first table of a file does. */
function engineReady(endpoint: string): Promise<void> {
  ready ??= (async () => {
    // One attempt a probe: the loop is the retry.
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const deadline = Date.now() + 60_000;
    try {
      for (;;) {
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }));
          return;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      client.destroy();
    }
  })();
  return ready;
}
