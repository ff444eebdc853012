/**
 * The dashboard's inbox: lists of contacts, conversations and messages, the
 * reply from a conversation's own number, team assignment and read marks, and
 * the views the API answers with.
 */
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import { Conflict, NotFound, WindowClosed } from './errors.js';
import { recordOutboundMessage } from './inbox-consumer.js';
import type { ConversationRef, InboxDeps, StoredContact, StoredConversation, StoredMessage } from './inbox-ports.js';
import type { Page, PageRequest } from './ports.js';

// ------------------------------------------------------------- use cases

export interface ConversationFilter {
  whatsappPhno?: string;
}

export function listContacts(deps: Pick<InboxDeps, 'inbox'>, accountId: string, filter: ConversationFilter, page: PageRequest) {
  return deps.inbox.listContacts(accountId, filter, page);
}

export function listConversations(deps: Pick<InboxDeps, 'inbox'>, accountId: string, filter: ConversationFilter, page: PageRequest) {
  return deps.inbox.listConversations(accountId, filter, page);
}

export async function requireConversation(deps: Pick<InboxDeps, 'inbox'>, ref: ConversationRef): Promise<StoredConversation> {
  const conversation = await deps.inbox.getConversation(ref);
  if (!conversation) throw new NotFound('The conversation');
  return conversation;
}

export async function listMessages(deps: Pick<InboxDeps, 'inbox'>, ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>> {
  await requireConversation(deps, ref);
  return deps.inbox.listMessages(ref, page);
}

/**
 * A free-form reply, sent from the conversation's own number. Allowed only
 * inside the 24-hour customer service window; Meta's own refusal (131047)
 * maps to the same `WindowClosed`.
 */
export async function sendReply(deps: InboxDeps, ref: ConversationRef, text: string): Promise<{ wamid: string }> {
  const conversation = await requireConversation(deps, ref);
  const now = deps.clock.now();
  if (!conversation.windowOpenUntil || Date.parse(conversation.windowOpenUntil) <= now.getTime()) throw new WindowClosed();
  const number = await deps.inbox.getSendingNumber(ref.accountId, ref.whatsappPhno);
  if (!number) {
    throw new Conflict('NUMBER_NOT_CONNECTED', `The number ${ref.whatsappPhno} is no longer connected; its conversations are read-only.`, {
      whatsapp_phno: ref.whatsappPhno,
    });
  }
  const to = conversation.lastWaId ?? conversation.waId ?? conversation.userId ?? ref.contactKey;
  const sent = await deps.messaging.sendText({ phoneNumberId: number.phoneNumberId, to, text });
  await recordOutboundMessage(deps, {
    ...ref,
    phoneNumberId: number.phoneNumberId,
    identity: {
      contactKey: ref.contactKey,
      ...(conversation.waId ? { waId: conversation.waId } : {}),
      ...(conversation.userId ? { userId: conversation.userId } : {}),
    },
    wamid: sent.wamid,
    messageType: 'text',
    text,
    timestamp: now.toISOString(),
    content: { type: 'text', text: { body: text } },
  });
  return { wamid: sent.wamid };
}

export async function assignConversation(deps: InboxDeps, ref: ConversationRef, teamId: string): Promise<StoredConversation> {
  const team = await deps.accounts.getTeam(ref.accountId, teamId);
  if (!team) throw new NotFound('The team');
  const conversation = await deps.inbox.assignTeam(ref, teamId);
  if (!conversation) throw new NotFound('The conversation');
  return conversation;
}

export async function markConversationRead(deps: Pick<InboxDeps, 'inbox'>, ref: ConversationRef): Promise<StoredConversation> {
  const conversation = await deps.inbox.markRead(ref);
  if (!conversation) throw new NotFound('The conversation');
  return conversation;
}

// ------------------------------------------------------------------ views

export function contactViewOf(contact: StoredContact) {
  return {
    waId: contact.waId ?? null,
    ...(contact.userId ? { userId: contact.userId } : {}),
    name: contact.name ?? null,
    attributes: { ...contact.attributes, whatsapp_phno: contact.whatsappPhno },
    firstSeenAt: contact.firstSeenAt,
    lastSeenAt: contact.lastSeenAt,
  };
}

export function conversationViewOf(conversation: StoredConversation) {
  return {
    conversationId: conversationIdOf(conversation.whatsappPhno, conversation.contactKey),
    whatsapp_phno: conversation.whatsappPhno,
    waId: conversation.waId ?? null,
    ...(conversation.userId ? { userId: conversation.userId } : {}),
    contactName: conversation.contactName ?? null,
    lastMessageAt: conversation.lastMessageAt ?? null,
    lastMessagePreview: conversation.lastMessagePreview ?? null,
    unreadCount: conversation.unreadCount,
    assignedTeamId: conversation.assignedTeamId ?? null,
    windowOpenUntil: conversation.windowOpenUntil ?? null,
  };
}

export function messageViewOf(message: StoredMessage) {
  return {
    wamid: message.wamid,
    direction: message.direction,
    type: message.messageType,
    text: message.text,
    status: message.status,
    timestamp: message.timestamp,
    ...(message.error ? { error: message.error } : {}),
  };
}
