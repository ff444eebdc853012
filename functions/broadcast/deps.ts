/**
 * The broadcast consumer's adapters. `createBroadcastConsumerDeps` binds them
 * to a table and a send queue (the local runtime passes its in-process queue,
 * tests a recording one); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoMarketingPreferenceStore } from '../adapters/dynamo/marketing-preferences.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { SqsSendQueue, createSqsClient } from '../adapters/sqs/send-queue.js';
import { sendQueueConfig, tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { BroadcastConsumerDeps, SendQueue } from '../core/broadcast-ports.js';
import type { Clock } from '../core/ports.js';

export function createBroadcastConsumerDeps(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: { sendQueue: SendQueue; clock?: Clock },
): BroadcastConsumerDeps {
  const clock = options.clock ?? systemClock;
  return {
    broadcasts: new DynamoBroadcastRepository(doc, tableName, clock),
    templates: new DynamoTemplateRepository(doc, tableName),
    marketingPreferences: new DynamoMarketingPreferenceStore(doc, tableName),
    sendQueue: options.sendQueue,
    clock,
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): BroadcastConsumerDeps {
  const table = tableConfig(env);
  const queue = sendQueueConfig(env);
  return createBroadcastConsumerDeps(createDocumentClient(table), table.tableName, {
    sendQueue: new SqsSendQueue(createSqsClient(queue.region), queue.queueUrl),
  });
}
