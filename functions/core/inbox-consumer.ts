/**
 * The inbox consumer: bus events of messages received on a number, of
 * messages recorded on it (echoes from the WhatsApp Business app, history)
 * and of statuses of messages sent from it become contacts, conversations and
 * messages (the rules of order and repeats are in `inbox-ports.ts`).
 *
 * - An edit or a deletion changes its original (`recordAmendment`), never a
 *   message of its own; a new message applies what came before it.
 * - A message with `group_id` belongs to the group's conversation on the
 *   number (`groupContactKey`), its member shown as `from`; the member's own
 *   conversation and contact are left alone.
 * - The sender is `from` (or `from_user_id`), by the one rule of `senderOf`.
 */
import type { InboxMessageReceived, InboxMessageRecorded, InboxStatusUpdated, MessageStatus } from '../../schemas/inbox.js';
import { groupContactKey } from '../../schemas/whatsapp-ids.js';
import { type ContactIdentity, contactIdentity, senderOf } from './contact-id.js';
import { MessageNotRecorded } from './backend-failures.js';
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
import { adReferralOf, amendmentOf, displayText, metaErrorCode, metaTime, nonEmpty, preview, storedType } from './message-content.js';

/** What one bus record asks of the inbox. */
export type InboxEvent =
  | { kind: 'received'; detail: InboxMessageReceived }
  | { kind: 'recorded'; detail: InboxMessageRecorded }
  | { kind: 'status'; detail: InboxStatusUpdated }
  | { kind: 'ignored'; detailType: string };

export type InboxOutcome = 'recorded' | 'duplicate' | 'applied' | 'pending' | 'stale' | 'ignored';

export async function processInboxEvent(deps: InboxConsumerDeps, event: InboxEvent): Promise<InboxOutcome> {
  switch (event.kind) {
    case 'received':
      return recordReceivedMessage(deps, event.detail);
    case 'recorded':
      return recordRecordedMessage(deps, event.detail);
    case 'status':
      return recordStatusUpdate(deps, event.detail);
    default:
      return 'ignored';
  }
}

/**
 * One inbound message: its contact, the message itself, and its conversation;
 * a group's message goes to the group's conversation; an edit or a deletion
 * changes the message it names instead.
 */
export async function recordReceivedMessage(deps: InboxConsumerDeps, detail: InboxMessageReceived): Promise<'recorded' | 'duplicate' | 'applied' | 'pending'> {
  const { message, contact } = detail;
  const timestamp = metaTime(message.timestamp, detail.receivedAt);
  const amended = await recordIfAmendment(deps, detail.phoneNumberId, message, timestamp);
  if (amended) return amended;
  const sender = senderOf(message, contact);
  // A group's message: the group's conversation, the member as `from`; no contact is touched, no ad attributed.
  const groupId = nonEmpty(message.group_id);
  const identity = groupId ? { contactKey: groupContactKey(groupId) } : await resolveIdentity(deps, detail.accountId, detail.whatsapp_phno, sender);
  const ref: ConversationRef = { accountId: detail.accountId, whatsappPhno: detail.whatsapp_phno, contactKey: identity.contactKey };
  const contactName = groupId ? undefined : sender.name;
  const text = displayText(message);

  if (!groupId) await deps.inbox.recordContact({ ...ref, identity, name: contactName, seenAt: timestamp });
  const outcome = await deps.inbox.recordInbound({
    ...ref,
    phoneNumberId: detail.phoneNumberId,
    eventId: detail.eventId,
    identity,
    rawWaId: groupId ? undefined : sender.waId,
    contactName,
    wamid: message.id,
    messageType: storedType(message.type),
    text,
    timestamp,
    content: message,
    receivedAt: detail.receivedAt,
    ...(groupId ? { group: { groupId, from: sender } } : {}),
  });
  // Runs on duplicates too (idempotent): an edit or deletion that came first, or a delivery that failed half-way.
  await deps.inbox.applyAmendments(detail.phoneNumberId, message.id);
  // CTWA attribution is the default number's (features.ts); the role is the one the webhook stamped on the
  // event, so a redelivery decides as the first delivery did. Elsewhere the referral stays in `content` only.
  const adReferral = !groupId && isFeatureAvailable({ isDefault: detail.isDefaultNumber }, 'ctwa') ? adReferralOf(message, timestamp) : undefined;
  // Runs on duplicates too: forward-only and idempotent, it completes a delivery that failed half-way.
  if (adReferral) await deps.inbox.attributeAdReferral(ref, adReferral);
  await deps.inbox.advanceConversation({
    ...ref,
    lastMessage: { at: timestamp, wamid: message.id, preview: preview(text), direction: 'in' },
    windowOpenUntil: new Date(Date.parse(timestamp) + SERVICE_WINDOW_MS).toISOString(),
    contactName,
    // A new message reopens a resolved or snoozed conversation (never one resolved after it); the read receipt names the latest.
    reopenAt: timestamp,
    lastInbound: { at: timestamp, wamid: message.id },
    ...(adReferral ? { adReferral, freeEntryUntil: new Date(Date.parse(timestamp) + FREE_ENTRY_WINDOW_MS).toISOString() } : {}),
  });
  return outcome;
}

/**
 * An echo (what the business typed in the WhatsApp Business app) or a message
 * of the app's history: stored in its conversation (created if missing) in
 * Meta's time order, never unread, never opening or moving the 24-hour
 * window, never an agent's reply. An echoed edit or deletion changes its original.
 */
export async function recordRecordedMessage(deps: InboxConsumerDeps, detail: InboxMessageRecorded): Promise<'recorded' | 'duplicate' | 'applied' | 'pending'> {
  const { message } = detail;
  const timestamp = metaTime(message.timestamp, detail.receivedAt);
  const amended = await recordIfAmendment(deps, detail.phoneNumberId, message, timestamp);
  if (amended) return amended;
  const groupId = nonEmpty(message.group_id);
  const fromUser = detail.direction === 'in' ? senderOf(message) : {};
  const identity = groupId
    ? { contactKey: groupContactKey(groupId) }
    : await resolveIdentity(deps, detail.accountId, detail.whatsapp_phno, {
        waId: detail.contact.waId ?? fromUser.waId ?? detail.threadId,
        userId: detail.contact.userId ?? fromUser.userId,
      });
  const ref: ConversationRef = { accountId: detail.accountId, whatsappPhno: detail.whatsapp_phno, contactKey: identity.contactKey };
  const text = displayText(message);
  if (!groupId && detail.direction === 'in') await deps.inbox.recordContact({ ...ref, identity, seenAt: timestamp });
  const outcome = await deps.inbox.recordRecorded({
    ...ref,
    phoneNumberId: detail.phoneNumberId,
    eventId: detail.eventId,
    identity,
    ...(!groupId && (detail.contact.waId ?? fromUser.waId) ? { rawWaId: detail.contact.waId ?? fromUser.waId } : {}),
    wamid: message.id,
    messageType: storedType(message.type),
    text,
    timestamp,
    content: message,
    receivedAt: detail.receivedAt,
    source: detail.source,
    direction: detail.direction,
    status: detail.direction === 'in' ? 'received' : historyStatus(message.history_context),
    ...(groupId ? { group: { groupId, from: senderOf(message) } } : {}),
  });
  await deps.inbox.applyAmendments(detail.phoneNumberId, message.id);
  // Forward-only like every message; no window, no unread, no agent reply.
  await deps.inbox.advanceConversation({ ...ref, lastMessage: { at: timestamp, wamid: message.id, preview: preview(text), direction: detail.direction } });
  return outcome;
}

/** The status a business message of the history shows (Meta's `history_context.status`); an echo is `sent`. */
function historyStatus(context: unknown): MessageStatus {
  const status = context && typeof context === 'object' ? (context as { status?: unknown }).status : undefined;
  switch (typeof status === 'string' ? status.toUpperCase() : '') {
    case 'READ':
    case 'PLAYED':
      return 'read';
    case 'DELIVERED':
      return 'delivered';
    case 'ERROR':
    case 'FAILED':
      return 'failed';
    case 'PENDING':
      return 'accepted';
    default:
      return 'sent';
  }
}

/** An edit or a deletion: kept and applied to its original (now or when it arrives); undefined for any other message. */
async function recordIfAmendment(
  deps: InboxConsumerDeps,
  phoneNumberId: string,
  message: { id: string; type: string } & Record<string, unknown>,
  at: string,
): Promise<'applied' | 'pending' | undefined> {
  const amendment = amendmentOf(message);
  if (!amendment) return undefined;
  return deps.inbox.recordAmendment({ phoneNumberId, wamid: message.id, at, ...amendment });
}

/** One status of an outbound message: moves it forward, or creates it when the status came first. */
export async function recordStatusUpdate(deps: InboxConsumerDeps, detail: InboxStatusUpdated): Promise<'applied' | 'stale' | 'ignored'> {
  const { status } = detail;
  const name = status.status as MessageStatus;
  if (!(name in STATUS_RANK) || name === 'received' || name === 'accepted') return 'ignored';
  // The recipient only matters when the status comes before its send was recorded. A group's status names
  // the group (never a phone number, never a contact): it is filed in the group's conversation.
  const groupId = status.recipient_type === 'group' ? nonEmpty(status.recipient_id) : undefined;
  const identity = groupId
    ? { contactKey: groupContactKey(groupId) }
    : await resolveIdentity(deps, detail.accountId, detail.whatsapp_phno, {
        waId: status.recipient_id,
        userId: status.recipient_user_id,
      }).catch(() => undefined);
  const firstError = status.errors?.[0];
  const recorded = deps.inbox.recordStatus({
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
  const named = status.recipient_id !== undefined || status.recipient_user_id !== undefined;
  if (identity || !named) return recorded;
  // A status whose recipient is named but is no number, BSUID or group (a placeholder), of a message never recorded
  // here, has nowhere to go, now or after a retry: ignored, never dead-lettered. (Naming none, it waits for its send.)
  return recorded.catch((error: unknown) => {
    if (error instanceof MessageNotRecorded) return 'ignored' as const;
    throw error;
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
