/**
 * `npm run redrive -- <dlq> --aws` (scripts/redrive.ts) against a mocked SQS:
 * the DLQ's ARN is read from its name (GetQueueUrl + GetQueueAttributes) or
 * taken from --source-arn, StartMessageMoveTask is started on it (with the
 * destination and rate when given), and ListMessageMoveTasks is polled until
 * the task ends, by its handle while it runs and, once SQS stops naming the
 * handle, by the newest task started no earlier than ours. COMPLETED exits 0;
 * FAILED, CANCELLED, a refused start, a missing queue and a timeout exit 1;
 * bad arguments exit 2.
 */
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  QueueDoesNotExist,
  SQSClient,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main, parseOptions } from '../../scripts/redrive.js';

const DLQ_NAME = 'WhatsApp-prod-Stateful-AutomationQueueDlq1A2B3C-XYZ';
const DLQ_URL = `https://sqs.us-east-1.amazonaws.com/123456789012/${DLQ_NAME}`;
const DLQ_ARN = `arn:aws:sqs:us-east-1:123456789012:${DLQ_NAME}`;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:WhatsApp-prod-Stateful-AutomationQueue9F8E7D-ABC';
const HANDLE = 'eyJ0YXNrSWQiOiJ0YXNrLTEifQ==';

// One client instance mocked: nothing else in this worker's process sees the mock.
const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const sqs = mockClient(client);
afterEach(() => sqs.reset());
afterAll(() => sqs.restore());

/** Runs the command with a fake clock: each sleep advances it, nothing really waits. */
async function run(args: string[]) {
  let clock = 1_800_000_000_000;
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const code = await main(args, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    sqs: () => client,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  });
  return { code, out: out.join(''), err: err.join(''), sleeps, startedAt: 1_800_000_000_000 };
}

function knownQueue() {
  sqs.on(GetQueueUrlCommand, { QueueName: DLQ_NAME }).resolves({ QueueUrl: DLQ_URL });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL, AttributeNames: ['QueueArn'] }).resolves({ Attributes: { QueueArn: DLQ_ARN } });
}

describe('redrive --aws', () => {
  it('resolves the DLQ ARN from its name, starts the move task on it, and polls until COMPLETED', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    const started = 1_800_000_000_000;
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ TaskHandle: HANDLE, Status: 'RUNNING', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 0, ApproximateNumberOfMessagesToMove: 7, StartedTimestamp: started }] })
      .resolvesOnce({ Results: [{ TaskHandle: HANDLE, Status: 'RUNNING', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 4, ApproximateNumberOfMessagesToMove: 7, StartedTimestamp: started }] })
      // Done: SQS names the handle of running tasks only. An older task of the same queue comes after ours.
      .resolves({
        Results: [
          { Status: 'COMPLETED', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 7, ApproximateNumberOfMessagesToMove: 7, StartedTimestamp: started + 5 },
          { Status: 'COMPLETED', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 99, StartedTimestamp: started - 86_400_000 },
        ],
      });

    const { code, out, err, sleeps } = await run([DLQ_NAME, '--aws', '--poll-ms', '500']);

    expect(code).toBe(0);
    expect(out).toBe(`redrive: COMPLETED: 7/7 message(s) moved from ${DLQ_ARN}\n`);
    expect(err).toContain('RUNNING 4/7');
    expect(sleeps).toEqual([500, 500]);
    const start = sqs.commandCalls(StartMessageMoveTaskCommand);
    expect(start).toHaveLength(1);
    // Back to the source queue SQS moved them from: no DestinationArn, no rate.
    expect(start[0]!.args[0].input).toEqual({ SourceArn: DLQ_ARN });
    expect(sqs.commandCalls(ListMessageMoveTasksCommand).every((c) => c.args[0].input.SourceArn === DLQ_ARN)).toBe(true);
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(3);
  });

  it('takes --source-arn as is (no lookup), and passes --destination-arn and --max-per-second', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 2, StartedTimestamp: 1_800_000_000_000 }] });

    const { code, out } = await run(['--aws', '--source-arn', DLQ_ARN, '--destination-arn', QUEUE_ARN, '--max-per-second', '10', '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ sourceArn: DLQ_ARN, destinationArn: QUEUE_ARN, taskHandle: HANDLE, status: 'COMPLETED', moved: 2, toMove: 2 });
    expect(sqs.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN, MaxNumberOfMessagesPerSecond: 10 });
  });

  it('reads the ARN of a queue given by URL without GetQueueUrl', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({ Attributes: { QueueArn: DLQ_ARN } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1, StartedTimestamp: 1_800_000_000_000 }] });
    const { code } = await run([DLQ_URL, '--aws']);
    expect(code).toBe(0);
    expect(sqs.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input.SourceArn).toBe(DLQ_ARN);
  });

  it('does not mistake an older finished task for the one it started: it keeps polling', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    const old = { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 50, StartedTimestamp: 1_800_000_000_000 - 3_600_000 };
    sqs
      .on(ListMessageMoveTasksCommand)
      // Ours not listed yet, only yesterday's.
      .resolvesOnce({ Results: [old] })
      .resolvesOnce({ Results: [old] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3, StartedTimestamp: 1_800_000_000_100 }, old] });
    const { code, out } = await run([DLQ_NAME, '--aws', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'COMPLETED', moved: 3 });
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(3);
  });

  it('exits 1 with the reason when the task FAILED', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [{ Status: 'FAILED', FailureReason: 'AWS.SimpleQueueService.NonExistentQueue', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 4, StartedTimestamp: 1_800_000_000_000 }],
    });
    const { code, out } = await run([DLQ_NAME, '--aws']);
    expect(code).toBe(1);
    expect(out).toBe(`redrive: FAILED: 1/4 message(s) moved from ${DLQ_ARN} (AWS.SimpleQueueService.NonExistentQueue)\n`);
  });

  it('exits 1 when the task was CANCELLED', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 2, StartedTimestamp: 1_800_000_000_000 }] });
    const { code, out } = await run([DLQ_NAME, '--aws', '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(out).status).toBe('CANCELLED');
  });

  it('exits 1 with SQS\'s message when the start is refused (a task already runs, or the queue is no DLQ)', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).rejects(new UnsupportedOperation({ message: 'There is already a task running. Only one active task is allowed for each source queue arn at a given time.', $metadata: {} }));
    const { code, out, err } = await run([DLQ_NAME, '--aws']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('UnsupportedOperation: There is already a task running');
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(0);
  });

  it('exits 1 when the named queue does not exist, before starting anything', async () => {
    sqs.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }));
    const { code, err } = await run(['no-such-dlq', '--aws']);
    expect(code).toBe(1);
    expect(err).toContain('The specified queue does not exist.');
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('gives up waiting at --timeout-s (the task goes on) and exits 1 with how to follow it', async () => {
    knownQueue();
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: HANDLE, Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 1000, StartedTimestamp: 1_800_000_000_000 }] });
    const { code, out, sleeps } = await run([DLQ_NAME, '--aws', '--timeout-s', '10', '--poll-ms', '2000']);
    expect(code).toBe(1);
    expect(out).toContain('redrive: TIMED_OUT: 10/1000 message(s) moved');
    expect(out).toContain(`aws sqs list-message-move-tasks --source-arn ${DLQ_ARN}`);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('makes its own SQS client from the environment when none is given', async () => {
    // The prototype this time (the command's own `new SQSClient({})`), restored at once.
    const any = mockClient(SQSClient);
    try {
      vi.stubEnv('AWS_REGION', 'eu-west-1');
      any.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });
      any.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1, StartedTimestamp: Date.now() }] });
      const out: string[] = [];
      const code = await main(['--aws', '--source-arn', DLQ_ARN], { out: (t) => out.push(t), err: () => undefined });
      expect(code).toBe(0);
      expect(out.join('')).toContain('COMPLETED: 1 message(s) moved');
      expect(any.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(1);
    } finally {
      any.restore();
      vi.unstubAllEnvs();
    }
  });
});

describe('redrive arguments', () => {
  it.each([
    [[], 'name a queue'],
    [['nope'], 'unknown local queue "nope"'],
    [['send-queue', '--rule', 'inbox'], '--rule is for the bus only'],
    [['bus', '--source-arn', DLQ_ARN], '--source-arn needs --aws'],
    [[DLQ_NAME, '--aws', '--rule', 'inbox'], '--rule is for the local bus'],
    [['--aws', '--source-arn', 'arn:aws:sns:us-east-1:123456789012:topic'], 'not an SQS queue ARN'],
    [[DLQ_NAME, '--aws', '--poll-ms', '0'], '--poll-ms must be a positive integer'],
    [['bus', '--url', 'not a url'], '--url is not a URL'],
    [['bus', 'send-queue'], 'one queue, not 2'],
    [['bus', '--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with exit 2: %s', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('usage: npm run redrive');
    expect(sqs.calls()).toHaveLength(0);
  });

  it('defaults: local, http://127.0.0.1:3000, 2 s polls, 15 min timeout', () => {
    expect(parseOptions(['bus'])).toEqual({ queue: 'bus', url: 'http://127.0.0.1:3000', json: false, aws: false, pollMs: 2_000, timeoutMs: 900_000 });
    expect(parseOptions(['bus', '--rule', 'integrations', '--url', 'http://localhost:4000/'])).toMatchObject({ rule: 'integrations', url: 'http://localhost:4000' });
  });
});
