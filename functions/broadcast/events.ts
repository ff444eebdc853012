/**
 * Reads one SQS record of the broadcast queue: the body is the EventBridge
 * event the `broadcast` rule forwarded. A malformed body throws, so SQS
 * retries it a bounded number of times and then parks it in the DLQ; a detail
 * type this consumer does not handle is answered `ignored`.
 */
import * as z from 'zod';
import { broadcastRequested } from '../../schemas/broadcasts.js';
import { DETAIL_TYPES, messageReceived, messageStatusUpdated, templateStatusUpdated } from '../../schemas/events.js';
import type { BroadcastEvent } from '../core/broadcasts.js';

const envelope = z.looseObject({ source: z.string(), 'detail-type': z.string(), detail: z.unknown() });

export class MalformedBroadcastRecord extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedBroadcastRecord';
  }
}

const DETAILS = {
  [DETAIL_TYPES.broadcastRequested]: { kind: 'requested', schema: broadcastRequested },
  [DETAIL_TYPES.messageStatusUpdated]: { kind: 'status', schema: messageStatusUpdated },
  [DETAIL_TYPES.messageReceived]: { kind: 'reply', schema: messageReceived },
  [DETAIL_TYPES.templateStatusUpdated]: { kind: 'template', schema: templateStatusUpdated },
} as const;

export function parseBroadcastRecord(body: string): BroadcastEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedBroadcastRecord('The record body is not JSON.');
  }
  const event = envelope.safeParse(json);
  if (!event.success) throw new MalformedBroadcastRecord(`Not an EventBridge event: ${event.error.message}`);
  const detailType = event.data['detail-type'];
  const known = DETAILS[detailType as keyof typeof DETAILS];
  if (!known) return { kind: 'ignored', detailType };
  const detail = known.schema.safeParse(event.data.detail);
  if (!detail.success) throw new MalformedBroadcastRecord(`Bad ${detailType} detail: ${detail.error.message}`);
  return { kind: known.kind, detail: detail.data } as BroadcastEvent;
}
