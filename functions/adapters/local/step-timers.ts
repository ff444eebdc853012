/**
 * The sequence steps' scheduler of the local runtime: the `StepScheduler`
 * port as timers in the process. A step due at `at` is handed to `deliver`
 * then (the runtime passes the automation consumer's record of it, as
 * EventBridge Scheduler's one-time schedule puts it on the automation
 * queue); scheduling a name twice keeps the first. With a file (the
 * runtime's `--persist` folder) the pending steps survive a restart: they
 * are armed again at start, and one whose time passed meanwhile goes at once.
 * Same behaviour as `deferred-scheduler.ts` (the broadcasts' rounds).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SequenceStepDue } from '../../../schemas/automation-timers.js';
import type { Clock } from '../../core/ports.js';
import type { StepScheduler } from '../../core/sequence-ports.js';

/** setTimeout's longest delay; a later step is armed again when it fires early. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A delivery that failed (the local queue refused it) is tried again this much later. */
const RETRY_MS = 5_000;

export interface LocalStepTimer {
  name: string;
  at: string;
  due: SequenceStepDue;
}

export interface LocalStepTimersOptions {
  clock?: Clock;
  /** Where pending steps are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
}

export class LocalStepTimers implements StepScheduler {
  private readonly pending = new Map<string, LocalStepTimer>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(
    private readonly deliver: (due: SequenceStepDue) => Promise<void>,
    private readonly options: LocalStepTimersOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.log = options.log ?? (() => undefined);
    if (options.file && existsSync(options.file)) {
      for (const timer of JSON.parse(readFileSync(options.file, 'utf8')) as LocalStepTimer[]) this.arm(timer);
    }
  }

  async schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    if (this.pending.has(request.name)) return;
    this.arm({ name: request.name, at: request.at.toISOString(), due: request.due });
    this.save();
  }

  /** What is waiting, soonest first. */
  list(): LocalStepTimer[] {
    return [...this.pending.values()].sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Cancels the timers (the pending steps stay in the file). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(timer: LocalStepTimer): void {
    this.pending.set(timer.name, timer);
    const delay = Math.max(0, Date.parse(timer.at) - this.clock.now().getTime());
    const handle = setTimeout(() => void this.fire(timer), Math.min(delay, MAX_TIMER_MS));
    handle.unref?.();
    this.timers.set(timer.name, handle);
  }

  private async fire(timer: LocalStepTimer): Promise<void> {
    this.timers.delete(timer.name);
    if (this.stopped) return;
    if (Date.parse(timer.at) > this.clock.now().getTime()) {
      this.arm(timer);
      return;
    }
    try {
      await this.deliver(timer.due);
      this.pending.delete(timer.name);
      this.save();
    } catch (error) {
      this.log(`sequence steps: ${timer.name} could not be delivered: ${(error as Error).message}; retrying in ${RETRY_MS / 1000} s`);
      if (!this.stopped) {
        const handle = setTimeout(() => void this.fire(timer), RETRY_MS);
        handle.unref?.();
        this.timers.set(timer.name, handle);
      }
    }
  }

  private save(): void {
    if (this.options.file && !this.stopped) writeFileSync(this.options.file, JSON.stringify(this.list(), null, 2));
  }
}
