/**
 * The `TurnQueue` port of the local runtime: an AI turn's `AI Turn Due`
 * message is handed to `deliver` (the runtime puts it in front of the
 * automation handler, as the automation queue would) after the delay, with
 * the same JSON body SQS would carry (`SqsTurnQueue`). The delay is capped at
 * SQS's 900 s, as in AWS (never rounded: tests may use ms). The timers are
 * `timers.ts`'s: unref'd (a pending turn never keeps the process alive), a
 * failed delivery tried again, and with a file (the runtime's `--persist`
 * folder) what is pending survives a restart, as a delayed SQS message does:
 * armed again at start, and a turn whose time passed meanwhile goes at once.
 */
import { AI_TURN_DUE, type AiTurnDue, timerEnvelope } from '../../../schemas/automation-timers.js';
import type { TurnQueue } from '../../core/ai-ports.js';
import type { Clock } from '../../core/ports.js';
import { LocalTimers } from './timers.js';

/** SQS's longest message delay. */
const MAX_DELAY_MS = 900_000;

export interface LocalTurnTimersOptions {
  clock?: Clock;
  /** Where pending turns are kept across restarts. */
  file?: string;
  log?: (line: string) => void;
}

export class LocalTurnTimers implements TurnQueue {
  private readonly timers: LocalTimers<'due', AiTurnDue>;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(deliver: (body: string) => void | Promise<void>, options: LocalTurnTimersOptions = {}) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.log = options.log ?? (() => undefined);
    this.timers = new LocalTimers('due', async (due: AiTurnDue) => deliver(JSON.stringify(timerEnvelope(AI_TURN_DUE, due))), { ...options, label: 'ai turns' });
  }

  async enqueue(due: AiTurnDue, delayMs: number): Promise<void> {
    if (this.stopped) {
      this.log(`ai turns: stopped, dropping the turn of ${due.wamid}`);
      return;
    }
    const delay = Number.isFinite(delayMs) ? Math.min(MAX_DELAY_MS, Math.max(0, delayMs)) : delayMs > 0 ? MAX_DELAY_MS : 0;
    // One timer per turn message: the same due enqueued twice (a redelivered record) is armed once.
    this.timers.add(`${due.accountId}/${due.whatsapp_phno}/${due.contactKey}/${due.wamid}`, new Date(this.clock.now().getTime() + delay), due);
  }

  /** Turns waiting for their delay in this process. */
  get pending(): number {
    return this.stopped ? 0 : this.timers.list().length;
  }

  /** Cancels every pending turn (they stay in the file, for the next start); later ones are dropped. */
  stop(): void {
    this.stopped = true;
    this.timers.stop();
  }
}
