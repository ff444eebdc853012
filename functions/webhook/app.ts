/**
 * Meta's webhook (HTTP API, payload v2, no authorizer). GET: the verification
 * handshake (`verification.ts`). POST: a delivery (`delivery.ts`). The Lambda
 * handler and the local runtime build it here with their adapters (EventBridge
 * or the in-process bus, Secrets Manager or plain values).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { json } from '../commons/http.js';
import { logger, publishRecordedMetrics } from '../commons/observability.js';
import type { WebhookDeps } from './deps.js';
import { receiveDelivery } from './delivery.js';
import { answerHandshake } from './verification.js';

const text = (statusCode: number, body: string) => ({ statusCode, headers: { 'content-type': 'text/plain' }, body });

export function makeWebhookHandler(deps: WebhookDeps) {
  return middy(async (event: APIGatewayProxyEventV2) => {
    const method = event.requestContext.http.method;
    if (method === 'GET') {
      const result = answerHandshake(event.queryStringParameters ?? {}, await deps.verifyToken());
      return result.ok ? text(200, result.challenge) : text(403, 'Forbidden');
    }
    if (method === 'POST') return receiveDelivery(event, deps);
    return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Use GET (verification) or POST (deliveries).' } }, { allow: 'GET, POST' });
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics(deps.metrics));
}
