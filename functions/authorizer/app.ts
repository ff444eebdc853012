/**
 * The HTTP API's Lambda REQUEST authorizer for `/api/v1/{proxy+}`
 * (docs/architecture.md, "Auth model"): simple responses, the key read
 * from `x-api-key`. An authorized request carries `{accountId, role, keyId,
 * via: 'apiKey'}` to the API function as `requestContext.authorizer.lambda`;
 * anything else is denied (API Gateway answers 403). The local runtime runs
 * this same handler in front of its `/api/v1/…` requests.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { API_KEY_HEADER, type ApiKeyAuthorizerContext } from '../../schemas/api-keys.js';
import { logger } from '../commons/observability.js';
import { type ApiKeyVerifyDeps, verifyApiKey } from '../core/api-keys.js';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<ApiKeyAuthorizerContext | Record<string, never>>;

export function makeAuthorizerHandler(deps: ApiKeyVerifyDeps) {
  return middy(async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerResult> => {
    const context = await verifyApiKey(deps, event.headers?.[API_KEY_HEADER]);
    return context ? { isAuthorized: true, context } : { isAuthorized: false, context: {} };
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}
