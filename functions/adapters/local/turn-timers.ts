/**
 * The `TurnQueue` port of the local runtime: an AI turn's `AI Turn Due`
 * message is handed to `deliver` (the runtime puts it in front of the
 * automation handler, as the automation queue would) after the delay, with
 * the same JSON body SQS would carry (`SqsTurnQueue`). Timers are unref'd, so
 * a pending turn never keeps the process alive; `stop()` cancels them. The
 * delay is capped at SQS's 900 s, as in AWS (never rounded: tests may use ms).
 */
import { AI_TURN_DUE, type AiTurnDue, timerEnvelope } from '../../../schemas/automation-timers.js';
import type { TurnQueue } from '../../core/ai-ports.js';

/** SQS's longest message delay. */
const MAX_DELAY_MS = 900_000;

export interface LocalTurnTimersOptions {
  log?: (line: string) => void;
}

export class LocalTurnTimers implements TurnQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(
    private readonly deliver: (body: string) => void | Promise<void>,
    options: LocalTurnTimersOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
  }

  async enqueue(due: AiTurnDue, delayMs: number): Promise<void> {
    if (this.stopped) {
      this.log(`ai turns: stopped, dropping the turn of ${due.wamid}`);
      return;
    }
    const body = JSON.stringify(timerEnvelope(AI_TURN_DUE, due));
    const delay = Number.isFinite(delayMs) ? Math.min(MAX_DELAY_MS, Math.max(0, delayMs)) : delayMs > 0 ? MAX_DELAY_MS : 0;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      void (async () => this.deliver(body))().catch((error: unknown) => {
        this.log(`ai turns: the turn of ${due.wamid} could not be delivered: ${(error as Error)?.message ?? String(error)}`);
      });
    }, delay);
    timer.unref?.();
    this.timers.add(timer);
  }

  /** Turns waiting for their delay. */
  get pending(): number {
    return this.timers.size;
  }

  /** Cancels every pending turn; later ones are dropped. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
