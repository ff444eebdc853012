/**
 * The broadcast consumer: SQS batches of bus events from the `broadcast` rule
 * (broadcast requests, statuses of broadcast messages, replies to them,
 * template status updates, users' marketing preferences), each record parsed and processed on its own in
 * the one consumer shell (`functions/commons/sqs-consumer.ts`). The Lambda
 * handler and the local runtime's bus build it here with their adapters.
 */
import { busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { processBroadcastEvent } from '../core/broadcast-consumer.js';
import type { BroadcastConsumerDeps } from '../core/broadcast-ports.js';
import { broadcastRecordBody } from './events.js';

export function makeBroadcastHandler(deps: BroadcastConsumerDeps) {
  return sqsConsumer({ name: 'broadcast', body: broadcastRecordBody, process: (event) => processBroadcastEvent(deps, event), describe: busEventKeys });
}
