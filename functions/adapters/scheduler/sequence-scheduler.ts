/**
 * The `StepScheduler` port on EventBridge Scheduler (docs/automations.md,
 * "Sequences"): one one-time schedule per sequence step (`at(…)`, UTC,
 * deleted after it runs) in the sequence-steps schedule group, whose target
 * is the automation queue with the step's `Sequence Step Due` envelope as
 * its body (`timerEnvelope`), so the automation consumer parses it like every
 * record. The name is the step's (unique per enrolment and step), so
 * scheduling twice (a redelivered due event, a retried enrolment) keeps the
 * first: `ConflictException` is success. What the scheduler cannot deliver
 * goes to the dead-letter queue.
 */
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { SEQUENCE_STEP_DUE, type SequenceStepDue, timerEnvelope } from '../../../schemas/automation-timers.js';
import { InternalError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import { createSchedulerClient } from './eventbridge-scheduler.js';
import type { StepScheduler } from '../../core/sequence-ports.js';

/** EventBridge Scheduler refuses a time in the past: a step due now goes a minute from now. */
const MIN_LEAD_MS = 60_000;

export interface SequenceSchedulerOptions {
  groupName: string;
  /** The automation queue's ARN. */
  targetArn: string;
  /** The role the scheduler assumes to send to the queue (and to the dead-letter queue). */
  roleArn: string;
  deadLetterArn: string;
  clock: Clock;
}

export class EventBridgeStepScheduler implements StepScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: SequenceSchedulerOptions,
  ) {}

  async schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    const { groupName, targetArn, roleArn, deadLetterArn, clock } = this.options;
    const when = new Date(Math.max(request.at.getTime(), clock.now().getTime() + MIN_LEAD_MS));
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: request.name,
          GroupName: groupName,
          Description: `Sequence step: ${request.due.sequenceId} enrolment ${request.due.enrollmentId} step ${request.due.step}`,
          ScheduleExpression: `at(${when.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: targetArn,
            RoleArn: roleArn,
            Input: JSON.stringify(timerEnvelope(SEQUENCE_STEP_DUE, request.due)),
            DeadLetterConfig: { Arn: deadLetterArn },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          },
        }),
      );
    } catch (error) {
      // Scheduled before (a redelivery of the same step): the first schedule stands.
      if (error instanceof ConflictException || (error as Error | undefined)?.name === 'ConflictException') return;
      throw error;
    }
  }
}

/** Schedules sequence steps nowhere: a function deployed without the sequence-steps group answers what is missing. */
export class NoStepScheduler implements StepScheduler {
  async schedule(): Promise<void> {
    throw new InternalError('Sequence steps cannot be scheduled: SEQUENCE_SCHEDULE_* is not set on this function.');
  }
}

/** The step scheduler of a Lambda: on EventBridge Scheduler when its settings are given. */
export function stepSchedulerOf(config: { groupName: string; targetArn: string; roleArn: string; deadLetterArn: string; region?: string } | undefined, clock: Clock): StepScheduler {
  if (!config) return new NoStepScheduler();
  const { groupName, targetArn, roleArn, deadLetterArn } = config;
  return new EventBridgeStepScheduler(createSchedulerClient(config.region), { groupName, targetArn, roleArn, deadLetterArn, clock });
}
