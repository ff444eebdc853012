/**
 * Meta's webhook (HTTP API, payload v2, no authorizer).
 * GET: the verification handshake. POST: deliveries (the ingestion issue).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { logger } from '../commons/observability.js';
import { resolveSecret } from '../commons/secrets.js';
import { json } from '../api/http.js';
import { answerHandshake } from './verification.js';

export const handler = middy(async (event: APIGatewayProxyEventV2) => {
  if (event.requestContext.http.method === 'GET') {
    const result = answerHandshake(event.queryStringParameters ?? {}, await resolveSecret('WHATSAPP_VERIFY_TOKEN'));
    if (!result.ok) return { statusCode: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' };
    return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: result.challenge };
  }
  return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'Deliveries are not accepted yet.' } });
}).use(injectLambdaContext(logger, { resetKeys: true }));
