/**
 * What the integration consumer reads from one SQS record of the integration
 * queue: the EventBridge event the `integrations` rule forwarded, a received
 * message parsed with the inbox's (tolerant) schema. Other detail types are
 * `ignored`; a record that does not parse is malformed and goes the way of
 * every failed record (`functions/commons/sqs-consumer.ts`).
 */
import { DETAIL_TYPES } from '../../schemas/events.js';
import { inboxMessageReceived } from '../../schemas/inbox.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { MalformedRecord } from '../core/backend-failures.js';
import type { IntegrationEvent } from '../core/integrations.js';

export const integrationRecordBody = busEventBody({
  [DETAIL_TYPES.messageReceived]: { kind: 'received', schema: inboxMessageReceived },
});

export function parseIntegrationRecord(body: string): IntegrationEvent {
  return parseRecordBody(integrationRecordBody, body, (message) => new MalformedRecord(message));
}
