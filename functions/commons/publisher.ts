/**
 * Which bus a function publishes to, chosen by configuration so handler code
 * is the same in AWS and locally:
 * - `EVENT_BUS_NAME` set (AWS): EventBridge, one client per container;
 * - the local runtime (`local/runtime.ts`) calls `setPublisher(bus)` with its
 *   in-process bus before it loads any handler. Only `local/` and tests call it.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher, type PublishProblem, createEventBridgeClient } from '../adapters/eventbridge/publisher.js';
import type { EventPublisher } from '../core/ports.js';
import { parseConfig } from './config.js';
import { logger, metrics } from './observability.js';
import * as z from 'zod';

let injected: EventPublisher | undefined;
let fromConfig: EventPublisher | undefined;

/** Replaces the configured publisher (the local runtime's bus, a test double); `undefined` restores it. */
export function setPublisher(publisher: EventPublisher | undefined): void {
  injected = publisher;
}

/** The publisher for this container; fails with the variable's name when none is configured. */
export function eventPublisher(env: NodeJS.ProcessEnv = process.env): EventPublisher {
  if (injected) return injected;
  if (!fromConfig) {
    const config = parseConfig(z.object({ EVENT_BUS_NAME: z.string().min(1), AWS_REGION: z.string().optional() }), env);
    fromConfig = new EventBridgePublisher(createEventBridgeClient(config.AWS_REGION), config.EVENT_BUS_NAME, { onProblem: reportProblem });
  }
  return fromConfig;
}

function reportProblem(problem: PublishProblem): void {
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
