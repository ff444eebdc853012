/**
 * The two `TurnQueue` adapters: SQS (the `AI Turn Due` message sent to the
 * automation queue with `DelaySeconds` = the delay rounded up to a second,
 * clamped to SQS's 0–900 s, its body the bus envelope) and the local
 * runtime's timers (the same body handed to `deliver` once the delay has
 * passed, never before; `stop()` cancels what is pending, and with a file
 * it is there again after a restart).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTurnTimers } from '../../functions/adapters/local/turn-timers.js';
import { SqsTurnQueue, delaySeconds } from '../../functions/adapters/sqs/turn-queue.js';
import { AI_TURN_DUE, AUTOMATION_TIMER_SOURCE, type AiTurnDue, aiTurnDue } from '../../schemas/automation-timers.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/automation';
const due: AiTurnDue = {
  accountId: 'acc_1',
  whatsapp_phno: '15550001111',
  contactKey: 'wa:15550002222',
  phoneNumberId: '1234567890',
  to: '15550002222',
  waId: '15550002222',
  aiAgentId: 'ai_1',
  wamid: 'wamid.HBgL',
};

/** The body parses as the envelope the automation consumer reads, its detail as the schema. */
function expectEnvelope(body: string) {
  const envelope = JSON.parse(body);
  expect(envelope).toEqual({ source: AUTOMATION_TIMER_SOURCE, 'detail-type': AI_TURN_DUE, detail: due });
  expect(aiTurnDue.parse(envelope.detail)).toEqual(due);
}

describe('SqsTurnQueue', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  afterAll(() => sqs.restore());
  const queue = () => new SqsTurnQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL);

  it('sends the due turn to the queue, delayed by the debounce rounded up to a second', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await queue().enqueue(due, 4_200);
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueueUrl).toBe(QUEUE_URL);
    expect(input.DelaySeconds).toBe(5);
    expectEnvelope(input.MessageBody!);
  });

  it.each([
    [0, 0],
    [-1_500, 0],
    [1, 1],
    [5_000, 5],
    [899_001, 900],
    [900_000, 900],
    [3_600_000, 900],
    [Number.POSITIVE_INFINITY, 900],
    [Number.NaN, 0],
  ])('clamps a delay of %d ms to %d s (SQS allows 0 to 900)', async (delayMs, seconds) => {
    expect(delaySeconds(delayMs)).toBe(seconds);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    await queue().enqueue(due, delayMs);
    expect(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.DelaySeconds).toBe(seconds);
  });

  it('rejects when SQS refuses, so the record that asked is retried', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(queue().enqueue(due, 5_000)).rejects.toThrow('throttled');
  });
});

describe('LocalTurnTimers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers the same body as SQS once the delay has passed, not before', async () => {
    const bodies: string[] = [];
    const timers = new LocalTurnTimers((body) => void bodies.push(body));
    await timers.enqueue(due, 5_000);
    expect(timers.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(bodies).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(bodies).toHaveLength(1);
    expectEnvelope(bodies[0]!);
    expect(timers.pending).toBe(0);
    timers.stop();
  });

  it('delivers each turn after its own delay', async () => {
    const order: string[] = [];
    const timers = new LocalTurnTimers((body) => void order.push(JSON.parse(body).detail.wamid));
    await timers.enqueue({ ...due, wamid: 'late' }, 3_000);
    await timers.enqueue({ ...due, wamid: 'soon' }, 1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(order).toEqual(['soon', 'late']);
    timers.stop();
  });

  it('delivers nothing once stopped, and logs a failed delivery instead of throwing', async () => {
    const bodies: string[] = [];
    const stopped = new LocalTurnTimers((body) => void bodies.push(body));
    await stopped.enqueue(due, 1_000);
    stopped.stop();
    await stopped.enqueue(due, 1_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(bodies).toEqual([]);
    expect(stopped.pending).toBe(0);

    const lines: string[] = [];
    const failing = new LocalTurnTimers(
      async () => {
        throw new Error('handler down');
      },
      { log: (line) => lines.push(line) },
    );
    await failing.enqueue(due, 10);
    await vi.advanceTimersByTimeAsync(10);
    expect(lines).toEqual([expect.stringContaining('handler down')]);
    failing.stop();
  });

  it('with a file (npm start --persist), keeps a pending turn across a restart and delivers it once, at once when its time passed meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'turns-'));
    try {
      const file = join(dir, 'ai-turns.json');
      const before: string[] = [];
      const first = new LocalTurnTimers((body) => void before.push(body), { file });
      await first.enqueue(due, 5_000);
      await first.enqueue(due, 5_000); // the same record redelivered: one timer
      expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveLength(1);
      first.stop();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(before).toEqual([]);

      const after: string[] = [];
      const second = new LocalTurnTimers((body) => void after.push(body), { file });
      expect(second.pending).toBe(1);
      await vi.advanceTimersByTimeAsync(0);
      expect(after).toHaveLength(1);
      expectEnvelope(after[0]!);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(after).toHaveLength(1);
      second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Real timers here: spying on a faked setTimeout would leave the fake behind for the next file of this worker.
describe('LocalTurnTimers, real timers', () => {
  it('never keeps the process alive for a pending turn', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const timers = new LocalTurnTimers(() => undefined);
      await timers.enqueue(due, 5_000);
      const timer = spy.mock.results.at(-1)!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      timers.stop();
    } finally {
      spy.mockRestore();
    }
  });
});
