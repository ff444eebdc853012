/**
 * What the automation consumer reads from one SQS record of the automation
 * queue: the EventBridge event the `automation` rule forwarded, a received
 * message parsed with the inbox's tolerant schema (a username-only user has
 * no `from`). Other detail types are `ignored`; a record that does not parse
 * is malformed and goes the way of every failed record
 * (`functions/commons/sqs-consumer.ts`).
 */
import { DETAIL_TYPES } from '../../schemas/events.js';
import { inboxMessageReceived } from '../../schemas/inbox.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { type AutomationEvent, MalformedAutomationRecord } from '../core/automation-consumer.js';

export const automationRecordBody = busEventBody({
  [DETAIL_TYPES.messageReceived]: { kind: 'received', schema: inboxMessageReceived },
});

export function parseAutomationRecord(body: string): AutomationEvent {
  return parseRecordBody(automationRecordBody, body, (message) => new MalformedAutomationRecord(message));
}
