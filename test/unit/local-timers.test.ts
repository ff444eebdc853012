/**
 * The local runtime's one-time timers (`functions/adapters/local/timers.ts`),
 * behind the deferred broadcast rounds and the sequence steps: a delivery
 * that fails is tried again (as EventBridge Scheduler retries its target)
 * and leaves the timer pending until it succeeds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTimers } from '../../functions/adapters/local/timers.js';

describe('LocalTimers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries a failed delivery again 5 s later and keeps the timer pending until it succeeds', async () => {
    const delivered: string[] = [];
    const lines: string[] = [];
    let failures = 2;
    const timers = new LocalTimers(
      'due',
      async (payload: string) => {
        if (failures-- > 0) throw new Error('queue down');
        delivered.push(payload);
      },
      { label: 'test timers', log: (line) => lines.push(line) },
    );
    timers.add('a', new Date(Date.now() + 1_000), 'step-a');
    timers.add('a', new Date(Date.now() + 1_000), 'step-a-again');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(delivered).toEqual([]);
    expect(timers.list()).toEqual([{ name: 'a', at: expect.any(String), due: 'step-a' }]);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(lines).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivered).toEqual(['step-a']);
    expect(timers.list()).toEqual([]);
    expect(lines[0]).toContain('test timers: a could not be delivered: queue down');
    timers.stop();
  });
});
