/**
 * The `SendQueue` port on SQS: one message per broadcast chunk, sent with
 * `SendMessageBatch` (10 per request). Only the entries SQS reports failed are
 * sent again, with jittered backoff and bounded attempts; what still fails
 * rejects the call, so the bus event that asked for it is retried (chunks are
 * idempotent: enqueuing one twice sends nothing twice).
 *
 * A FIFO queue (URL ending `.fifo`) gets a group per number and a dedupe id
 * per chunk; the standard queue needs neither.
 */
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { SendChunkMessage } from '../../../schemas/broadcasts.js';
import type { SendQueue } from '../../core/broadcast-ports.js';
import { MessagesNotEnqueued } from '../../core/backend-failures.js';

export const SEND_MESSAGE_BATCH_MAX = 10;

export interface SqsSendQueueOptions {
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class SqsSendQueue implements SendQueue {
  private readonly fifo: boolean;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsSendQueueOptions = {},
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async enqueue(messages: SendChunkMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SEND_MESSAGE_BATCH_MAX) {
      await this.sendBatch(messages.slice(i, i + SEND_MESSAGE_BATCH_MAX).map((message, j) => this.entry(message, i + j)));
    }
  }

  private entry(message: SendChunkMessage, index: number): SendMessageBatchRequestEntry {
    return {
      Id: String(index),
      MessageBody: JSON.stringify(message),
      ...(this.fifo
        ? { MessageGroupId: `${message.accountId}#${message.broadcastId}`, MessageDeduplicationId: `${message.broadcastId}-${message.chunk}` }
        : {}),
    };
  }

  private async sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = entries;
    let lastReason = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const answer = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((answer.Failed ?? []).map((f) => f.Id));
        // A failure SQS blames on us (SenderFault) will not pass on a retry.
        const permanent = (answer.Failed ?? []).filter((f) => f.SenderFault);
        if (permanent.length > 0) throw new MessagesNotEnqueued(permanent.length, entries.length, permanent.map((f) => f.Code).join(', '));
        pending = pending.filter((e) => failed.has(e.Id));
        if (pending.length === 0) return;
        lastReason = (answer.Failed ?? []).map((f) => f.Code).join(', ');
      } catch (error) {
        if (error instanceof MessagesNotEnqueued) throw error;
        lastReason = (error as Error)?.name ?? String(error);
      }
      if (attempt < this.maxAttempts) await this.sleep(Math.random() * Math.min(2_000, this.baseDelayMs * 2 ** attempt));
    }
    throw new MessagesNotEnqueued(pending.length, entries.length, lastReason);
  }
}

/** One client per container, its retries left to ours. */
export function createSqsClient(region?: string): SQSClient {
  return new SQSClient({ ...(region ? { region } : {}), maxAttempts: 1 });
}
