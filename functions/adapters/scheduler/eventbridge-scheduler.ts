/**
 * The `DeferredSendScheduler` port on EventBridge Scheduler: one one-time
 * schedule per chunk round (`at(…)`, UTC, deleted after it runs) in the
 * deferred-sends schedule group (`lib/deferred-sends.ts`), whose target is the
 * send queue with the round's chunk message as its body. The schedule's name
 * is the round's, so scheduling twice (a retried chunk) keeps the first
 * (`ConflictException` is success); what the scheduler cannot deliver goes to
 * the group's dead-letter queue.
 */
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SendChunkMessage } from '../../../schemas/broadcasts.js';
import type { DeferredSendScheduler } from '../../core/messaging-limit.js';
import type { Clock } from '../../core/ports.js';

/** EventBridge Scheduler refuses a time in the past: a round due now goes a minute from now. */
const MIN_LEAD_MS = 60_000;

export interface EventBridgeSchedulerOptions {
  groupName: string;
  /** The queue the schedule sends to (the send queue, the automation queue). */
  targetArn: string;
  /** The role the scheduler assumes to send to the queue (and to the dead-letter queue). */
  roleArn: string;
  deadLetterArn: string;
  clock: Clock;
}

export class EventBridgeDeferredScheduler implements DeferredSendScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  schedule(request: { name: string; at: Date; message: SendChunkMessage }): Promise<void> {
    const { broadcastId, chunk, round } = request.message;
    return createOneTimeSchedule(this.client, this.options, {
      name: request.name,
      at: request.at,
      description: `Deferred broadcast round: ${broadcastId} chunk ${chunk} round ${round ?? 0}`,
      input: JSON.stringify(request.message),
    });
  }
}

/**
 * One one-time schedule (`at(…)` UTC, at least a minute ahead, deleted after
 * it runs) that sends `input` to the target queue as the role, dead-lettering
 * what it cannot deliver after its retries. Scheduling a name twice keeps the
 * first: `ConflictException` is success. Deferred rounds and sequence steps
 * both schedule through it.
 */
export async function createOneTimeSchedule(
  client: SchedulerClient,
  options: EventBridgeSchedulerOptions,
  request: { name: string; at: Date; description: string; input: string },
): Promise<void> {
  const { groupName, targetArn, roleArn, deadLetterArn, clock } = options;
  const when = new Date(Math.max(request.at.getTime(), clock.now().getTime() + MIN_LEAD_MS));
  try {
    await client.send(
      new CreateScheduleCommand({
        Name: request.name,
        GroupName: groupName,
        Description: request.description,
        ScheduleExpression: `at(${when.toISOString().slice(0, 19)})`,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: targetArn,
          RoleArn: roleArn,
          Input: request.input,
          DeadLetterConfig: { Arn: deadLetterArn },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        },
      }),
    );
  } catch (error) {
    // Scheduled before (a retried round, a redelivered step): the first schedule stands.
    if (error instanceof ConflictException || (error as Error | undefined)?.name === 'ConflictException') return;
    throw error;
  }
}

/** One client per container. */
export function createSchedulerClient(region?: string): SchedulerClient {
  return new SchedulerClient({ ...(region ? { region } : {}) });
}
