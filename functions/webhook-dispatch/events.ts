/**
 * What the outgoing-webhook dispatcher reads from one SQS record of its
 * queue: the EventBridge event the `outgoingWebhooks` rule forwarded, its
 * detail parsed as the number context with every other field kept (it is
 * delivered as `data`). The kind is the detail type. Other detail types are
 * `ignored`; a record that does not parse is malformed.
 */
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, webhookEventDetail } from '../../schemas/webhook-subscriptions.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { MalformedRecord } from '../core/backend-failures.js';

export const webhookDispatchBody = busEventBody(
  Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, { kind: type, schema: webhookEventDetail }])) as Record<
    WebhookEventType,
    { kind: WebhookEventType; schema: typeof webhookEventDetail }
  >,
);

export function parseWebhookDispatchRecord(body: string) {
  return parseRecordBody(webhookDispatchBody, body, (message) => new MalformedRecord(message));
}
