/**
 * The outgoing-webhook delivery queue on SQS (docs/outgoing-webhooks.md): one
 * message per attempt, delayed by the backoff with `DelaySeconds` (rounded
 * up, at most 900 s: `delaySeconds`). Dead letters go to the queue's own DLQ
 * with their reason as a message attribute, beside the records SQS redrives
 * there after `maxReceiveCount`; the DLQ alarm fires on either. A failed send
 * rejects, so the record that asked for it is retried.
 */
import { type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { WebhookDeliveryMessage } from '../../../schemas/webhook-subscriptions.js';
import { InvalidConfiguration } from '../../core/backend-failures.js';
import type { WebhookDeadLetters, WebhookDeliveryQueue } from '../../core/outgoing-webhook-ports.js';
import { delaySeconds } from './turn-queue.js';

export class SqsWebhookDeliveryQueue implements WebhookDeliveryQueue, WebhookDeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** The DLQ's URL; only the delivery function dead-letters. */
    private readonly deadLetterQueueUrl?: string,
  ) {}

  async enqueue(message: WebhookDeliveryMessage, delayMs: number): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, DelaySeconds: delaySeconds(delayMs), MessageBody: JSON.stringify(message) }));
  }

  async deadLetter(message: WebhookDeliveryMessage, reason: string): Promise<void> {
    if (!this.deadLetterQueueUrl) throw new InvalidConfiguration('Invalid configuration: WEBHOOK_DELIVERY_DLQ_URL is not set');
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 256) } },
      }),
    );
  }
}
