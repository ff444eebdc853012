/**
 * Live updates for the dashboard (a WebSocket API in AWS, `ws://…/ws` in the
 * local runtime): what happened in the inbox, pushed to every connection of
 * the account allowed to see the number (`number-access.ts`).
 *
 * Delivery is best effort and at least once: an update repeats when its
 * event is redelivered, so a client upserts by `conversationId` / `wamid`.
 * A failed push never fails the write that caused it.
 */
import type { ConversationView, MessageView } from '../../schemas/inbox.js';

export type LiveUpdate =
  | { type: 'message.created' | 'message.updated'; accountId: string; whatsapp_phno: string; conversationId: string; message: MessageView }
  | { type: 'conversation.updated'; accountId: string; whatsapp_phno: string; conversationId: string; conversation: ConversationView };

export interface LiveUpdates {
  publish(update: LiveUpdate): Promise<void>;
  /**
   * Whether any connection of the account may see the number right now: a
   * publisher that must read something back first (a status's message) asks,
   * and skips the read when nobody listens. Absent: assume someone does.
   */
  listens?(accountId: string, whatsappPhno: string): Promise<boolean>;
}

/** No dashboard listening (tests, tools): updates go nowhere. */
export const noLiveUpdates: LiveUpdates = { publish: () => Promise.resolve(), listens: () => Promise.resolve(false) };
