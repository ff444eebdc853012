/**
 * The deferred-sends scheduler of the local runtime: the `DeferredSendScheduler`
 * port as timers in the process. A round due at `at` is put on the local send
 * queue then (like EventBridge Scheduler's one-time schedule and its SQS
 * target); scheduling a name twice keeps the first. With a file (the runtime's
 * `--persist` folder) the pending schedules survive a restart: they are armed
 * again at start, and one whose time passed meanwhile goes at once.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SendChunkMessage } from '../../../schemas/broadcasts.js';
import type { SendQueue } from '../../core/broadcast-ports.js';
import type { DeferredSendScheduler } from '../../core/messaging-limit.js';
import type { Clock } from '../../core/ports.js';

/** setTimeout's longest delay; a later schedule is armed again when it fires early. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LocalSchedule {
  name: string;
  at: string;
  message: SendChunkMessage;
}

export interface LocalDeferredSchedulerOptions {
  clock?: Clock;
  /** Where pending schedules are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
}

export class LocalDeferredScheduler implements DeferredSendScheduler {
  private readonly pending = new Map<string, LocalSchedule>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(
    private readonly queue: SendQueue,
    private readonly options: LocalDeferredSchedulerOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.log = options.log ?? (() => undefined);
    if (options.file && existsSync(options.file)) {
      for (const schedule of JSON.parse(readFileSync(options.file, 'utf8')) as LocalSchedule[]) this.arm(schedule);
    }
  }

  async schedule(request: { name: string; at: Date; message: SendChunkMessage }): Promise<void> {
    if (this.pending.has(request.name)) return;
    this.arm({ name: request.name, at: request.at.toISOString(), message: request.message });
    this.save();
  }

  /** What is waiting, soonest first. */
  list(): LocalSchedule[] {
    return [...this.pending.values()].sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Cancels the timers (the pending schedules stay in the file). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(schedule: LocalSchedule): void {
    this.pending.set(schedule.name, schedule);
    const delay = Math.max(0, Date.parse(schedule.at) - this.clock.now().getTime());
    const timer = setTimeout(() => void this.fire(schedule), Math.min(delay, MAX_TIMER_MS));
    timer.unref?.();
    this.timers.set(schedule.name, timer);
  }

  private async fire(schedule: LocalSchedule): Promise<void> {
    this.timers.delete(schedule.name);
    if (this.stopped) return;
    if (Date.parse(schedule.at) > this.clock.now().getTime()) {
      this.arm(schedule);
      return;
    }
    try {
      await this.queue.enqueue([schedule.message]);
      this.pending.delete(schedule.name);
      this.save();
    } catch (error) {
      this.log(`deferred sends: ${schedule.name} could not be enqueued: ${(error as Error).message}`);
    }
  }

  private save(): void {
    if (this.options.file && !this.stopped) writeFileSync(this.options.file, JSON.stringify(this.list(), null, 2));
  }
}
