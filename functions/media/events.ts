/**
 * What the media consumer reads from one SQS record of the media queue: the
 * EventBridge event the `media` rule forwarded (messages received, and echoes
 * and history, whose type is a media type), parsed with the inbox's
 * (tolerant) schemas. Other detail types are `ignored`; a record that does
 * not parse is malformed and goes the way of every failed record
 * (`functions/commons/sqs-consumer.ts`).
 */
import { DETAIL_TYPES } from '../../schemas/events.js';
import { inboxMessageReceived, inboxMessageRecorded } from '../../schemas/inbox.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { MalformedRecord } from '../core/backend-failures.js';
import type { MediaEvent } from '../core/inbound-media.js';

export const mediaRecordBody = busEventBody({
  [DETAIL_TYPES.messageReceived]: { kind: 'received', schema: inboxMessageReceived },
  [DETAIL_TYPES.messageRecorded]: { kind: 'recorded', schema: inboxMessageRecorded },
});

export function parseMediaRecord(body: string): MediaEvent {
  return parseRecordBody(mediaRecordBody, body, (message) => new MalformedRecord(message));
}
