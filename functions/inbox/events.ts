/**
 * What the inbox consumer reads from one SQS record of the inbox queue: the
 * EventBridge event the `inbox` rule forwarded, received messages, recorded
 * ones (echoes, history) and statuses parsed with the inbox's (more
 * tolerant) schemas. Other detail
 * types are `ignored`; a record that does not parse is malformed and goes the
 * way of every failed record (`functions/commons/sqs-consumer.ts`).
 */
import { DETAIL_TYPES } from '../../schemas/events.js';
import { inboxMessageReceived, inboxMessageRecorded, inboxStatusUpdated } from '../../schemas/inbox.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { MalformedInboxRecord } from '../core/backend-failures.js';
import type { InboxEvent } from '../core/inbox-consumer.js';

export const inboxRecordBody = busEventBody({
  [DETAIL_TYPES.messageReceived]: { kind: 'received', schema: inboxMessageReceived },
  [DETAIL_TYPES.messageRecorded]: { kind: 'recorded', schema: inboxMessageRecorded },
  [DETAIL_TYPES.messageStatusUpdated]: { kind: 'status', schema: inboxStatusUpdated },
});

export function parseInboxRecord(body: string): InboxEvent {
  return parseRecordBody(inboxRecordBody, body, (message) => new MalformedInboxRecord(message));
}
