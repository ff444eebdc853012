/**
 * `WhatsApp Message Received` v1 (docs/events.md): one per inbound message,
 * whatever its type, published by the webhook. Routed to the inbox, the
 * automations, and the broadcasts when it quotes a message (`context.id`).
 *
 * `message` is Meta's own item as the webhook parsed it
 * (`schemas/meta-webhook.ts`), held here to its common fields and loose, so a
 * field or message type Meta adds never makes a consumer drop an event; a
 * consumer that wants the typed message parses `message` with `inboundMessage`.
 */
import * as z from 'zod';
import { inboundMessageBase, messageContact } from '../meta-message.js';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';

export const metaMessageItem = inboundMessageBase;
export const metaContactItem = messageContact;

export const messageReceived = numberContext.extend({
  message: metaMessageItem,
  /** The sender's entry of the change's `contacts` (name, wa_id, user_id). */
  contact: metaContactItem.optional(),
});
export type MessageReceived = z.infer<typeof messageReceived>;

export const messageReceivedContract = {
  name: 'message-received',
  source: SOURCES.webhook,
  detailType: 'WhatsApp Message Received',
  version: 1,
  schema: messageReceived,
} as const satisfies EventContract;
