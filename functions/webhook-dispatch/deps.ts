/**
 * The outgoing-webhook dispatcher's adapters. `createWebhookDispatchDeps`
 * binds them to a table and a delivery queue (the local runtime passes its
 * in-process queue); `awsDeps` is the Lambda's composition root.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoNumberRepository } from '../adapters/dynamo/number-repository.js';
import { DynamoWebhookSubscriptionStore } from '../adapters/dynamo/webhook-subscription-store.js';
import { createSqsClient } from '../adapters/sqs/send-queue.js';
import { SqsWebhookDeliveryQueue } from '../adapters/sqs/webhook-delivery-queue.js';
import { InvalidConfiguration } from '../core/backend-failures.js';
import { tableConfig, webhookDeliveryConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { WebhookDeliveryQueue } from '../core/outgoing-webhook-ports.js';
import type { WebhookDispatchDeps } from '../core/outgoing-webhooks.js';
import type { Clock } from '../core/ports.js';

export function createWebhookDispatchDeps(doc: DynamoDBDocumentClient, tableName: string, options: { queue: WebhookDeliveryQueue; clock?: Clock }): WebhookDispatchDeps {
  const clock = options.clock ?? systemClock;
  const store = new DynamoWebhookSubscriptionStore(doc, tableName);
  return { webhookSubscriptions: store, webhookDeliveries: store, webhookQueue: options.queue, numbers: new DynamoNumberRepository(doc, tableName, clock), clock };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): WebhookDispatchDeps {
  const table = tableConfig(env);
  const webhooks = webhookDeliveryConfig(env);
  if (!webhooks.WEBHOOK_DELIVERY_QUEUE_URL) throw new InvalidConfiguration('Invalid configuration: WEBHOOK_DELIVERY_QUEUE_URL is not set');
  return createWebhookDispatchDeps(createDocumentClient(table), table.tableName, {
    queue: new SqsWebhookDeliveryQueue(createSqsClient(webhooks.AWS_REGION), webhooks.WEBHOOK_DELIVERY_QUEUE_URL),
  });
}
