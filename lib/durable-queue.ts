import { Duration, Validations } from 'aws-cdk-lib';
import { type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventPattern as SharedPattern } from '../schemas/routes.js';

export interface DurableQueueProps {
  /** Timeout of the function that consumes the queue; visibility is 6× it, as AWS advises for SQS event sources. */
  readonly consumerTimeout: Duration;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** Feed the queue from the bus with a rule on this shared pattern (`schemas/routes.ts`). */
  readonly subscribe?: { readonly bus: IEventBus; readonly pattern: SharedPattern; readonly description: string };
}

/**
 * An SQS queue with its dead-letter queue: SQS-managed encryption, TLS only,
 * 14 days of DLQ retention so a weekend's failures are still there to redrive;
 * optionally fed by an EventBridge rule whose target has its own retry policy
 * and a second DLQ (events the bus could not deliver to the queue at all).
 */
export class DurableQueue extends Construct {
  public readonly queue: Queue;
  public readonly dlq: Queue;
  /** Where an EventBridge rule puts events it failed to deliver to `queue`. */
  public readonly targetDlq: Queue;
  public readonly rule?: Rule;

  constructor(scope: Construct, id: string, props: DurableQueueProps) {
    super(scope, id);
    const secure = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true };
    this.dlq = new Queue(this, 'Dlq', { ...secure, retentionPeriod: Duration.days(14) });
    this.targetDlq = new Queue(this, 'TargetDlq', { ...secure, retentionPeriod: Duration.days(14) });
    for (const dlq of [this.dlq, this.targetDlq]) {
      Validations.of(dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue; alarms fire when it holds anything.' });
    }
    this.queue = new Queue(this, 'Queue', {
      ...secure,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    if (props.subscribe) {
      // The rule lives beside its queue: the queue policy names the rule, so both belong to one stack.
      this.rule = new Rule(this, 'Rule', {
        eventBus: props.subscribe.bus,
        description: `${props.subscribe.description} (pattern from schemas/routes.ts)`,
        // EventBridge's pattern language as written in schemas/routes.ts (`detail-type`, `$or`): CDK passes it through.
        eventPattern: props.subscribe.pattern as unknown as EventPattern,
        targets: [new SqsQueue(this.queue, { deadLetterQueue: this.targetDlq, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
      });
    }
  }
}
