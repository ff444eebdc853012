/**
 * The timing parts of sequences, without storage: when a step outside its
 * `sendBetween` hours may go (`nextOpening`, in an IANA time zone, daylight
 * saving included), and the local runtime's step timers (`LocalStepTimers`:
 * one delivery per name, soonest first, pending steps kept in a file across
 * a restart). The runner itself is `test/integration/sequences.test.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStepTimers } from '../../functions/adapters/local/step-timers.js';
import { nextOpening } from '../../functions/core/sequence-runner.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';

const MARIA = '5511987650001';

describe('nextOpening', () => {
  it('finds the next from across midnight and daylight saving', () => {
    const hours = { from: '09:00', to: '18:00' };
    // 08:30 in Lisbon (UTC+0 in winter): today's 09:00.
    expect(nextOpening(new Date('2026-01-15T08:30:00Z'), 'Europe/Lisbon', hours)?.toISOString()).toBe('2026-01-15T09:00:00.000Z');
    expect(nextOpening(new Date('2026-01-15T12:00:00Z'), 'Europe/Lisbon', hours)).toBeUndefined();
    // 23:30 on Saturday 28 March in New York (EDT since the 8th): Sunday 09:00 EDT.
    expect(nextOpening(new Date('2026-03-29T03:30:00Z'), 'America/New_York', hours)?.toISOString()).toBe('2026-03-29T13:00:00.000Z');
    // 19:00 on the eve of Europe's switch (29 March 2026): 09:00 CEST next day.
    expect(nextOpening(new Date('2026-03-28T18:00:00Z'), 'Europe/Berlin', hours)?.toISOString()).toBe('2026-03-29T07:00:00.000Z');
    // Half a minute before from: sent now (a timer may fire a little early).
    expect(nextOpening(new Date('2026-01-15T08:59:30Z'), 'UTC', hours)).toBeUndefined();
  });
});

describe('the local runtime\'s step timers', () => {
  it('deliver each name once, soonest first, and survive a restart through their file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'step-timers-')), 'steps.json');
    const due = (step: number): SequenceStepDue => ({ accountId: 'acc_x', whatsapp_phno: '15550001001', contactKey: MARIA, sequenceId: 'seq_x', enrollmentId: 'enr_x', step });
    const delivered: number[] = [];
    const timers = new LocalStepTimers(async (d) => void delivered.push(d.step), { file });
    const now = Date.now();
    await timers.schedule({ name: 'b', at: new Date(now + 60), due: due(1) });
    await timers.schedule({ name: 'a', at: new Date(now + 20), due: due(0) });
    await timers.schedule({ name: 'a', at: new Date(now + 5), due: due(9) });
    await timers.schedule({ name: 'later', at: new Date(now + 3_600_000), due: due(2) });
    expect(timers.list().map((t) => t.name)).toEqual(['a', 'b', 'later']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(delivered).toEqual([0, 1]);
    timers.stop();

    const restarted: number[] = [];
    const again = new LocalStepTimers(async (d) => void restarted.push(d.step), { file, clock: { now: () => new Date(now + 7_200_000) } });
    expect(again.list().map((t) => t.name)).toEqual(['later']);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(restarted).toEqual([2]);
    expect(again.list()).toEqual([]);
    again.stop();
  });
});
