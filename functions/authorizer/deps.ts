/**
 * The authorizer's adapters. `createAuthorizerDeps` binds the key store to a
 * table (the local runtime passes DynamoDB Local); `awsDeps` is the Lambda's
 * composition root: configuration read and the client made once per
 * container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApiKeyStore } from '../adapters/dynamo/api-key-store.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { logger } from '../commons/observability.js';
import type { ApiKeyVerifyDeps } from '../core/api-keys.js';
import type { Clock } from '../core/ports.js';

export function createAuthorizerDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): ApiKeyVerifyDeps {
  return {
    apiKeys: new DynamoApiKeyStore(doc, tableName, clock),
    clock,
    onTouchFailed: (error) => logger.warn('could not record the API key use', { error: error as Error }),
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): ApiKeyVerifyDeps {
  const table = tableConfig(env);
  return createAuthorizerDeps(createDocumentClient(table), table.tableName);
}
