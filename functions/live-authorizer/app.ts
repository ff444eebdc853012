/**
 * The WebSocket API's Lambda REQUEST authorizer on `$connect`
 * (lib/live-updates.ts): the dashboard's JWT from `?token=` (browsers cannot
 * set headers on a WebSocket; API Gateway reads it as
 * `route.request.querystring.token`), verified as the HTTP API's JWT
 * authorizer does (same issuer and audience), and the account decided
 * (support staff: `?accountId=`). A bad or missing token is `Unauthorized`
 * (API Gateway answers 401); a token naming no account is denied (403). The
 * decision is passed to every route of the connection as the context.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { logger } from '../commons/observability.js';
import { type TokenVerifier, authorizeLive, liveContextOf } from '../core/live-connections.js';

export interface LiveAuthorizerDeps {
  tokens: TokenVerifier;
}

export function makeLiveAuthorizerHandler(deps: LiveAuthorizerDeps) {
  return middy(async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const query = event.queryStringParameters ?? {};
    const decision = await authorizeLive(deps, query.token ?? undefined, query.accountId ?? undefined);
    // API Gateway maps this exact message to 401; a Deny policy is 403.
    if (!decision.ok && decision.why === 'unauthenticated') throw new Error('Unauthorized');
    if (!decision.ok) {
      logger.info('live connection denied', { reason: decision.message });
      return policy('anonymous', 'Deny', event.methodArn);
    }
    return { ...policy(decision.live.subject, 'Allow', event.methodArn), context: liveContextOf(decision.live) };
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

function policy(principalId: string, effect: 'Allow' | 'Deny', resource: string): APIGatewayAuthorizerResult {
  return { principalId, policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] } };
}
