/**
 * The inbox consumer: SQS batches of bus events (messages received, statuses)
 * from the `inbox` rule, each record parsed and processed on its own in the
 * one consumer shell (`functions/commons/sqs-consumer.ts`). The Lambda
 * handler and the local runtime's bus build it here with their adapters.
 */
import { busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { processInboxEvent } from '../core/inbox-consumer.js';
import type { InboxConsumerDeps } from '../core/inbox-ports.js';
import { inboxRecordBody } from './events.js';

export function makeInboxHandler(deps: InboxConsumerDeps) {
  return sqsConsumer({ name: 'inbox', body: inboxRecordBody, process: (event) => processInboxEvent(deps, event), describe: busEventKeys });
}
