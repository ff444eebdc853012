/**
 * The broadcast sender: consumes the send queue, one chunk per message
 * (`{accountId, broadcastId, chunk}`), and sends it paced to the number's
 * throughput (`functions/core/sender.ts`). A chunk that cannot finish now
 * (another run still sending part of it, a transient failure) is reported
 * failed and comes back after the visibility timeout; everything it already
 * did is kept and never done twice.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sendChunkMessage } from '../../schemas/broadcasts.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { createGraphClient } from '../adapters/graph/graph-client.js';
import { dynamoConfig } from '../commons/config.js';
import { logger } from '../commons/observability.js';
import { eventPublisher } from '../commons/publisher.js';
import { processChunk } from '../core/sender.js';
import { createSenderDeps } from './deps.js';

const config = dynamoConfig();
const deps = createSenderDeps(
  createDocumentClient({ tableName: config.TABLE_NAME, endpoint: config.DYNAMODB_ENDPOINT, region: config.AWS_REGION }),
  config.TABLE_NAME,
  // The publisher is resolved per call: the local runtime injects its bus after this module loaded.
  { messaging: createGraphClient(), events: { publish: (events) => eventPublisher().publish(events) } },
);

async function recordHandler(record: SQSRecord): Promise<void> {
  const message = sendChunkMessage.safeParse(safeJson(record.body));
  if (!message.success) {
    // Retrying cannot fix it: logged and dropped rather than retried into the DLQ.
    logger.error('malformed send-queue message', { messageId: record.messageId, issues: message.error.issues });
    return;
  }
  try {
    const outcome = await processChunk(deps, message.data);
    logger.info('chunk processed', { ...message.data, ...outcome });
  } catch (error) {
    const retryable = (error as { retryable?: boolean }).retryable === true;
    (retryable ? logger.info : logger.error).call(logger, 'chunk not finished', { ...message.data, error: error as Error });
    throw error;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
}).use(injectLambdaContext(logger, { resetKeys: true }));
