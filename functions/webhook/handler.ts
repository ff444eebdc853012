/**
 * Meta's webhook (HTTP API, payload v2, no authorizer).
 * GET: the verification handshake. POST: a delivery (`receiveDelivery`).
 * The same code runs in AWS and locally; only the bus behind
 * `eventPublisher()` differs (EventBridge, or the local runtime's bus).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoChannelStatusWriter } from '../adapters/dynamo/channel-status-writer.js';
import { CachedRouteLookup, DynamoRouteReader } from '../adapters/dynamo/route-reader.js';
import { json } from '../api/http.js';
import { webhookConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { logger, metrics, publishRecordedMetrics } from '../commons/observability.js';
import { eventPublisher } from '../commons/publisher.js';
import { resolveSecret } from '../commons/secrets.js';
import { receiveDelivery } from './delivery.js';
import { answerHandshake } from './verification.js';

const config = webhookConfig();
const doc = createDocumentClient({ tableName: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, region: config.AWS_REGION });
const routes = new CachedRouteLookup(new DynamoRouteReader(doc, config.TABLE_NAME), {
  ttlMs: config.ROUTE_CACHE_TTL_SECONDS * 1000,
  missTtlMs: config.ROUTE_CACHE_MISS_TTL_SECONDS * 1000,
});
const channelStatus = new DynamoChannelStatusWriter(doc, config.TABLE_NAME);

export const handler = middy(async (event: APIGatewayProxyEventV2) => {
  const method = event.requestContext.http.method;
  if (method === 'GET') {
    const result = answerHandshake(event.queryStringParameters ?? {}, await resolveSecret('WHATSAPP_VERIFY_TOKEN'));
    if (!result.ok) return { statusCode: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' };
    return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: result.challenge };
  }
  if (method === 'POST') {
    const appSecret = () => resolveSecret('WHATSAPP_APP_SECRET');
    return receiveDelivery(event, { appSecret, routes, publisher: eventPublisher(), channelStatus, clock: systemClock, logger, metrics });
  }
  return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET (verification) or POST (deliveries).' } }, { allow: 'GET, POST' });
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishRecordedMetrics(metrics));
