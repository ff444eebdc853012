/**
 * The webhook's adapters. `createWebhookDeps` binds them to a table, a bus
 * and the two secrets (the local runtime passes its in-process bus and plain
 * values, tests their doubles); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoChannelStatusWriter } from '../adapters/dynamo/channel-status-writer.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { CachedRouteLookup, DynamoRouteReader } from '../adapters/dynamo/route-reader.js';
import { EventBridgePublisher, createEventBridgeClient } from '../adapters/eventbridge/publisher.js';
import { type WebhookConfig, busConfig, tableConfig, webhookConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { logger, metrics, reportPublishProblem } from '../commons/observability.js';
import { type SecretReader, secretsFromEnv } from '../commons/secrets.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import type { DeliveryDeps } from './delivery.js';

export interface WebhookDeps extends DeliveryDeps {
  /** The token of Meta's verification handshake. */
  verifyToken: SecretReader;
}

export interface WebhookWiring {
  publisher: EventPublisher;
  appSecret: SecretReader;
  verifyToken: SecretReader;
  routeCache: WebhookConfig;
  clock?: Clock;
}

export function createWebhookDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: WebhookWiring): WebhookDeps {
  const { routeCache } = wiring;
  return {
    routes: new CachedRouteLookup(new DynamoRouteReader(doc, tableName), {
      ttlMs: routeCache.ROUTE_CACHE_TTL_SECONDS * 1000,
      missTtlMs: routeCache.ROUTE_CACHE_MISS_TTL_SECONDS * 1000,
    }),
    channelStatus: new DynamoChannelStatusWriter(doc, tableName),
    publisher: wiring.publisher,
    appSecret: wiring.appSecret,
    verifyToken: wiring.verifyToken,
    clock: wiring.clock ?? systemClock,
    logger,
    metrics,
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): WebhookDeps {
  const table = tableConfig(env);
  const bus = busConfig(env);
  const secret = secretsFromEnv(env);
  return createWebhookDeps(createDocumentClient(table), table.tableName, {
    publisher: new EventBridgePublisher(createEventBridgeClient(bus.region), bus.eventBusName, { onProblem: reportPublishProblem }),
    appSecret: secret('WHATSAPP_APP_SECRET'),
    verifyToken: secret('WHATSAPP_VERIFY_TOKEN'),
    routeCache: webhookConfig(env),
  });
}
