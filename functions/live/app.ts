/**
 * The WebSocket API's routes (lib/live-updates.ts): `$connect` stores the
 * connection with the scope its caller may see (the authorizer verified the
 * token and decided the account), `$disconnect` forgets it, `$default` (any
 * message a client sends, e.g. `{"type":"ping"}`) is answered with the
 * connection's scope (`{type: "connected", …}`: API Gateway cannot send
 * anything during `$connect`). Pushes are not sent from here: the consumers
 * and the API post them (`functions/adapters/apigw/live-updates.ts`).
 *
 * `makeLiveSubscribe` is the same connect decision for the local runtime's
 * `ws://…/ws`, which keeps its sockets in memory.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { logger } from '../commons/observability.js';
import { AppError } from '../core/errors.js';
import {
  type LiveAccessDeps,
  type LiveConnectionDeps,
  type LiveConnectRequest,
  type LiveSubscriber,
  closeConnection,
  connectedMessageOf,
  describeConnection,
  liveCallerOf,
  liveCallerOfContext,
  openConnection,
  subscriberOf,
} from '../core/live-connections.js';

type WebsocketEvent = APIGatewayProxyWebsocketEventV2 & { requestContext: { authorizer?: Record<string, unknown> } };

export function makeLiveHandler(deps: LiveConnectionDeps) {
  return middy(async (event: WebsocketEvent): Promise<APIGatewayProxyResultV2> => {
    const { routeKey, connectionId } = event.requestContext;
    const live = liveCallerOfContext(event.requestContext.authorizer);
    try {
      switch (routeKey) {
        case '$connect': {
          if (!live) return { statusCode: 401, body: 'Unauthorized' };
          const connection = await openConnection(deps, connectionId, live);
          logger.info('live connection opened', { accountId: connection.accountId, role: connection.role, all: connection.access.all });
          return { statusCode: 200 };
        }
        case '$disconnect':
          // Without the context (never seen) the item goes by its TTL, or at the first push answered 410.
          if (live) await closeConnection(deps, live.accountId, connectionId);
          return { statusCode: 200 };
        default: {
          if (!live) return { statusCode: 401, body: 'Unauthorized' };
          return { statusCode: 200, body: JSON.stringify(await describeConnection(deps, live.accountId, connectionId)) };
        }
      }
    } catch (error) {
      if (error instanceof AppError && error.expose) return { statusCode: error.statusCode, body: JSON.stringify({ error: { code: error.code, message: error.message } }) };
      logger.error('live route failed', { routeKey, error: error as Error });
      return { statusCode: 500, body: JSON.stringify({ error: { code: 'INTERNAL', message: 'Internal error.' } }) };
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/**
 * The local runtime's connect: verified claims (and a support caller's
 * `?accountId=`) to a subscriber and its first message; throws `Forbidden`
 * (403) when the claims name no account.
 */
export function makeLiveSubscribe(deps: LiveAccessDeps) {
  return async (request: LiveConnectRequest): Promise<{ subscriber: LiveSubscriber; connected: string }> => {
    const subscriber = await subscriberOf(deps, liveCallerOf(request));
    return { subscriber, connected: JSON.stringify(connectedMessageOf(subscriber)) };
  };
}
