/**
 * The broadcast sender: consumes the send queue, one chunk per message
 * (`{accountId, broadcastId, chunk}`), and sends it paced to the number's
 * throughput (`functions/core/sender.ts`), in the one consumer shell
 * (`functions/commons/sqs-consumer.ts`). A chunk that cannot finish now
 * (another run still sending part of it, a transient failure) fails and comes
 * back after the visibility timeout; everything it already did is kept and
 * never done twice. The Lambda handler and the local send queue build it here.
 */
import { sendChunkMessage } from '../../schemas/broadcasts.js';
import { sqsConsumer } from '../commons/sqs-consumer.js';
import { processChunk } from '../core/sender.js';
import type { SenderDeps } from '../core/sender-ports.js';

export function makeSenderHandler(deps: SenderDeps) {
  return sqsConsumer({
    name: 'sender',
    body: sendChunkMessage,
    process: (message) => processChunk(deps, message),
    describe: ({ accountId, broadcastId, chunk }) => ({ accountId, broadcastId, chunk }),
    outcomeLevel: 'info',
  });
}
