/**
 * One-time timers of the local runtime, the stand-in for EventBridge
 * Scheduler's one-time schedules: a payload due at `at` is handed to
 * `deliver` then; adding a name twice keeps the first. A delivery that fails
 * (a local queue refusing it) is tried again a few seconds later, as the
 * scheduler retries its target. With a file (the runtime's `--persist`
 * folder) what is pending survives a restart: armed again at start, and one
 * whose time passed meanwhile goes at once. The deferred broadcast rounds
 * (`deferred-scheduler.ts`), the sequence steps (`step-timers.ts`) and the
 * AI turns (`turn-timers.ts`) are its uses.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Clock } from '../../core/ports.js';

/** setTimeout's longest delay; a later timer is armed again when it fires early. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A delivery that failed is tried again this much later. */
const RETRY_MS = 5_000;

/** A pending timer as listed and kept in the file: its payload under the key its use names (`message`, `due`). */
export type LocalTimer<K extends string, T> = { name: string; at: string } & { [P in K]: T };

export interface LocalTimersOptions {
  clock?: Clock;
  /** Where pending timers are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
  /** Names the timers in log lines (`deferred sends`, `sequence steps`). */
  label: string;
}

export class LocalTimers<K extends string, T> {
  private readonly pending = new Map<string, LocalTimer<K, T>>();
  private readonly handles = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(
    /** The key the payload is kept under. */
    private readonly key: K,
    private readonly deliver: (payload: T) => Promise<void>,
    private readonly options: LocalTimersOptions,
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.log = options.log ?? (() => undefined);
    if (options.file && existsSync(options.file)) {
      for (const timer of JSON.parse(readFileSync(options.file, 'utf8')) as LocalTimer<K, T>[]) this.arm(timer);
    }
  }

  /** Arms `payload` for `at` unless a timer of that name is pending. */
  add(name: string, at: Date, payload: T): void {
    if (this.pending.has(name)) return;
    this.arm({ name, at: at.toISOString(), [this.key]: payload } as LocalTimer<K, T>);
    this.save();
  }

  /** What is waiting, soonest first. */
  list(): LocalTimer<K, T>[] {
    return [...this.pending.values()].sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Cancels the timers (what is pending stays in the file). */
  stop(): void {
    this.stopped = true;
    for (const handle of this.handles.values()) clearTimeout(handle);
    this.handles.clear();
  }

  private arm(timer: LocalTimer<K, T>, delayMs = Math.max(0, Date.parse(timer.at) - this.clock.now().getTime())): void {
    this.pending.set(timer.name, timer);
    const handle = setTimeout(() => void this.fire(timer), Math.min(delayMs, MAX_TIMER_MS));
    handle.unref?.();
    this.handles.set(timer.name, handle);
  }

  private async fire(timer: LocalTimer<K, T>): Promise<void> {
    this.handles.delete(timer.name);
    if (this.stopped) return;
    if (Date.parse(timer.at) > this.clock.now().getTime()) {
      this.arm(timer);
      return;
    }
    try {
      await this.deliver(timer[this.key]);
      this.pending.delete(timer.name);
      this.save();
    } catch (error) {
      this.log(`${this.options.label}: ${timer.name} could not be delivered: ${(error as Error).message}; retrying in ${RETRY_MS / 1000} s`);
      if (!this.stopped) this.arm(timer, RETRY_MS);
    }
  }

  private save(): void {
    if (this.options.file && !this.stopped) writeFileSync(this.options.file, JSON.stringify(this.list(), null, 2));
  }
}
