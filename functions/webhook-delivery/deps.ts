/**
 * The outgoing-webhook delivery function's adapters.
 * `createWebhookDeliveryDeps` binds them to a table, a queue, a transport and
 * a signing key (the local runtime passes its in-process queue and a guard
 * that allows loopback and http); `awsDeps` is the Lambda's composition
 * root: https only, no loopback, the signing key from Secrets Manager.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoWebhookSubscriptionStore } from '../adapters/dynamo/webhook-subscription-store.js';
import { SafeHttpTransport } from '../adapters/http/safe-http.js';
import { createSqsClient } from '../adapters/sqs/send-queue.js';
import { SqsWebhookDeliveryQueue } from '../adapters/sqs/webhook-delivery-queue.js';
import { type WebhookDeliveryConfig, tableConfig, webhookDeliveryConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { secretsFromEnv } from '../commons/secrets.js';
import { InvalidConfiguration } from '../core/backend-failures.js';
import type { WebhookDeadLetters, WebhookDeliveryQueue, WebhookDeliverySettings, WebhookTransport } from '../core/outgoing-webhook-ports.js';
import type { WebhookDeliveryDeps } from '../core/outgoing-webhooks.js';
import type { Clock } from '../core/ports.js';

export interface WebhookDeliveryWiring {
  queue: WebhookDeliveryQueue & WebhookDeadLetters;
  transport: WebhookTransport;
  signingKey: () => Promise<string>;
  settings: WebhookDeliverySettings;
  clock?: Clock;
  random?: () => number;
}

export function deliverySettingsOf(config: WebhookDeliveryConfig): WebhookDeliverySettings {
  return {
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: config.WEBHOOK_RETRY_MAX_MS,
    claimLeaseMs: config.WEBHOOK_CLAIM_LEASE_MS,
  };
}

export function createWebhookDeliveryDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: WebhookDeliveryWiring): WebhookDeliveryDeps {
  const store = new DynamoWebhookSubscriptionStore(doc, tableName);
  return {
    webhookSubscriptions: store,
    webhookDeliveries: store,
    webhookQueue: wiring.queue,
    deadLetters: wiring.queue,
    webhookTransport: wiring.transport,
    webhookSigningKey: wiring.signingKey,
    settings: wiring.settings,
    clock: wiring.clock ?? systemClock,
    ...(wiring.random ? { random: wiring.random } : {}),
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): WebhookDeliveryDeps {
  const table = tableConfig(env);
  const config = webhookDeliveryConfig(env);
  if (!config.WEBHOOK_DELIVERY_QUEUE_URL) throw new InvalidConfiguration('Invalid configuration: WEBHOOK_DELIVERY_QUEUE_URL is not set');
  if (!config.WEBHOOK_DELIVERY_DLQ_URL) throw new InvalidConfiguration('Invalid configuration: WEBHOOK_DELIVERY_DLQ_URL is not set');
  return createWebhookDeliveryDeps(createDocumentClient(table), table.tableName, {
    queue: new SqsWebhookDeliveryQueue(createSqsClient(config.AWS_REGION), config.WEBHOOK_DELIVERY_QUEUE_URL, config.WEBHOOK_DELIVERY_DLQ_URL),
    // In AWS: https only, never loopback (docs/outgoing-webhooks.md, "The guard").
    transport: new SafeHttpTransport({ allowHttp: false, allowLoopback: false }),
    signingKey: secretsFromEnv(env)('WEBHOOK_SIGNING_KEY'),
    settings: deliverySettingsOf(config),
  });
}
