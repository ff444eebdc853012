/** Powertools Logger and Metrics, one per container, configured by POWERTOOLS_* env variables. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { PublishProblem } from '../core/ports.js';

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

/** The EventBridge publisher's observer (`onProblem`): a log line per problem, and the metrics the alarms watch. */
export function reportPublishProblem(problem: PublishProblem): void {
  switch (problem.kind) {
    case 'oversize':
      logger.error('event larger than EventBridge accepts; the delivery will be refused so Meta redelivers', { ...problem });
      metrics.addMetric('OversizeEvents', MetricUnit.Count, 1);
      return;
    case 'entry-failed':
      (problem.final ? logger.error : logger.warn).call(logger, 'PutEvents refused an entry', { ...problem });
      if (problem.final) metrics.addMetric('PublishFailedEntries', MetricUnit.Count, 1);
      return;
    case 'request-failed':
      (problem.final ? logger.error : logger.warn).call(logger, 'PutEvents request failed', { ...problem });
      if (problem.final) metrics.addMetric('PublishFailedEntries', MetricUnit.Count, problem.entries);
      return;
  }
}

/** A live update (`withLiveUpdates`) that could not be pushed: logged, never failing the write it followed. */
export function reportLiveUpdateFailure(error: unknown, update: { type: string; accountId: string; whatsappPhno: string }): void {
  logger.warn('live update not pushed', { ...update, error: error as Error });
}
