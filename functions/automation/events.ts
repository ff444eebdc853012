/**
 * What the automation consumer reads from one SQS record of the automation
 * queue: the EventBridge event the `automation` rule forwarded, a received
 * message parsed with the inbox's tolerant schema (a username-only user has
 * no `from`), and the two timed messages of `schemas/automation-timers.ts`
 * (an AI turn due after its debounce window, a sequence step due). Other
 * detail types are `ignored`; a record that does not parse
 * is malformed and goes the way of every failed record
 * (`functions/commons/sqs-consumer.ts`).
 */
import { AI_TURN_DUE, SEQUENCE_STEP_DUE, aiTurnDue, sequenceStepDue } from '../../schemas/automation-timers.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { inboxMessageReceived } from '../../schemas/inbox.js';
import { busEventBody, parseRecordBody } from '../commons/sqs-consumer.js';
import { type AutomationEvent, MalformedAutomationRecord } from '../core/automation-consumer.js';

export const automationRecordBody = busEventBody({
  [DETAIL_TYPES.messageReceived]: { kind: 'received', schema: inboxMessageReceived },
  [AI_TURN_DUE]: { kind: 'aiTurnDue', schema: aiTurnDue },
  [SEQUENCE_STEP_DUE]: { kind: 'sequenceStepDue', schema: sequenceStepDue },
});

export function parseAutomationRecord(body: string): AutomationEvent {
  return parseRecordBody(automationRecordBody, body, (message) => new MalformedAutomationRecord(message));
}
