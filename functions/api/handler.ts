/**
 * Dashboard API Lambda (HTTP API, payload v2). Thin: clients and config once
 * per container, then the router does auth, validation, idempotency and error
 * mapping for every route.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { dynamoConfig } from '../commons/config.js';
import { logger } from '../commons/observability.js';
import { createApi, createApiDeps } from './app.js';

const config = dynamoConfig();
const api = createApi(
  createApiDeps(createDocumentClient({ tableName: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, region: config.AWS_REGION }), config.TABLE_NAME),
  { onUnexpectedError: (error, event) => logger.error('request failed', { path: event.rawPath, error: error as Error }) },
);

export const handler = middy((event: APIGatewayProxyEventV2) => api(event)).use(injectLambdaContext(logger, { resetKeys: true }));
