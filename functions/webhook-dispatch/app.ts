/**
 * The outgoing-webhook dispatcher (docs/outgoing-webhooks.md): SQS batches of
 * the public bus events (the `outgoingWebhooks` rule), each turned into one
 * stored delivery per interested subscription of the account, queued on the
 * delivery queue, in the one consumer shell (`functions/commons/sqs-consumer.ts`).
 * It makes no HTTP call: a slow or down subscriber never holds it up.
 */
import { busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { type WebhookDispatchDeps, dispatchWebhookEvent } from '../core/outgoing-webhooks.js';
import { webhookDispatchBody } from './events.js';

export function makeWebhookDispatchHandler(deps: WebhookDispatchDeps) {
  return sqsConsumer({
    name: 'webhook-dispatch',
    body: webhookDispatchBody,
    process: async (event) => (event.kind === 'ignored' ? { outcome: 'ignored' } : dispatchWebhookEvent(deps, { type: event.kind, detail: event.detail })),
    describe: busEventKeys,
  });
}
