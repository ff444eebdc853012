/**
 * The one SQS consumer shell (`functions/commons/sqs-consumer.ts`): records
 * parsed and processed one by one, and one policy for a record that fails,
 * malformed or not: reported in `batchItemFailures`, so SQS receives it again
 * and, after `maxReceiveCount`, moves it to the DLQ. Never dropped.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { parseRecordBody, sqsConsumer } from '../../functions/commons/sqs-consumer.js';
import { logger } from '../../functions/commons/observability.js';
import { WhatsAppRejected } from '../../functions/core/errors.js';
import { ChunkInFlight, MalformedRecord } from '../../functions/core/backend-failures.js';
import type { SenderDeps } from '../../functions/core/sender-ports.js';
import { makeSenderHandler } from '../../functions/sender/app.js';

const context = { functionName: 'test', awsRequestId: 'req-1' } as Context;

function batch(bodies: string[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: 'r',
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'test', ApproximateFirstReceiveTimestamp: now },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test',
      awsRegion: 'us-east-1',
    })),
  };
}

const failedIndexes = (event: SQSEvent, response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((failure) => event.Records.findIndex((record) => record.messageId === failure.itemIdentifier)).sort();

// Failures are logged on purpose here: kept out of the test output, and asserted where they are the behaviour.
let info: { mock: { calls: unknown[][] } };
let error: { mock: { calls: unknown[][] } };
beforeEach(() => {
  info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('sqsConsumer', () => {
  const body = z.object({ n: z.int() });

  it('processes every well-formed record and reports each malformed one failed (not JSON, not the schema)', async () => {
    const seen: number[] = [];
    const handler = sqsConsumer({ name: 'test', body, process: async ({ n }) => void seen.push(n) });
    const event = batch(['{"n":1}', '{not json', '{"n":"two"}', '{"n":3}']);
    expect(failedIndexes(event, await handler(event, context))).toEqual([1, 2]);
    expect(seen.sort()).toEqual([1, 3]);
  });

  it('reports only the record whose processing threw', async () => {
    const handler = sqsConsumer({
      name: 'test',
      body,
      process: async ({ n }) => {
        if (n === 2) throw new WhatsAppRejected(131026, 'undeliverable');
      },
    });
    const event = batch(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(failedIndexes(event, await handler(event, context))).toEqual([1]);
  });

  it('answers a batch whose every record failed with all of them, rather than throwing', async () => {
    const handler = sqsConsumer({ name: 'test', body, process: async () => undefined });
    const event = batch(['nope', '[]']);
    expect(failedIndexes(event, await handler(event, context))).toEqual([0, 1]);
  });

  it('logs a retryable failure at info and any other at error', async () => {
    const handler = sqsConsumer({
      name: 'test',
      body,
      process: async ({ n }) => {
        throw n === 1 ? new ChunkInFlight('brd_1', 0, 3) : new WhatsAppRejected(null, 'no');
      },
    });
    await handler(batch(['{"n":1}', '{"n":2}']), context);
    expect(info.mock.calls.map((call) => call[0])).toEqual(['test record failed']);
    expect(error.mock.calls.map((call) => call[0])).toEqual(['test record failed']);
  });

  it('logs a malformed record at error, naming the consumer', async () => {
    const handler = sqsConsumer({ name: 'test', body, process: async () => undefined });
    await handler(batch(['{not json', '{"n":1}']), context);
    expect(error.mock.calls.map((call) => call[0])).toEqual(['test record malformed']);
  });
});

describe('parseRecordBody', () => {
  it('reads a body as the shell does and throws the consumer’s error for one that does not match', () => {
    const schema = z.object({ n: z.int() });
    expect(parseRecordBody(schema, '{"n":1}', (message) => new MalformedRecord(message))).toEqual({ n: 1 });
    expect(() => parseRecordBody(schema, '{"n":1.5}', (message) => new MalformedRecord(message))).toThrow(MalformedRecord);
    expect(() => parseRecordBody(schema, '{', (message) => new MalformedRecord(message))).toThrow(MalformedRecord);
  });
});

describe('the sender on a malformed send-queue message', () => {
  it('reports it failed, so it reaches the DLQ after maxReceiveCount like the inbox and broadcast consumers’ (it is never dropped)', async () => {
    // A malformed message never reaches the use case: no adapter is needed.
    const handler = makeSenderHandler({} as SenderDeps);
    const event = batch(['{not json', JSON.stringify({ accountId: 'acc_1', broadcastId: 'brd_1' })]);
    expect(failedIndexes(event, await handler(event, context))).toEqual([0, 1]);
  });
});
