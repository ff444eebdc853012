/**
 * Metrics are flushed once per invocation that recorded some, silently when
 * none were recorded (the handshake; a local invocation whose metrics a
 * concurrent one already flushed). Powertools' `logMetrics` warns each time.
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { publishRecordedMetrics } from '../../functions/commons/observability.js';
import { lambdaContext } from '../../local/http-event.js';

function recordingMetrics() {
  const lines: string[] = [];
  const logger = { warn: (...args: unknown[]) => lines.push(`warn ${args.join(' ')}`), log: (...a: unknown[]) => lines.push(a.join(' ')), info: () => undefined, debug: () => undefined, error: () => undefined };
  const metrics = new Metrics({ namespace: 'test', serviceName: 'test', logger });
  // EMF goes to the instance's own console: capture it to count what was published.
  const emf: Record<string, unknown>[] = [];
  (metrics as unknown as { console: Pick<Console, 'log'> }).console = { log: (line: string) => void emf.push(JSON.parse(line)) };
  return { metrics, emf, warnings: () => lines.filter((l) => l.startsWith('warn')) };
}

const handshake = async () => ({ statusCode: 200 });

describe('publishRecordedMetrics', () => {
  it('says nothing for an invocation that recorded no metric, where logMetrics warns', async () => {
    const ours = recordingMetrics();
    await middy(handshake).use(publishRecordedMetrics(ours.metrics))({}, lambdaContext('webhook'));
    expect(ours.warnings()).toEqual([]);

    const powertools = recordingMetrics();
    await middy(handshake).use(logMetrics(powertools.metrics))({}, lambdaContext('webhook'));
    expect(powertools.warnings().join('\n')).toContain('No application metrics to publish');
  });

  it('flushes what concurrent invocations recorded, once, without warnings', async () => {
    const { metrics, emf, warnings } = recordingMetrics();
    const delivery = middy(async (_event: unknown) => {
      metrics.addMetric('Deliveries', MetricUnit.Count, 1);
      await new Promise((r) => setTimeout(r, 5));
      return { statusCode: 200 };
    }).use(publishRecordedMetrics(metrics));
    await Promise.all(Array.from({ length: 20 }, () => delivery({}, lambdaContext('webhook'))));
    expect(warnings()).toEqual([]);
    const counted = emf.flatMap((line) => [line.Deliveries].flat()).reduce((sum: number, n) => sum + Number(n), 0);
    expect(counted).toBe(20);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});
