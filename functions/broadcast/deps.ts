import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { SqsSendQueue, createSqsClient } from '../adapters/sqs/send-queue.js';
import { broadcastConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import type { BroadcastConsumerDeps, SendQueue } from '../core/broadcasts.js';
import type { Clock } from '../core/ports.js';

let injected: SendQueue | undefined;
let fromConfig: SendQueue | undefined;

/** Replaces the configured send queue (the local runtime's in-process queue, a test double); `undefined` restores it. */
export function setSendQueue(queue: SendQueue | undefined): void {
  injected = queue;
}

/** The send queue of this container: SQS at `SEND_QUEUE_URL`, unless one was injected. */
export function configuredSendQueue(env: NodeJS.ProcessEnv = process.env): SendQueue {
  if (injected) return injected;
  if (!fromConfig) {
    const url = broadcastConfig(env).SEND_QUEUE_URL;
    if (!url) throw new Error('Invalid configuration: SEND_QUEUE_URL is not set');
    fromConfig = new SqsSendQueue(createSqsClient(env.AWS_REGION), url);
  }
  return fromConfig;
}

/** The broadcast consumer's adapters over one table: the Lambda handler and the tests build them here. */
export function createBroadcastConsumerDeps(
  doc: DynamoDBDocumentClient,
  tableName: string,
  options: { sendQueue?: SendQueue; clock?: Clock } = {},
): BroadcastConsumerDeps {
  const clock = options.clock ?? systemClock;
  return {
    broadcasts: new DynamoBroadcastRepository(doc, tableName, new DynamoQuotaStore(doc, tableName, clock)),
    templates: new DynamoTemplateRepository(doc, tableName),
    // Resolved per call, so the local runtime may inject its queue after this module loaded.
    sendQueue: options.sendQueue ?? { enqueue: (messages) => configuredSendQueue().enqueue(messages) },
    clock,
  };
}
