/**
 * The API application: routes bound to their adapters. The Lambda handler,
 * the local runtime and the tests all build it here, so all three serve the
 * very same code.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoAdapters } from '../adapters/dynamo/index.js';
import type { Clock } from '../core/ports.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { type RouterOptions, createRouter } from './router.js';
import { type ApiDeps, apiRoutes } from './routes/index.js';

export function createApiDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): ApiDeps {
  return { ...createDynamoAdapters(doc, tableName, clock), clock, ids: timeOrderedIds };
}

export function createApi(deps: ApiDeps, options: RouterOptions = {}) {
  return createRouter(apiRoutes, deps, options);
}
