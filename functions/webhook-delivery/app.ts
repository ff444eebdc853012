/**
 * The outgoing-webhook delivery function (docs/outgoing-webhooks.md): one
 * attempt per delivery-queue message (`{accountId, subscriptionId,
 * deliveryId, round, attempt}`), signed and POSTed through the guarded HTTP
 * client, in the one consumer shell (`functions/commons/sqs-consumer.ts`).
 * A failed attempt queues the next one itself (backoff in `DelaySeconds`);
 * a record fails (and SQS receives it again) only when that could not be
 * recorded.
 */
import { webhookDeliveryMessage } from '../../schemas/webhook-subscriptions.js';
import { sqsConsumer } from '../commons/sqs-consumer.js';
import { type WebhookDeliveryDeps, deliverWebhook } from '../core/outgoing-webhooks.js';

export function makeWebhookDeliveryHandler(deps: WebhookDeliveryDeps) {
  return sqsConsumer({
    name: 'webhook-delivery',
    body: webhookDeliveryMessage,
    process: (message) => deliverWebhook(deps, message),
    describe: ({ accountId, subscriptionId, deliveryId, round, attempt }) => ({ accountId, subscriptionId, deliveryId, round, attempt }),
    outcomeLevel: 'info',
  });
}
