/** The sender's pacing, on a fake clock: evenly spaced slots, pushed back by a throttle. */
import { describe, expect, it } from 'vitest';
import { SendPacer } from '../../functions/core/send-pacing.js';

function fakeTime() {
  let now = 0;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

describe('SendPacer', () => {
  it('spaces sends at 1/rate seconds', async () => {
    const time = fakeTime();
    const pacer = new SendPacer(80, time.sleep, time.now);
    for (let i = 0; i < 5; i++) await pacer.take();
    expect(time.now()).toBeCloseTo(4 * (1000 / 80));
  });

  it('sends 80 in the first second at 80 per second, not more', async () => {
    const time = fakeTime();
    const pacer = new SendPacer(80, time.sleep, time.now);
    let sent = 0;
    while (true) {
      await pacer.take();
      if (time.now() >= 1000) break;
      sent++;
    }
    expect(sent).toBe(80);
  });

  it('waits out a pause before the next send', async () => {
    const time = fakeTime();
    const pacer = new SendPacer(10, time.sleep, time.now);
    await pacer.take();
    pacer.pause(2_000);
    await pacer.take();
    expect(time.now()).toBe(2_000);
  });
});
