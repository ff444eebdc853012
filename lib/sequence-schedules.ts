import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OneTimeSchedules } from './schedule-group.js';

export interface SequenceSchedulesProps {
  /** Where a due step goes: the automation queue (its consumer runs the step). */
  readonly automationQueue: IQueue;
  /** e.g. `whatsapp-dev`: names the schedule group `{prefix}-sequence-steps`. */
  readonly prefix: string;
  /** Keep the group (and its pending schedules) when the stack goes. */
  readonly retain: boolean;
}

/**
 * Sequence steps (docs/automations.md, "Sequences"): one EventBridge Scheduler
 * one-time schedule per enrolment step, in this group, created by the API
 * (step 0, `POST /v1/sequences/{id}/enrollments`) and by the automation
 * consumer (each next step); when due the scheduler puts the step's
 * `Sequence Step Due` message (`schemas/automation-timers.ts`) on the
 * automation queue, assuming this role. What it cannot deliver after its
 * retries goes to the dead-letter queue. Pending schedules are state: the
 * group lives in the stateful stack, kept outside dev, as `DeferredSends`'.
 * `bindScheduler` sets `SEQUENCE_SCHEDULE_GROUP`, `…_ROLE_ARN`, `…_TARGET_ARN`, `…_DLQ_ARN`.
 */
export class SequenceSchedules extends OneTimeSchedules {
  constructor(scope: Construct, id: string, props: SequenceSchedulesProps) {
    super(
      scope,
      id,
      { targetQueue: props.automationQueue, prefix: props.prefix, retain: props.retain },
      {
        groupSuffix: 'sequence-steps',
        roleDescription: 'Assumed by EventBridge Scheduler to put due sequence steps on the automation queue',
        envPrefix: 'SEQUENCE_SCHEDULE',
        grantReason: 'Schedules are named per enrolment step at run time; the grant is narrowed to the sequence-steps group.',
      },
    );
  }
}
