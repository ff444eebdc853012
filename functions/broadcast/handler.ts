/**
 * The broadcast consumer: SQS batches of bus events from the `broadcast`
 * rule (broadcast requests, statuses of broadcast messages, replies to them,
 * template status updates). Each record is processed on its own and failures
 * are reported per record, so one bad record never retries the batch. The
 * local runtime's bus calls this same handler.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { dynamoConfig } from '../commons/config.js';
import { logger } from '../commons/observability.js';
import { processBroadcastEvent } from '../core/broadcasts.js';
import { createBroadcastConsumerDeps } from './deps.js';
import { parseBroadcastRecord } from './events.js';

const config = dynamoConfig();
const deps = createBroadcastConsumerDeps(
  createDocumentClient({ tableName: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, region: config.AWS_REGION }),
  config.TABLE_NAME,
);

async function recordHandler(record: SQSRecord): Promise<void> {
  try {
    const outcome = await processBroadcastEvent(deps, parseBroadcastRecord(record.body));
    logger.debug('broadcast record', { messageId: record.messageId, outcome });
  } catch (error) {
    const retryable = (error as { retryable?: boolean }).retryable === true;
    (retryable ? logger.info : logger.error).call(logger, 'broadcast record failed', { messageId: record.messageId, error: error as Error });
    throw error;
  }
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}).use(injectLambdaContext(logger, { resetKeys: true }));
