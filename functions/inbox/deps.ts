/**
 * The inbox consumer's adapters. `createInboxConsumerDeps` binds them to a
 * table (the local runtime and tests call it with theirs); `awsDeps` is the
 * Lambda's composition root: configuration read and clients made once per
 * container, at cold start. Every write is pushed to the dashboards
 * (`withLiveUpdates`): the WebSocket API's connections in AWS, the local
 * runtime's hub locally, nowhere when no `live` is given.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { apiGatewayLiveUpdates } from '../adapters/apigw/live-updates.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoLiveConnectionStore } from '../adapters/dynamo/live-connections.js';
import { liveInboxRepository } from '../adapters/dynamo/live-inbox-repository.js';
import { liveUpdatesConfig, tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { reportLiveUpdateFailure } from '../commons/observability.js';
import type { InboxConsumerDeps } from '../core/inbox-ports.js';
import { type LiveUpdates, noLiveUpdates } from '../core/live-updates.js';
import type { Clock } from '../core/ports.js';

export function createInboxConsumerDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock, live: LiveUpdates = noLiveUpdates): InboxConsumerDeps {
  return { inbox: liveInboxRepository(doc, tableName, clock, live, reportLiveUpdateFailure) };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): InboxConsumerDeps {
  const table = tableConfig(env);
  const doc = createDocumentClient(table);
  const { LIVE_UPDATES_ENDPOINT, AWS_REGION } = liveUpdatesConfig(env);
  const live = apiGatewayLiveUpdates(LIVE_UPDATES_ENDPOINT, AWS_REGION, new DynamoLiveConnectionStore(doc, table.tableName, systemClock));
  return createInboxConsumerDeps(doc, table.tableName, systemClock, live);
}
