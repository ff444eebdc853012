/**
 * `WhatsApp Message Recorded` v1 (docs/events.md): one per message Meta tells
 * us about that is NOT a new inbound message: what the business typed in the
 * WhatsApp Business app on a number in coexistence (`smb_message_echoes`,
 * `source: 'business_app'`, always `out`) and the app's past threads sent once
 * at onboarding (`history`, `source: 'history'`, `in` or `out`). Published by
 * the webhook, routed to the inbox ONLY: it never opens the 24-hour window,
 * counts as unread, or triggers automations, integrations or outgoing webhooks.
 *
 * `message` is Meta's own item, loose (see `message-received.ts`); `eventId`
 * is `rec:{wamid}`, so a redelivery, or the same wamid as echo and history,
 * dedupes.
 */
import * as z from 'zod';
import { inboundMessageBase } from '../meta-message.js';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';

export const RECORDED_SOURCES = ['business_app', 'history'] as const;
export type RecordedSource = (typeof RECORDED_SOURCES)[number];

/** Who the conversation is with (the user, never the business): phone (`waId`) and/or business-scoped user id. */
export const recordedContact = z.object({
  waId: z.string().optional(),
  userId: z.string().optional(),
});

export const messageRecorded = numberContext.extend({
  source: z.enum(RECORDED_SOURCES),
  /** `in`: the user wrote it; `out`: the business did (in the app). */
  direction: z.enum(['in', 'out']),
  contact: recordedContact,
  /** Meta's item (`from`, `to` for echoes, `id`, `timestamp`, `type`, its body, `history_context` for history). */
  message: inboundMessageBase,
  /** The history thread's id (the user's wa_id) when `source` is `history`. */
  threadId: z.string().optional(),
});
export type MessageRecorded = z.infer<typeof messageRecorded>;

export const messageRecordedContract = {
  name: 'message-recorded',
  source: SOURCES.webhook,
  detailType: 'WhatsApp Message Recorded',
  version: 1,
  schema: messageRecorded,
} as const satisfies EventContract;
