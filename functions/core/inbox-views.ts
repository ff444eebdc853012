/**
 * The dashboard's inbox: lists of contacts, conversations and messages, an
 * agent's reply (text or saved reply material) from a conversation's own
 * number through the one send path (`replies.ts`), team assignment and read
 * marks, and the views the API answers with.
 */
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import type { AutomationRepository } from './automation-ports.js';
import { NotFound, ValidationFailed, WindowClosed } from './errors.js';
import { effectiveStatus } from './conversation-search.js';
import type { AssignmentChange, ConversationListFilter, ConversationRef, InboxDeps, StoredContact, StoredConversation, StoredMessage } from './inbox-ports.js';
import { type MarketingPreference, marketingViewOf } from './marketing-preferences.js';
import { mediaViewOf } from './media-views.js';
import { orderOf, referredProductOf } from './message-content.js';
import type { Page, PageRequest } from './ports.js';
import { type OutgoingMessage, outgoingOf, replyTo } from './replies.js';
import { renderReply } from './reply-render.js';
import { type AgentTemplateDeps, sendTemplateAsAgent } from './template-sends.js';

/** Reply material is read where the automations API stores it. */
export interface ReplyMaterialDeps {
  automations: Pick<AutomationRepository, 'get'>;
}

// ------------------------------------------------------------- use cases

export interface ConversationFilter {
  whatsappPhno?: string;
  /** Only these numbers (an agent's); empty: nothing. */
  whatsappPhnos?: readonly string[];
}

export function listContacts(deps: Pick<InboxDeps, 'inbox'>, accountId: string, filter: ConversationFilter, page: PageRequest) {
  return deps.inbox.listContacts(accountId, filter, page);
}

export function listConversations(deps: Pick<InboxDeps, 'inbox'>, accountId: string, filter: ConversationListFilter, page: PageRequest) {
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
 * An agent's free-form reply, sent from the conversation's own number
 * (`replyTo`). Allowed only inside the 24-hour customer service window;
 * Meta's own refusal (131047) maps to the same `WindowClosed`.
 */
export async function sendReply(deps: InboxDeps, ref: ConversationRef, text: string): Promise<{ wamid: string }> {
  return sendAsAgent(deps, ref, { type: 'text', text });
}

/**
 * An agent's reply with saved reply material, its placeholders filled for
 * this contact (`{{name}}`, `{{whatsapp_phno}}`, `{{attributes.key}}`). A
 * template goes out even with the window closed (charged and counted against
 * the messaging limit: `sendTemplateAsAgent`); anything else is refused
 * outside it like a text. Material scoped to another number is refused.
 */
export async function sendReplyMaterial(deps: InboxDeps & ReplyMaterialDeps & AgentTemplateDeps, ref: ConversationRef, replyMaterialId: string): Promise<{ wamid: string }> {
  const conversation = await requireConversation(deps, ref);
  const material = await deps.automations.get(ref.accountId, 'reply-material', replyMaterialId);
  if (!material) throw new NotFound('The reply material');
  const scopedTo = material.body.scope?.whatsapp_phno;
  if (scopedTo !== undefined && scopedTo !== ref.whatsappPhno) {
    throw new ValidationFailed([
      { path: ['body', 'replyMaterialId'], message: `The reply material ${replyMaterialId} is a rule for ${scopedTo}; this conversation is on ${ref.whatsappPhno}.`, code: 'custom' },
    ]);
  }
  const contact = await deps.inbox.getContact(ref);
  const name = contact?.name ?? conversation.contactName;
  const rendered = renderReply(material.body.content, {
    ...(name ? { name } : {}),
    whatsapp_phno: ref.whatsappPhno,
    attributes: contact?.attributes ?? {},
  });
  if (rendered.type === 'text' && rendered.text.trim() === '') {
    throw new ValidationFailed([{ path: ['body', 'replyMaterialId'], message: `The reply material ${replyMaterialId} renders to an empty text for this contact.`, code: 'custom' }]);
  }
  const message = outgoingOf(rendered);
  if (message.type === 'template' && conversation.kind === 'group') {
    // A template is priced and counted per user (rate card, messaging limit): not sent to a group from here.
    throw new ValidationFailed([
      { path: ['body', 'replyMaterialId'], message: `The reply material ${replyMaterialId} is a template; a group conversation takes text and media replies only.`, code: 'custom' },
    ]);
  }
  // A template goes out at any time: approved on the number, paid and counted like a broadcast message (`template-sends.ts`).
  if (message.type === 'template') return sendTemplateAsAgent(deps, ref, message, {
      waId: conversation.lastWaId ?? conversation.waId ?? ref.contactKey,
      freeEntryUntil: conversation.freeEntryUntil,
    });
  return sendAsAgent(deps, ref, message);
}

async function sendAsAgent(deps: InboxDeps, ref: ConversationRef, message: OutgoingMessage): Promise<{ wamid: string }> {
  const outcome = await replyTo(deps, ref, message, { by: 'agent' });
  if (outcome.outcome === 'WINDOW_CLOSED') throw new WindowClosed();
  return { wamid: outcome.wamid };
}

/**
 * Assigns the conversation (the body of `POST …/assign`, `schemas/inbox.ts`):
 * to a team of the account (any earlier user cleared unless `userId` names
 * one), to a user (the team stays), or to nobody (`null`s). The team and user
 * must be the account's. The conversation must exist (an agent assigns what
 * they see); automations assign through the repository's `assignTeam`.
 */
export async function assignConversation(deps: InboxDeps, ref: ConversationRef, change: AssignmentChange): Promise<StoredConversation> {
  await requireConversation(deps, ref);
  const { teamId, userId } = change;
  const [team, user] = await Promise.all([
    typeof teamId === 'string' ? deps.accounts.getTeam(ref.accountId, teamId) : undefined,
    typeof userId === 'string' ? deps.accounts.getUser(ref.accountId, userId) : undefined,
  ]);
  if (typeof teamId === 'string' && !team) throw new NotFound('The team');
  if (typeof userId === 'string' && !user) throw new NotFound('The user');
  // As before issue 18: a team given without a user hands it to the team only.
  const assigned = await deps.inbox.assign(ref, { ...change, ...(typeof teamId === 'string' && userId === undefined ? { userId: null } : {}) });
  if (!assigned) throw new NotFound('The conversation');
  return assigned;
}

export async function markConversationRead(deps: Pick<InboxDeps, 'inbox'>, ref: ConversationRef): Promise<StoredConversation> {
  const conversation = await deps.inbox.markRead(ref);
  if (!conversation) throw new NotFound('The conversation');
  return conversation;
}

// ------------------------------------------------------------------ views

export function contactViewOf(contact: StoredContact, marketing?: MarketingPreference) {
  return {
    waId: contact.waId ?? null,
    ...(contact.userId ? { userId: contact.userId } : {}),
    name: contact.name ?? null,
    attributes: { ...contact.attributes, whatsapp_phno: contact.whatsappPhno },
    firstSeenAt: contact.firstSeenAt,
    lastSeenAt: contact.lastSeenAt,
    contactId: conversationIdOf(contact.whatsappPhno, contact.contactKey),
    blocked: contact.blocked === true,
    nameEditedAt: contact.nameEditedAt ?? null,
    marketing: marketingViewOf(marketing),
  };
}

/** `now` decides whether a snooze has run out (read as `open`). */
export function conversationViewOf(conversation: StoredConversation, now: string = new Date().toISOString()) {
  const status = effectiveStatus(conversation, now);
  return {
    conversationId: conversationIdOf(conversation.whatsappPhno, conversation.contactKey),
    whatsapp_phno: conversation.whatsappPhno,
    kind: conversation.kind,
    ...(conversation.groupId ? { groupId: conversation.groupId } : {}),
    waId: conversation.waId ?? null,
    ...(conversation.userId ? { userId: conversation.userId } : {}),
    contactName: conversation.contactName ?? null,
    lastMessageAt: conversation.lastMessageAt ?? null,
    lastMessagePreview: conversation.lastMessagePreview ?? null,
    unreadCount: conversation.unreadCount,
    assignedTeamId: conversation.assignedTeamId ?? null,
    assignedUserId: conversation.assignedUserId ?? null,
    windowOpenUntil: conversation.windowOpenUntil ?? null,
    lastAgentReplyAt: conversation.lastAgentReplyAt ?? null,
    needsAgent: conversation.needsAgent ?? null,
    adReferral: conversation.adReferral ?? null,
    freeEntryUntil: conversation.freeEntryUntil ?? null,
    status,
    snoozedUntil: status === 'snoozed' ? (conversation.snoozedUntil ?? null) : null,
    statusChangedAt: conversation.statusChangedAt ?? null,
    statusChangedBy: conversation.statusChangedBy ?? null,
  };
}

/**
 * A message as the inbox shows it. An inbound order shows its items, and a
 * message sent from a catalog product names the product, on every number:
 * the agent sees what arrived even where the catalog features are not
 * offered (an additional number: 403 `FEATURE_UNAVAILABLE` there).
 * Where it came from (`source`), who wrote it in a group (`from`), its edits;
 * a deleted message keeps the fact (`deleted`, `deletedAt`) and withholds
 * what it said (text null, no earlier versions, no order or product).
 */
export function messageViewOf(message: StoredMessage) {
  const deleted = message.deleted === true;
  const inbound = message.direction === 'in' && message.content && !deleted ? message.content : undefined;
  const order = inbound && orderOf(inbound);
  const product = inbound && referredProductOf(inbound);
  const media = mediaViewOf(message);
  return {
    wamid: message.wamid,
    direction: message.direction,
    type: message.messageType,
    text: deleted ? null : message.text,
    status: message.status,
    timestamp: message.timestamp,
    source: message.source,
    ...(message.from
      ? { from: { waId: message.from.waId ?? null, ...(message.from.userId ? { userId: message.from.userId } : {}), name: message.from.name ?? null } }
      : {}),
    ...(message.editedAt ? { editedAt: message.editedAt } : {}),
    ...(message.edits && !deleted ? { edits: message.edits } : {}),
    ...(deleted ? { deleted: true as const, ...(message.deletedAt ? { deletedAt: message.deletedAt } : {}) } : {}),
    ...(message.error ? { error: message.error } : {}),
    ...(message.automation ? { automation: message.automation } : {}),
    ...(message.ai ? { ai: message.ai } : {}),
    ...(order ? { order } : {}),
    ...(product ? { product } : {}),
    ...(media ? { media } : {}),
  };
}
