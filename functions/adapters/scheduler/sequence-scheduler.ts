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
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SEQUENCE_STEP_DUE, type SequenceStepDue, timerEnvelope } from '../../../schemas/automation-timers.js';
import { InternalError } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import { type EventBridgeSchedulerOptions, createOneTimeSchedule, createSchedulerClient } from './eventbridge-scheduler.js';
import type { StepScheduler } from '../../core/sequence-ports.js';

export type SequenceSchedulerOptions = EventBridgeSchedulerOptions;

export class EventBridgeStepScheduler implements StepScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: SequenceSchedulerOptions,
  ) {}

  schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    const { sequenceId, enrollmentId, step } = request.due;
    return createOneTimeSchedule(this.client, this.options, {
      name: request.name,
      at: request.at,
      description: `Sequence step: ${sequenceId} enrolment ${enrollmentId} step ${step}`,
      input: JSON.stringify(timerEnvelope(SEQUENCE_STEP_DUE, request.due)),
    });
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
