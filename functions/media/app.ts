/**
 * The media consumer: SQS batches of bus events (media messages received,
 * echoed or in the history) from the `media` rule, each record's file
 * fetched from the Graph API, checked and stored in the one consumer shell
 * (`functions/commons/sqs-consumer.ts`). A file refused for good (a SHA-256
 * mismatch, a media id Meta refuses, too large) is logged as an error and
 * counted (`MediaRejected`, and `MediaSha256Mismatches`), and the record
 * succeeds: retrying cannot help. The Lambda handler and the local runtime's
 * bus build it here with their adapters.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { logger, metrics } from '../commons/observability.js';
import { type SqsHandler, busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { type MediaConsumerDeps, type MediaEvent, processMediaEvent } from '../core/inbound-media.js';
import { mediaRecordBody } from './events.js';

export function makeMediaHandler(deps: MediaConsumerDeps): SqsHandler {
  const consumer = sqsConsumer({
    name: 'media',
    body: mediaRecordBody,
    describe: (event) => ({ ...busEventKeys(event), ...(event.kind === 'ignored' ? {} : { wamid: event.detail.message.id }) }),
    process: async (event: MediaEvent) => {
      const outcome = await processMediaEvent(deps, event);
      if (outcome.outcome === 'failed') {
        const { message: reason, ...rest } = outcome;
        logger.error('media refused', { ...busEventKeys(event), ...(event.kind === 'ignored' ? {} : { wamid: event.detail.message.id }), ...rest, reason });
        metrics.addMetric('MediaRejected', MetricUnit.Count, 1);
        if (outcome.code === 'SHA256_MISMATCH') metrics.addMetric('MediaSha256Mismatches', MetricUnit.Count, 1);
      } else if (outcome.outcome === 'stored') {
        metrics.addMetric('MediaStoredBytes', MetricUnit.Bytes, outcome.sizeBytes);
      }
      return outcome;
    },
  });
  return async (event: SQSEvent, context: Context) => {
    try {
      return await consumer(event, context);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
