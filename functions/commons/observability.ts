/** Powertools Logger and Metrics, one per container, configured by POWERTOOLS_* env variables. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'whatsapp-multi-number' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'WhatsAppMultiNumber',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'whatsapp-multi-number',
});

/**
 * Flushes the metrics an invocation recorded, as EMF, and nothing when it
 * recorded none (a handshake, or a local invocation whose metrics a
 * concurrent one already flushed: locally one container serves many at
 * once). Powertools' own `logMetrics` warns "No application metrics to
 * publish" on every such call: noise nobody can act on.
 */
export function publishRecordedMetrics(target: Metrics = metrics): MiddlewareObj {
  const flush = async () => {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
