/**
 * The API application: routes bound to their adapters. The Lambda handler,
 * the local runtime and the tests all build it here, so all three serve the
 * very same code.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoAdapters } from '../adapters/dynamo/index.js';
import { DynamoInboxRepository } from '../adapters/dynamo/inbox-repository.js';
import { createGraphClient } from '../adapters/graph/graph-client.js';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { broadcastConfig } from '../commons/config.js';
import { eventPublisher } from '../commons/publisher.js';
import type { Clock } from '../core/ports.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { type RouterOptions, createRouter } from './router.js';
import { type ApiDeps, apiRoutes } from './routes/index.js';

export function createApiDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): ApiDeps {
  return {
    ...createDynamoAdapters(doc, tableName, clock),
    clock,
    ids: timeOrderedIds,
    inbox: new DynamoInboxRepository(doc, tableName, clock),
    messaging: createGraphClient(),
    templates: new DynamoTemplateRepository(doc, tableName),
    broadcasts: new DynamoBroadcastRepository(doc, tableName, new DynamoQuotaStore(doc, tableName, clock)),
    // Resolved per call: the local runtime injects its bus; in AWS `EVENT_BUS_NAME` names EventBridge's.
    events: { publish: (events) => eventPublisher().publish(events) },
    broadcastSettings: { chunkSize: broadcastConfig().BROADCAST_CHUNK_SIZE },
  };
}

export function createApi(deps: ApiDeps, options: RouterOptions = {}) {
  return createRouter(apiRoutes, deps, options);
}
