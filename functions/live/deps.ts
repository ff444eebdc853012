/**
 * The live function's adapters. `createLiveDeps` binds them to a table (the
 * local runtime uses the access part for its `ws://…/ws`); `awsDeps` is the
 * Lambda's composition root: configuration read and the client made once per
 * container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoLiveConnectionStore } from '../adapters/dynamo/live-connections.js';
import { DynamoTeamStore } from '../adapters/dynamo/team-store.js';
import { tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { LiveAccessDeps, LiveConnectionDeps } from '../core/live-connections.js';
import type { Clock } from '../core/ports.js';

/** What resolving a connection's numbers reads: the seat and its teams. */
export function createLiveAccessDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): LiveAccessDeps {
  return { accounts: new DynamoAccountRepository(doc, tableName, clock), teams: new DynamoTeamStore(doc, tableName) };
}

export function createLiveDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): LiveConnectionDeps {
  return { access: createLiveAccessDeps(doc, tableName, clock), connections: new DynamoLiveConnectionStore(doc, tableName, clock), clock };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): LiveConnectionDeps {
  const table = tableConfig(env);
  return createLiveDeps(createDocumentClient(table), table.tableName);
}
