/**
 * What the broadcast consumer reads from one SQS record of the broadcast
 * queue: the EventBridge event the `broadcast` rule forwarded (requests,
 * statuses, replies, template statuses, users' marketing preferences). Detail types
 * this consumer does not handle are `ignored`; a record that does not parse
 * is malformed and goes the way of every failed record
 * (`functions/commons/sqs-consumer.ts`).
 */
import { DETAIL_TYPES } from '../../schemas/events.js';
import { broadcastRequested } from '../../schemas/events/broadcast-requested.js';
import { messageReceived } from '../../schemas/events/message-received.js';
import { messageStatusUpdated } from '../../schemas/events/message-status-updated.js';
import { templateStatusUpdated } from '../../schemas/events/template-status-updated.js';
import { userPreferencesUpdated } from '../../schemas/events/user-preferences-updated.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import type { BroadcastEvent } from '../core/broadcast-consumer.js';
import { MalformedBroadcastRecord } from '../core/backend-failures.js';

export { MalformedBroadcastRecord };

export const broadcastRecordBody = busEventBody({
  [DETAIL_TYPES.broadcastRequested]: { kind: 'requested', schema: broadcastRequested },
  [DETAIL_TYPES.messageStatusUpdated]: { kind: 'status', schema: messageStatusUpdated },
  [DETAIL_TYPES.messageReceived]: { kind: 'reply', schema: messageReceived },
  [DETAIL_TYPES.templateStatusUpdated]: { kind: 'template', schema: templateStatusUpdated },
  [DETAIL_TYPES.userPreferencesUpdated]: { kind: 'preference', schema: userPreferencesUpdated },
});

export function parseBroadcastRecord(body: string): BroadcastEvent {
  return parseRecordBody(broadcastRecordBody, body, (message) => new MalformedBroadcastRecord(message));
}
