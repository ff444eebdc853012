import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { AppFunction, type AppFunctionProps } from './app-function.js';
import type { DurableQueue } from './durable-queue.js';

export interface QueueConsumerProps extends AppFunctionProps {
  readonly queue: DurableQueue;
  /** @default 10 */
  readonly batchSize?: number;
}

/**
 * A function fed by an SQS queue that reports partial batch failures, so one
 * bad record never retries a whole batch (the queue's redrive policy moves a
 * record that keeps failing to its DLQ).
 */
export class QueueConsumer extends Construct {
  public readonly handler: AppFunction;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    this.handler = new AppFunction(this, 'Handler', props);
    this.handler.fn.addEventSource(
      new SqsEventSource(props.queue.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        ...(props.batchSize === 1 ? {} : { maxBatchingWindow: Duration.seconds(1) }),
      }),
    );
  }
}
