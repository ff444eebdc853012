/**
 * The inbox consumer: bus events of messages received on a number and of
 * statuses of messages sent from it become contacts, conversations and
 * messages (the rules of order and repeats are in `inbox-ports.ts`).
 */
import type { InboxMessageReceived, InboxStatusUpdated, MessageStatus } from '../../schemas/inbox.js';
import { type ContactIdentity, contactIdentity } from './contact-id.js';
import { ValidationFailed } from './errors.js';
import { isFeatureAvailable } from './features.js';
import {
  type ConversationRef,
  FREE_ENTRY_WINDOW_MS,
  type InboxConsumerDeps,
  type OutboundMessage,
  SERVICE_WINDOW_MS,
  STATUS_RANK,
} from './inbox-ports.js';
import { adReferralOf, displayText, metaErrorCode, metaTime, nonEmpty, preview, storedType } from './message-content.js';

/** What one bus record asks of the inbox. */
export type InboxEvent =
  | { kind: 'received'; detail: InboxMessageReceived }
  | { kind: 'status'; detail: InboxStatusUpdated }
  | { kind: 'ignored'; detailType: string };

export type InboxOutcome = 'recorded' | 'duplicate' | 'applied' | 'stale' | 'ignored';

export async function processInboxEvent(deps: InboxConsumerDeps, event: InboxEvent): Promise<InboxOutcome> {
  switch (event.kind) {
    case 'received':
      return recordReceivedMessage(deps, event.detail);
    case 'status':
      return recordStatusUpdate(deps, event.detail);
    default:
      return 'ignored';
  }
}

/** One inbound message: its contact, the message itself, and its conversation. */
export async function recordReceivedMessage(deps: InboxConsumerDeps, detail: InboxMessageReceived): Promise<'recorded' | 'duplicate'> {
  const { message, contact } = detail;
  const rawWaId = contact?.wa_id ?? message.from;
  const identity = await resolveIdentity(deps, detail.accountId, detail.whatsapp_phno, {
    waId: rawWaId,
    userId: contact?.user_id ?? message.from_user_id,
  });
  const ref: ConversationRef = { accountId: detail.accountId, whatsappPhno: detail.whatsapp_phno, contactKey: identity.contactKey };
  const timestamp = metaTime(message.timestamp, detail.receivedAt);
  const contactName = nonEmpty(contact?.profile?.name);
  const messageType = storedType(message.type);
  const text = displayText(message);

  await deps.inbox.recordContact({ ...ref, identity, name: contactName, seenAt: timestamp });
  const outcome = await deps.inbox.recordInbound({
    ...ref,
    phoneNumberId: detail.phoneNumberId,
    eventId: detail.eventId,
    identity,
    rawWaId: rawWaId ?? undefined,
    contactName,
    wamid: message.id,
    messageType,
    text,
    timestamp,
    content: message,
    receivedAt: detail.receivedAt,
  });
  // CTWA attribution is the default number's (features.ts); the role is the one the webhook stamped on the
  // event, so a redelivery decides as the first delivery did. Elsewhere the referral stays in `content` only.
  const adReferral = isFeatureAvailable({ isDefault: detail.isDefaultNumber }, 'ctwa') ? adReferralOf(message, timestamp) : undefined;
  // Runs on duplicates too: forward-only and idempotent, it completes a delivery that failed half-way.
  if (adReferral) await deps.inbox.attributeAdReferral(ref, adReferral);
  await deps.inbox.advanceConversation({
    ...ref,
    lastMessage: { at: timestamp, wamid: message.id, preview: preview(text), direction: 'in' },
    windowOpenUntil: new Date(Date.parse(timestamp) + SERVICE_WINDOW_MS).toISOString(),
    contactName,
    ...(adReferral ? { adReferral, freeEntryUntil: new Date(Date.parse(timestamp) + FREE_ENTRY_WINDOW_MS).toISOString() } : {}),
  });
  return outcome;
}

/** One status of an outbound message: moves it forward, or creates it when the status came first. */
export async function recordStatusUpdate(deps: InboxConsumerDeps, detail: InboxStatusUpdated): Promise<'applied' | 'stale' | 'ignored'> {
  const { status } = detail;
  const name = status.status as MessageStatus;
  if (!(name in STATUS_RANK) || name === 'received' || name === 'accepted') return 'ignored';
  // The recipient only matters when the status comes before its send was recorded.
  const identity = await resolveIdentity(deps, detail.accountId, detail.whatsapp_phno, {
    waId: status.recipient_id,
    userId: status.recipient_user_id,
  }).catch(() => undefined);
  const firstError = status.errors?.[0];
  return deps.inbox.recordStatus({
    accountId: detail.accountId,
    whatsappPhno: detail.whatsapp_phno,
    ...(identity ? { contactKey: identity.contactKey } : {}),
    phoneNumberId: detail.phoneNumberId,
    wamid: status.id,
    status: name,
    rank: STATUS_RANK[name],
    at: metaTime(status.timestamp, detail.receivedAt),
    ...(name === 'failed' ? { error: { code: metaErrorCode(firstError?.code), title: firstError?.title ?? firstError?.message ?? null } } : {}),
    ...(status.biz_opaque_callback_data ? { bizOpaqueCallbackData: status.biz_opaque_callback_data } : {}),
    ...(detail.broadcastId ? { broadcastId: detail.broadcastId } : {}),
  });
}

/**
 * Stores a message we sent (a reply here, a broadcast elsewhere) and moves its
 * conversation forward. Safe to call after its statuses were already recorded.
 */
export async function recordOutboundMessage(deps: InboxConsumerDeps, message: OutboundMessage): Promise<void> {
  await deps.inbox.recordOutbound(message);
  await deps.inbox.advanceConversation({
    accountId: message.accountId,
    whatsappPhno: message.whatsappPhno,
    contactKey: message.contactKey,
    lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: 'out' },
  });
}

async function resolveIdentity(
  deps: InboxConsumerDeps,
  accountId: string,
  whatsappPhno: string,
  given: { waId?: string | null; userId?: string | null },
): Promise<ContactIdentity> {
  const identity = contactIdentity(given);
  if (!identity) {
    throw new ValidationFailed([{ path: ['detail', 'contact'], message: 'The event names no WhatsApp number or business-scoped user id.', code: 'invalid_type' }]);
  }
  if (identity.waId || !identity.userId) return identity;
  // A username-only user we once saw with a number stays the contact we know.
  const known = await deps.inbox.contactKeyForUserId(accountId, whatsappPhno, identity.userId);
  return known ? { ...identity, contactKey: known, waId: known } : identity;
}
