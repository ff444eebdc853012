/**
 * The two `DeferredSendScheduler` adapters: EventBridge Scheduler (one-time
 * `at()` schedule in the group, the send queue as target, a name scheduled
 * twice kept once) and the local runtime's timers (fire onto the send queue
 * when due, once per name, kept in a file across restarts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictException, CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalDeferredScheduler } from '../../functions/adapters/local/deferred-scheduler.js';
import { EventBridgeDeferredScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import type { SendChunkMessage } from '../../schemas/broadcasts.js';

const message: SendChunkMessage = { accountId: 'acc_1', broadcastId: 'brd_0001', chunk: 2, round: 1 };
const now = new Date('2026-11-27T10:00:00.000Z');

describe('EventBridgeDeferredScheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  afterEach(() => scheduler.reset());
  const adapter = () =>
    new EventBridgeDeferredScheduler(new SchedulerClient({ region: 'us-east-1' }), {
      groupName: 'whatsapp-dev-deferred-sends',
      targetArn: 'arn:aws:sqs:us-east-1:000000000000:send',
      roleArn: 'arn:aws:iam::000000000000:role/deferred',
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:deferred-dlq',
      clock: { now: () => now },
    });

  it('creates a one-time schedule that puts the round on the send queue and deletes itself', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    await adapter().schedule({ name: 'brd_0001-c2-r1', at: new Date('2026-11-28T11:25:00.000Z'), message });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toMatchObject({
      Name: 'brd_0001-c2-r1',
      GroupName: 'whatsapp-dev-deferred-sends',
      ScheduleExpression: 'at(2026-11-28T11:25:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:send', Input: JSON.stringify(message), DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:deferred-dlq' } },
    });
  });

  it('puts a round due now a minute ahead (the scheduler refuses the past)', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await adapter().schedule({ name: 'late', at: new Date('2026-11-27T09:00:00.000Z'), message });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe('at(2026-11-27T10:01:00)');
  });

  it('takes a schedule of that name existing already as done', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await expect(adapter().schedule({ name: 'brd_0001-c2-r1', at: now, message })).resolves.toBeUndefined();
  });
});

describe('LocalDeferredScheduler', () => {
  it('enqueues a round when it is due, once per name', async () => {
    const enqueued: SendChunkMessage[] = [];
    const local = new LocalDeferredScheduler({ enqueue: async (m) => void enqueued.push(...m) });
    await local.schedule({ name: 'a', at: new Date(Date.now() + 30), message });
    await local.schedule({ name: 'a', at: new Date(Date.now() + 30), message: { ...message, chunk: 9 } });
    expect(local.list()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(enqueued).toEqual([message]);
    expect(local.list()).toEqual([]);
    local.stop();
  });

  it('keeps pending rounds in its file and arms them again after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deferred-'));
    try {
      const file = join(dir, 'deferred-sends.json');
      const first = new LocalDeferredScheduler({ enqueue: async () => undefined }, { file });
      await first.schedule({ name: 'later', at: new Date(Date.now() + 3_600_000), message });
      first.stop();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveLength(1);
      const enqueued: SendChunkMessage[] = [];
      const clock = { now: () => new Date(Date.now() + 2 * 3_600_000) };
      const second = new LocalDeferredScheduler({ enqueue: async (m) => void enqueued.push(...m) }, { file, clock });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(enqueued).toEqual([message]);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
      second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
