/**
 * The sequence steps' scheduler of the local runtime: the `StepScheduler`
 * port as timers in the process (`timers.ts`). A step due at `at` is handed
 * to `deliver` then (the runtime puts its record on the automation rule's
 * queue, as EventBridge Scheduler's one-time schedule does in AWS);
 * scheduling a name twice keeps the first, a failed delivery is tried again.
 * With a file (the runtime's `--persist` folder) the pending steps survive a
 * restart: they are armed again at start, and one whose time passed
 * meanwhile goes at once.
 */
import type { SequenceStepDue } from '../../../schemas/automation-timers.js';
import type { Clock } from '../../core/ports.js';
import type { StepScheduler } from '../../core/sequence-ports.js';
import { type LocalTimer, LocalTimers } from './timers.js';

export type LocalStepTimer = LocalTimer<'due', SequenceStepDue>;

export interface LocalStepTimersOptions {
  clock?: Clock;
  /** Where pending steps are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
}

export class LocalStepTimers implements StepScheduler {
  private readonly timers: LocalTimers<'due', SequenceStepDue>;

  constructor(deliver: (due: SequenceStepDue) => Promise<void>, options: LocalStepTimersOptions = {}) {
    this.timers = new LocalTimers('due', deliver, { ...options, label: 'sequence steps' });
  }

  async schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    this.timers.add(request.name, request.at, request.due);
  }

  /** What is waiting, soonest first. */
  list(): LocalStepTimer[] {
    return this.timers.list();
  }

  /** Cancels the timers (the pending steps stay in the file). */
  stop(): void {
    this.timers.stop();
  }
}
