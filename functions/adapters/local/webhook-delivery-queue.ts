/**
 * The outgoing-webhook delivery queue of the local runtime: the
 * `WebhookDeliveryQueue` and `WebhookDeadLetters` ports in-process. A message
 * is handed to the delivery handler as an `SQSEvent` of one record once its
 * delay has passed (SQS `DelaySeconds`, here in milliseconds, so a short
 * `WEBHOOK_RETRY_BASE_MS` makes retries quick); a record the handler fails
 * comes back after `redeliveryMs`, up to `maxReceiveCount` receives, then is
 * kept with the dead letters, as SQS redrive does. Dead letters of exhausted
 * deliveries land in the same list (`GET /local/webhook-deliveries/dead-letters`).
 */
import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { WebhookDeliveryMessage } from '../../../schemas/webhook-subscriptions.js';
import type { WebhookDeadLetters, WebhookDeliveryQueue } from '../../core/outgoing-webhook-ports.js';
import { InternalError } from '../../core/errors.js';

export type WebhookDeliveryConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface LocalWebhookDeliveryQueueOptions {
  /** Receives of a failing record before it is a dead letter. @default 5 */
  maxReceiveCount?: number;
  /** When a failed record comes back (the visibility timeout). @default 1000 */
  redeliveryMs?: number;
  log?: (line: string) => void;
}

export interface WebhookDeadLetter {
  message: WebhookDeliveryMessage;
  reason: string;
  at: string;
}

export class LocalWebhookDeliveryQueue implements WebhookDeliveryQueue, WebhookDeadLetters {
  private consumer: WebhookDeliveryConsumer | undefined;
  private readonly waiting: string[] = [];
  private readonly dead: WebhookDeadLetter[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxReceiveCount: number;
  private readonly redeliveryMs: number;
  private readonly log: (line: string) => void;
  private running = 0;
  private stopped = false;

  constructor(options: LocalWebhookDeliveryQueueOptions = {}) {
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.redeliveryMs = options.redeliveryMs ?? 1_000;
    this.log = options.log ?? (() => undefined);
  }

  /** The delivery handler; messages due before it is set wait for it. */
  setConsumer(consumer: WebhookDeliveryConsumer): void {
    this.consumer = consumer;
    for (const body of this.waiting.splice(0)) void this.receive(body, 1);
  }

  async enqueue(message: WebhookDeliveryMessage, delayMs: number): Promise<void> {
    this.later(JSON.stringify(message), 1, Math.max(0, delayMs));
  }

  async deadLetter(message: WebhookDeliveryMessage, reason: string): Promise<void> {
    this.dead.push({ message, reason, at: new Date().toISOString() });
    this.log(`webhook deliveries: dead letter ${message.deliveryId}: ${reason}`);
  }

  deadLetters(): WebhookDeadLetter[] {
    return [...this.dead];
  }

  /**
   * Moves every dead letter back to the queue, as an SQS DLQ redrive
   * (`StartMessageMoveTask`) does: handed to the delivery handler again at
   * once, with a fresh receive count. The handler decides what that means: a
   * message whose handler failed (the table down) is worked again; one of a
   * delivery already marked failed after its last attempt is `stale` and does
   * nothing (redeliver it with `POST /v1/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver`).
   * Returns how many were moved; `drain()` waits for them.
   */
  redrive(): number {
    if (this.stopped) throw new InternalError('The local webhook delivery queue is stopped.');
    const moved = this.dead.splice(0);
    for (const letter of moved) this.later(JSON.stringify(letter.message), 1, 0);
    if (moved.length) this.log(`webhook deliveries: redrove ${moved.length} dead letter(s)`);
    return moved.length;
  }

  /** Resolves once nothing is waiting or running. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels what waits; `drain()` then waits for the records in the handler. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    this.notifyIdle();
  }

  private later(body: string, receive: number, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.consumer) this.waiting.push(body);
      else void this.receive(body, receive);
    }, delayMs);
    this.timers.add(timer);
  }

  private async receive(body: string, receive: number): Promise<void> {
    if (this.stopped || !this.consumer) return;
    this.running++;
    const messageId = randomUUID();
    let failed: boolean;
    let error = 'reported in batchItemFailures';
    try {
      const response = await this.consumer({ Records: [recordOf(messageId, body, receive)] });
      failed = (response?.batchItemFailures ?? []).some((f) => f.itemIdentifier === messageId);
    } catch (thrown) {
      failed = true;
      error = (thrown as Error)?.message ?? String(thrown);
    } finally {
      this.running--;
    }
    if (failed) {
      if (receive >= this.maxReceiveCount) await this.deadLetter(JSON.parse(body) as WebhookDeliveryMessage, `handler failed ${receive} times: ${error}`);
      else this.later(body, receive + 1, this.redeliveryMs);
    }
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.running === 0 && (this.stopped || (this.timers.size === 0 && this.waiting.length === 0));
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function recordOf(messageId: string, body: string, receive: number): SQSRecord {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `local-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(receive), SentTimestamp: now, SenderId: 'local-webhook-deliveries', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:webhook-deliveries',
    awsRegion: 'local',
  };
}
