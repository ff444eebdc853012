/**
 * The deferred-sends scheduler of the local runtime: the `DeferredSendScheduler`
 * port as timers in the process (`timers.ts`). A round due at `at` is put on
 * the local send queue then (like EventBridge Scheduler's one-time schedule
 * and its SQS target); scheduling a name twice keeps the first. With a file
 * (the runtime's `--persist` folder) the pending schedules survive a restart:
 * they are armed again at start, and one whose time passed meanwhile goes at
 * once.
 */
import type { SendChunkMessage } from '../../../schemas/broadcasts.js';
import type { SendQueue } from '../../core/broadcast-ports.js';
import type { DeferredSendScheduler } from '../../core/messaging-limit.js';
import type { Clock } from '../../core/ports.js';
import { type LocalTimer, LocalTimers } from './timers.js';

export type LocalSchedule = LocalTimer<'message', SendChunkMessage>;

export interface LocalDeferredSchedulerOptions {
  clock?: Clock;
  /** Where pending schedules are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
}

export class LocalDeferredScheduler implements DeferredSendScheduler {
  private readonly timers: LocalTimers<'message', SendChunkMessage>;

  constructor(queue: SendQueue, options: LocalDeferredSchedulerOptions = {}) {
    this.timers = new LocalTimers('message', (message) => queue.enqueue([message]), { ...options, label: 'deferred sends' });
  }

  async schedule(request: { name: string; at: Date; message: SendChunkMessage }): Promise<void> {
    this.timers.add(request.name, request.at, request.message);
  }

  /** What is waiting, soonest first. */
  list(): LocalSchedule[] {
    return this.timers.list();
  }

  /** Cancels the timers (the pending schedules stay in the file). */
  stop(): void {
    this.timers.stop();
  }
}
