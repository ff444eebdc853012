/**
 * The send queue of the local runtime: the `SendQueue` port in-process,
 * delivering each chunk message to the sender handler the way the SQS event
 * source does (an `SQSEvent` of one record, a partial batch response back).
 * A message that fails is received again after a growing delay, up to
 * `maxReceiveCount` times, then kept in the dead-letter list, like SQS
 * redrive. At most `concurrency` chunks are in the sender at once (the
 * sender function's reserved concurrency in AWS).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { SendChunkMessage } from '../../../schemas/broadcasts.js';
import type { SendQueue } from '../../core/broadcast-ports.js';
import { InternalError } from '../../core/errors.js';

export type SendQueueConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface LocalSendQueueOptions {
  /** Receives before a message goes to the dead letters (SQS `maxReceiveCount`). */
  maxReceiveCount?: number;
  /** First redelivery delay; doubles per receive. */
  retryDelayMs?: number;
  /** Chunks processed at once. */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface SendQueueDeadLetter {
  messageId: string;
  message: SendChunkMessage;
  attempts: number;
  error: string;
  at: string;
}

interface Queued {
  messageId: string;
  body: string;
  receive: number;
}

export class LocalSendQueue implements SendQueue {
  private consumer: SendQueueConsumer | undefined;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: number;
  private readonly concurrency: number;
  private readonly log: (line: string) => void;
  private readonly ready: Queued[] = [];
  private readonly dead: SendQueueDeadLetter[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private delayed = 0;
  private stopped = false;

  constructor(options: LocalSendQueueOptions = {}) {
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.concurrency = options.concurrency ?? 2;
    this.log = options.log ?? (() => undefined);
  }

  /** The function behind the queue (the sender handler). Messages wait until one is set. */
  setConsumer(consumer: SendQueueConsumer): void {
    this.consumer = consumer;
    this.pump();
  }

  async enqueue(messages: SendChunkMessage[]): Promise<void> {
    if (this.stopped) throw new InternalError('The local send queue is stopped.');
    for (const message of messages) this.ready.push({ messageId: randomUUID(), body: JSON.stringify(message), receive: 1 });
    this.pump();
  }

  deadLetters(): SendQueueDeadLetter[] {
    return [...this.dead];
  }

  /**
   * Moves every dead letter back to the queue, as an SQS DLQ redrive
   * (`StartMessageMoveTask`) does: received again by the sender with a fresh
   * receive count; one that fails again comes back to the dead letters.
   * Returns how many were moved; `drain()` waits for them.
   */
  redrive(): number {
    if (this.stopped) throw new InternalError('The local send queue is stopped.');
    const moved = this.dead.splice(0);
    for (const letter of moved) this.ready.push({ messageId: randomUUID(), body: JSON.stringify(letter.message), receive: 1 });
    if (moved.length) this.log(`send queue: redrove ${moved.length} dead letter(s)`);
    this.pump();
    return moved.length;
  }

  /** Resolves once nothing is queued, running or waiting for a redelivery. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued and cancels redeliveries; `drain()` then waits for the chunks already in the sender. */
  stop(): void {
    this.stopped = true;
    this.ready.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.delayed = 0;
    this.notifyIdle();
  }

  private pump(): void {
    while (!this.stopped && this.consumer && this.running < this.concurrency && this.ready.length > 0) {
      const next = this.ready.shift()!;
      this.running++;
      void this.attempt(this.consumer, next).finally(() => {
        this.running--;
        this.pump();
        this.notifyIdle();
      });
    }
  }

  private async attempt(consumer: SendQueueConsumer, queued: Queued): Promise<void> {
    let error = 'reported in batchItemFailures';
    let failed: boolean;
    try {
      const response = await consumer({ Records: [record(queued)] });
      failed = (response?.batchItemFailures ?? []).some((f) => f.itemIdentifier === queued.messageId);
    } catch (thrown) {
      failed = true;
      error = (thrown as Error)?.message ?? String(thrown);
    }
    if (!failed || this.stopped) return;
    if (queued.receive >= this.maxReceiveCount) {
      this.dead.push({ messageId: queued.messageId, message: JSON.parse(queued.body), attempts: queued.receive, error, at: new Date().toISOString() });
      this.log(`send queue: dead letter after ${queued.receive} attempts: ${queued.body}: ${error}`);
      return;
    }
    // As SQS: the message comes back after its visibility timeout.
    this.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.delayed--;
      this.ready.push({ ...queued, receive: queued.receive + 1 });
      this.pump();
    }, this.retryDelayMs * 2 ** (queued.receive - 1));
    this.timers.add(timer);
  }

  private isIdle(): boolean {
    // Once stopped, only the chunks already in the sender are waited for.
    return this.running === 0 && (this.stopped || (this.ready.length === 0 && this.delayed === 0));
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function record(queued: Queued): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: queued.messageId,
    receiptHandle: `local-${queued.messageId}-${queued.receive}`,
    body: queued.body,
    attributes: { ApproximateReceiveCount: String(queued.receive), SentTimestamp: now, SenderId: 'local-send-queue', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(queued.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:send-queue',
    awsRegion: 'local',
  };
}
