/**
 * The API application: routes bound to their adapters, behind the middy
 * chain. The Lambda handler, the local runtime and the tests all build it
 * here, so all three serve the very same code.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { logger } from '../commons/observability.js';
import { type RouterOptions, createRouter } from './router.js';
import { type ApiDeps, apiRoutes } from './routes/index.js';

export { createApiDeps } from './deps.js';

export function createApi(deps: ApiDeps, options: RouterOptions = {}) {
  return createRouter(apiRoutes, deps, options);
}

/** The Lambda's handler: the router does auth, validation, idempotency and error mapping for every route. */
export function makeApiHandler(deps: ApiDeps) {
  const api = createApi(deps, { onUnexpectedError: (error, event) => logger.error('request failed', { path: event.rawPath, error: error as Error }) });
  return middy((event: APIGatewayProxyEventV2) => api(event)).use(injectLambdaContext(logger, { resetKeys: true }));
}
