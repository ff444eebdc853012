import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OneTimeSchedules } from './schedule-group.js';

export interface DeferredSendsProps {
  /** Where a deferred round goes when it is due: the broadcast send queue. */
  readonly sendQueue: IQueue;
  /** e.g. `whatsapp-dev`: names the schedule group. */
  readonly prefix: string;
  /** Keep the group (and its pending schedules) when the stack goes. */
  readonly retain: boolean;
}

/**
 * Deferred broadcast rounds (docs/quotas.md, "Portfolio messaging limit"):
 * the sender creates one EventBridge Scheduler one-time schedule per chunk
 * round the messaging limit deferred, in this group; when due the scheduler
 * sends the round's chunk message to the send queue, assuming this role.
 * What it cannot deliver after its retries goes to the dead-letter queue.
 * Pending schedules are state: the group lives in the stateful stack.
 * The group, role and DLQ are built by `OneTimeSchedules` (`lib/schedule-group.ts`);
 * `bindScheduler` sets `DEFERRED_SENDS_GROUP`, `…_ROLE_ARN`, `…_TARGET_ARN`, `…_DLQ_ARN`.
 */
export class DeferredSends extends OneTimeSchedules {
  constructor(scope: Construct, id: string, props: DeferredSendsProps) {
    super(
      scope,
      id,
      { targetQueue: props.sendQueue, prefix: props.prefix, retain: props.retain },
      {
        groupSuffix: 'deferred-sends',
        roleDescription: 'Assumed by EventBridge Scheduler to put deferred broadcast rounds on the send queue',
        envPrefix: 'DEFERRED_SENDS',
        grantReason: 'Schedules are named per chunk round at run time; the grant is narrowed to the deferred-sends group.',
      },
    );
  }
}
