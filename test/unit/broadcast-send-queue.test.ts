/** The local send queue: delivers chunk messages to the sender, redelivers failures, then dead-letters them. */
import { describe, expect, it } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import { LocalSendQueue } from '../../functions/adapters/local/send-queue.js';

const message = (chunk: number) => ({ accountId: 'acc_1', broadcastId: 'brd_1', chunk });

describe('LocalSendQueue', () => {
  it('delivers each message as an SQS record of one', async () => {
    const queue = new LocalSendQueue({ retryDelayMs: 1 });
    const seen: unknown[] = [];
    queue.setConsumer(async (event: SQSEvent) => {
      expect(event.Records).toHaveLength(1);
      seen.push(JSON.parse(event.Records[0]!.body));
    });
    await queue.enqueue([message(0), message(1)]);
    await queue.drain();
    expect(seen).toEqual([message(0), message(1)]);
  });

  it('redelivers a message its consumer reported failed', async () => {
    const queue = new LocalSendQueue({ retryDelayMs: 1 });
    let calls = 0;
    queue.setConsumer(async (event) => {
      calls++;
      return { batchItemFailures: calls === 1 ? [{ itemIdentifier: event.Records[0]!.messageId }] : [] };
    });
    await queue.enqueue([message(0)]);
    await queue.drain();
    expect(calls).toBe(2);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('dead-letters a message after maxReceiveCount failures', async () => {
    const queue = new LocalSendQueue({ retryDelayMs: 1, maxReceiveCount: 3 });
    let calls = 0;
    queue.setConsumer(async () => {
      calls++;
      throw new Error('boom');
    });
    await queue.enqueue([message(4)]);
    await queue.drain();
    expect(calls).toBe(3);
    expect(queue.deadLetters()).toMatchObject([{ message: message(4), attempts: 3, error: 'boom' }]);
  });

  it('holds messages until a consumer is set', async () => {
    const queue = new LocalSendQueue({ retryDelayMs: 1 });
    await queue.enqueue([message(0)]);
    const seen: number[] = [];
    queue.setConsumer(async (event) => void seen.push(JSON.parse(event.Records[0]!.body).chunk));
    await queue.drain();
    expect(seen).toEqual([0]);
  });
});
