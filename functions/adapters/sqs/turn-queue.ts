/**
 * The `TurnQueue` port on SQS: an AI turn's `AI Turn Due` message
 * (`schemas/automation-timers.ts`, in the bus envelope) is sent to the
 * automation queue itself with `DelaySeconds`, so the automation consumer
 * receives it once the debounce window has passed. SQS delays a message 0 to
 * 900 s in whole seconds: the delay is rounded up (never early) and clamped.
 * A failed send rejects, so the record that asked for it is retried.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { AI_TURN_DUE, type AiTurnDue, timerEnvelope } from '../../../schemas/automation-timers.js';
import type { TurnQueue } from '../../core/ai-ports.js';

/** The longest delay SQS gives one message. */
export const SQS_MAX_DELAY_SECONDS = 900;

/** `ceil(delayMs / 1000)` within SQS's 0–900 s. */
export function delaySeconds(delayMs: number): number {
  if (!Number.isFinite(delayMs)) return delayMs > 0 ? SQS_MAX_DELAY_SECONDS : 0;
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
}

export class SqsTurnQueue implements TurnQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(due: AiTurnDue, delayMs: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        DelaySeconds: delaySeconds(delayMs),
        MessageBody: JSON.stringify(timerEnvelope(AI_TURN_DUE, due)),
      }),
    );
  }
}
