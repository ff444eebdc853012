/**
 * Pacing of the broadcast sender (`sender.ts`): sends spaced evenly at the
 * number's throughput, a few in flight at once.
 */

/**
 * Spaces sends evenly at `perSecond` (no bursts): each send takes the next
 * slot. `pause` pushes every later slot back (the number was throttled).
 */
export class SendPacer {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.intervalMs = 1000 / perSecond;
  }

  async take(): Promise<void> {
    const current = this.nowMs();
    const slot = Math.max(current, this.next);
    this.next = slot + this.intervalMs;
    if (slot > current) await this.sleep(slot - current);
  }

  pause(ms: number): void {
    this.next = Math.max(this.next, this.nowMs() + ms);
  }
}

/** Runs `task` over `items`, at most `concurrency` at once; the first error is thrown once every started task is over. */
export async function forEachConcurrently<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length && firstError === undefined) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}
