/**
 * The inbox consumer: SQS batches of bus events (messages received, statuses)
 * from the `inbox` rule. Each record is processed on its own; failures are
 * reported per record (`batchItemFailures`) so one bad record never makes the
 * whole batch retry. The local runtime's bus calls this same handler.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { dynamoConfig } from '../commons/config.js';
import { logger } from '../commons/observability.js';
import { processInboxEvent } from '../core/inbox.js';
import { createInboxConsumerDeps } from './deps.js';
import { parseInboxRecord } from './events.js';

const config = dynamoConfig();
const deps = createInboxConsumerDeps(
  createDocumentClient({ tableName: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, region: config.AWS_REGION }),
  config.TABLE_NAME,
);

async function recordHandler(record: SQSRecord): Promise<void> {
  try {
    const outcome = await processInboxEvent(deps, parseInboxRecord(record.body));
    logger.debug('inbox record', { messageId: record.messageId, outcome });
  } catch (error) {
    logger.error('inbox record failed', { messageId: record.messageId, error: error as Error });
    throw error;
  }
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // A processor per batch: it holds the batch's state, and the local bus may run batches concurrently.
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}).use(injectLambdaContext(logger, { resetKeys: true }));
