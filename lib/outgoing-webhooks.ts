import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.js';
import { WEBHOOK_DELIVERY } from './consumers.js';
import { DurableQueue } from './durable-queue.js';
import { QueueConsumer } from './queue-consumer.js';

/** Receives of a delivery message whose handler keeps failing (not the attempts: those are re-enqueued) before the DLQ. */
const DELIVERY_MAX_RECEIVE_COUNT = 5;

/**
 * The delivery queue of outgoing webhooks (docs/outgoing-webhooks.md), in the
 * stateful stack: one message per attempt, delayed with `DelaySeconds`. Its
 * DLQ takes both the messages SQS redrives after `maxReceiveCount` and the
 * deliveries the function dead-letters after their last attempt; the
 * Observability alarm on it fires on either.
 */
export class OutgoingWebhookQueue extends Construct {
  public readonly delivery: DurableQueue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.delivery = new DurableQueue(this, 'Delivery', { consumerTimeout: WEBHOOK_DELIVERY.timeout, maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT });
  }
}

export interface OutgoingWebhookDeliveryProps {
  readonly queue: DurableQueue;
  readonly table: ITableV2;
  /** The master key subscription secrets are derived from (`WEBHOOK_SIGNING_KEY`). */
  readonly signingKey: ISecret;
  /** The dispatcher (the `outgoingWebhooks` consumer of `lib/consumers.ts`): stores deliveries and queues them. */
  readonly dispatcher: AppFunction;
  /** The API: shows a new subscription's secret, queues redeliveries. */
  readonly api: AppFunction;
  /** Attempts per round before a delivery fails. @default 8 */
  readonly maxAttempts?: number;
  /** @default true */
  readonly retainLogs?: boolean;
}

/**
 * The delivery function of outgoing webhooks and its grants, in the
 * stateless stack. It is deliberately not in a VPC (no function here is):
 * it calls customers' URLs on the internet, and the SSRF guard in the code
 * (`functions/adapters/http/safe-http.ts`) is what keeps it off private,
 * link-local and metadata addresses, checked after DNS resolution and
 * pinned for the connection.
 */
export class OutgoingWebhookDelivery extends Construct {
  public readonly consumer: QueueConsumer;

  constructor(scope: Construct, id: string, props: OutgoingWebhookDeliveryProps) {
    super(scope, id);
    this.consumer = new QueueConsumer(this, 'Delivery', {
      handlerDir: WEBHOOK_DELIVERY.handlerDir,
      description: WEBHOOK_DELIVERY.description,
      timeout: WEBHOOK_DELIVERY.timeout,
      batchSize: WEBHOOK_DELIVERY.batchSize,
      queue: props.queue,
      ...(props.retainLogs === undefined ? {} : { retainLogs: props.retainLogs }),
      environment: { WEBHOOK_MAX_ATTEMPTS: String(props.maxAttempts ?? 8) },
    });
    // The next attempt goes back on its own queue; the last failed one to the DLQ.
    this.consumer.handler
      .bindTable(props.table)
      .bindSecret('WEBHOOK_SIGNING_KEY', props.signingKey)
      .bindQueue(props.queue.queue, 'WEBHOOK_DELIVERY_QUEUE_URL')
      .bindQueue(props.queue.dlq, 'WEBHOOK_DELIVERY_DLQ_URL');
    props.dispatcher.bindTable(props.table).bindQueue(props.queue.queue, 'WEBHOOK_DELIVERY_QUEUE_URL');
    props.api.bindSecret('WEBHOOK_SIGNING_KEY', props.signingKey).bindQueue(props.queue.queue, 'WEBHOOK_DELIVERY_QUEUE_URL');
  }
}
