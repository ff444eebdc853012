/**
 * Reads one SQS record of the inbox queue: the body is the EventBridge event
 * the `inbox` rule forwarded. Detail types the inbox does not handle are
 * answered `ignored` (the rule should not send them, but a wider pattern must
 * not make records fail); a malformed body throws, so SQS retries it a bounded
 * number of times and then parks it in the dead-letter queue.
 */
import { busEnvelope, inboxMessageReceived, inboxStatusUpdated } from '../../schemas/inbox.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import type { InboxEvent } from '../core/inbox.js';

export class MalformedInboxRecord extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedInboxRecord';
  }
}

export function parseInboxRecord(body: string): InboxEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedInboxRecord('The record body is not JSON.');
  }
  const envelope = busEnvelope.safeParse(json);
  if (!envelope.success) throw new MalformedInboxRecord(`Not an EventBridge event: ${envelope.error.message}`);
  const detailType = envelope.data['detail-type'];
  if (detailType === DETAIL_TYPES.messageReceived) {
    const detail = inboxMessageReceived.safeParse(envelope.data.detail);
    if (!detail.success) throw new MalformedInboxRecord(`Bad ${detailType} detail: ${detail.error.message}`);
    return { kind: 'received', detail: detail.data };
  }
  if (detailType === DETAIL_TYPES.messageStatusUpdated) {
    const detail = inboxStatusUpdated.safeParse(envelope.data.detail);
    if (!detail.success) throw new MalformedInboxRecord(`Bad ${detailType} detail: ${detail.error.message}`);
    return { kind: 'status', detail: detail.data };
  }
  return { kind: 'ignored', detailType };
}
