/**
 * `WhatsApp Message Status Updated` v1 (docs/events.md): one per status of an
 * outbound message (`sent`, `delivered`, `read`, `failed`, or any other Meta
 * sends), published by the webhook. Routed to the inbox, and to the
 * broadcasts when `broadcastId` is set.
 */
import * as z from 'zod';
import { messageStatus } from '../meta-webhook.js';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';

/** Meta's status item, loose (see `message-received.ts`). */
export const metaStatusItem = messageStatus;

export const messageStatusUpdated = numberContext.extend({
  status: metaStatusItem,
  /** Recovered from `biz_opaque_callback_data` (`bc:{broadcastId}`) when the message belonged to a broadcast. */
  broadcastId: z.string().optional(),
});
export type MessageStatusUpdated = z.infer<typeof messageStatusUpdated>;

export const messageStatusUpdatedContract = {
  name: 'message-status-updated',
  source: SOURCES.webhook,
  detailType: 'WhatsApp Message Status Updated',
  version: 1,
  schema: messageStatusUpdated,
} as const satisfies EventContract;
