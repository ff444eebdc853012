/**
 * The inbox consumer's adapters. `createInboxConsumerDeps` binds them to a
 * table (the local runtime and tests call it with theirs); `awsDeps` is the
 * Lambda's composition root: configuration read and clients made once per
 * container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoInboxRepository } from '../adapters/dynamo/inbox-repository.js';
import { tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { InboxConsumerDeps } from '../core/inbox-ports.js';
import type { Clock } from '../core/ports.js';

export function createInboxConsumerDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): InboxConsumerDeps {
  return { inbox: new DynamoInboxRepository(doc, tableName, clock) };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): InboxConsumerDeps {
  const table = tableConfig(env);
  return createInboxConsumerDeps(createDocumentClient(table), table.tableName);
}
