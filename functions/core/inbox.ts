/**
 * The team inbox: contacts, conversations and messages of every connected
 * number, each tagged with the number (`whatsapp_phno`) it belongs to.
 *
 * Meta delivers at least once and in any order, and so do EventBridge and SQS,
 * so every use case here is idempotent and order-tolerant:
 * - an inbound message is stored, and its conversation's unread count raised,
 *   in one transaction guarded by a dedupe record (`phoneNumberId` + eventId);
 * - conversation order, the 24-hour window and a contact's `lastSeenAt` only
 *   move forward, by conditions on the stored values, and those forward moves
 *   run again on every redelivery (they are idempotent), so a crash between
 *   the transaction and them heals itself;
 * - statuses only move forward by a condition on a numeric rank, and whichever
 *   of a send or its first status arrives first creates the message item.
 */
import type { InboxMessageReceived, InboxStatusUpdated } from '../../schemas/inbox.js';
import { type ContactIdentity, contactIdentity, conversationIdOf } from './contact-id.js';
import { Conflict, NotFound, ValidationFailed, WindowClosed } from './errors.js';
import type { MessageSender } from './messaging.js';
import type { AccountRepository, Clock, Page, PageRequest } from './ports.js';

// ------------------------------------------------------------------- model

export type Direction = 'in' | 'out';
export type MessageStatus = 'received' | 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';

/** Statuses only move up this scale; `failed` outranks everything, so nothing follows it. */
export const STATUS_RANK: Record<MessageStatus, number> = {
  received: 0,
  accepted: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  failed: 4,
};

/** Meta's customer service window: free-form replies are allowed for 24 hours after the user last wrote. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Dedupe records outlive Meta's 7 days of retries. */
export const DEDUPE_RETENTION_SECONDS = 10 * 24 * 60 * 60;

const PREVIEW_LENGTH = 120;

/** Message types stored as themselves; any other type is stored as `unsupported` (with Meta's object kept). */
export const KNOWN_MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'request_welcome',
  'template',
  'unsupported',
] as const;

/** Where a conversation lives: one number and one contact of one account. */
export interface ConversationRef {
  accountId: string;
  whatsappPhno: string;
  contactKey: string;
}

export interface ContactSighting extends ConversationRef {
  identity: ContactIdentity;
  name?: string;
  /** When the message that showed the contact was sent (ISO). */
  seenAt: string;
}

export interface InboundMessage extends ConversationRef {
  phoneNumberId: string;
  eventId: string;
  identity: ContactIdentity;
  /** The sender as Meta wrote it: replies go back to exactly this address. */
  rawWaId?: string;
  contactName?: string;
  wamid: string;
  messageType: string;
  text: string;
  /** Meta's timestamp of the message (ISO). */
  timestamp: string;
  /** Meta's message object as received. */
  content: Record<string, unknown>;
  receivedAt: string;
}

export interface OutboundMessage extends ConversationRef {
  phoneNumberId: string;
  identity: ContactIdentity;
  wamid: string;
  messageType: string;
  text: string;
  /** When we sent it (ISO). */
  timestamp: string;
  content?: Record<string, unknown>;
  bizOpaqueCallbackData?: string;
}

export interface StatusChange extends Omit<ConversationRef, 'contactKey'> {
  /** The recipient's contact key; absent when Meta named no recipient (the message must then exist already). */
  contactKey?: string;
  phoneNumberId: string;
  wamid: string;
  status: Exclude<MessageStatus, 'received' | 'accepted'>;
  rank: number;
  /** Meta's timestamp of the status (ISO). */
  at: string;
  error?: { code: number | null; title: string | null };
  bizOpaqueCallbackData?: string;
  broadcastId?: string;
}

/** A forward-only move of a conversation: applied only where it is newer than what is stored. */
export interface ConversationAdvance extends ConversationRef {
  lastMessage?: { at: string; wamid: string; preview: string; direction: Direction };
  windowOpenUntil?: string;
  contactName?: string;
}

export interface StoredContact extends ConversationRef {
  waId?: string;
  userId?: string;
  name?: string;
  attributes: Record<string, unknown> & { whatsapp_phno: string };
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface StoredConversation extends ConversationRef {
  waId?: string;
  userId?: string;
  lastWaId?: string;
  contactName?: string;
  lastMessageAt?: string;
  lastMessagePreview?: string;
  unreadCount: number;
  assignedTeamId?: string;
  windowOpenUntil?: string;
}

export interface StoredMessage {
  wamid: string;
  direction: Direction;
  messageType: string;
  text: string;
  status: MessageStatus;
  timestamp: string;
  error?: { code: number | null; title: string | null };
}

/** The sending side of a connected number. */
export interface SendingNumber {
  phoneNumberId: string;
  wabaId?: string;
}

// ------------------------------------------------------------------- ports

export interface InboxRepository {
  /** The contact key a BSUID was last seen with next to a phone number, if ever. */
  contactKeyForUserId(accountId: string, whatsappPhno: string, userId: string): Promise<string | undefined>;
  /** Creates or refreshes a contact; `lastSeenAt` (and the name) only move forward, `firstSeenAt` never moves. */
  recordContact(sighting: ContactSighting): Promise<void>;
  /** Message + dedupe record + conversation (created if new, unread +1) in one transaction. */
  recordInbound(message: InboundMessage): Promise<'recorded' | 'duplicate'>;
  /** Stores an outbound message (status `accepted`), or completes the item a status already created. */
  recordOutbound(message: OutboundMessage): Promise<void>;
  /** Moves a status forward; `stale` when the stored status is already as far or further. */
  recordStatus(change: StatusChange): Promise<'applied' | 'stale'>;
  advanceConversation(advance: ConversationAdvance): Promise<void>;
  getConversation(ref: ConversationRef): Promise<StoredConversation | undefined>;
  /** Newest first. */
  listConversations(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredConversation>>;
  listContacts(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredContact>>;
  /** Oldest first. */
  listMessages(ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>>;
  /** Undefined when the conversation does not exist. */
  assignTeam(ref: ConversationRef, teamId: string): Promise<StoredConversation | undefined>;
  markRead(ref: ConversationRef): Promise<StoredConversation | undefined>;
  /** The connected number a reply goes out from. */
  getSendingNumber(accountId: string, whatsappPhno: string): Promise<SendingNumber | undefined>;
}

export interface InboxConsumerDeps {
  inbox: InboxRepository;
}

export interface InboxDeps {
  inbox: InboxRepository;
  messaging: MessageSender;
  accounts: Pick<AccountRepository, 'getTeam'>;
  clock: Clock;
}

// ------------------------------------------------------------ the consumer

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
  // Runs on duplicates too: forward-only and idempotent, it completes a delivery that failed half-way.
  await deps.inbox.advanceConversation({
    ...ref,
    lastMessage: { at: timestamp, wamid: message.id, preview: preview(text), direction: 'in' },
    windowOpenUntil: new Date(Date.parse(timestamp) + SERVICE_WINDOW_MS).toISOString(),
    contactName,
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
    ...(name === 'failed' ? { error: { code: errorCode(firstError?.code), title: firstError?.title ?? firstError?.message ?? null } } : {}),
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

// --------------------------------------------------------------- the API

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

// ------------------------------------------------------- message content

/** The type a message is stored as: Meta's own when we know it, else `unsupported`. */
export function storedType(metaType: string): string {
  return (KNOWN_MESSAGE_TYPES as readonly string[]).includes(metaType) ? metaType : 'unsupported';
}

type MetaObject = Record<string, unknown>;

const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'document', 'sticker']);

/**
 * What the inbox shows for a message of any type: the words the user wrote or
 * picked where there are some, a bracketed label where there are none.
 */
export function displayText(message: MetaObject & { type: string }): string {
  const type = message.type;
  const part = objectAt(message, type);
  if (MEDIA_TYPES.has(type)) {
    const caption = stringAt(part, 'caption');
    if (caption) return caption;
    if (type === 'document' && stringAt(part, 'filename')) return `[document] ${stringAt(part, 'filename')}`;
    if (type === 'audio' && part?.voice === true) return '[voice message]';
    return `[${type}]`;
  }
  switch (type) {
    case 'text':
      return stringAt(part, 'body') ?? '';
    case 'location':
      return stringAt(part, 'name') ?? stringAt(part, 'address') ?? '[location]';
    case 'contacts': {
      const cards = Array.isArray(message.contacts) ? (message.contacts as MetaObject[]) : [];
      const names = cards.map((card) => stringAt(objectAt(card, 'name'), 'formatted_name')).filter((n): n is string => Boolean(n));
      return names.length ? `[contact] ${names.join(', ')}` : '[contact]';
    }
    case 'interactive': {
      const kind = stringAt(part, 'type');
      if (kind === 'button_reply' || kind === 'list_reply') return stringAt(objectAt(part, kind), 'title') ?? '[interactive]';
      if (kind === 'nfm_reply') return '[form reply]';
      return '[interactive]';
    }
    case 'button':
      return stringAt(part, 'text') ?? stringAt(part, 'payload') ?? '[button]';
    case 'reaction':
      // An empty emoji is how WhatsApp reports a reaction taken back.
      return stringAt(part, 'emoji') ?? '[reaction removed]';
    case 'order': {
      const items = Array.isArray(part?.product_items) ? part.product_items.length : 0;
      return stringAt(part, 'text') ?? `[order] ${items} item${items === 1 ? '' : 's'}`;
    }
    case 'system':
      return stringAt(part, 'body') ?? '[system]';
    case 'request_welcome':
      return '[welcome request]';
    case 'template':
      return `[template] ${stringAt(part, 'name') ?? ''}`.trim();
    default:
      return '[unsupported]';
  }
}

export function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > PREVIEW_LENGTH ? `${oneLine.slice(0, PREVIEW_LENGTH - 1)}…` : oneLine;
}

/** Meta's epoch-seconds string as ISO; the delivery time when it is missing or malformed. */
export function metaTime(epochSeconds: string | undefined, fallbackIso: string): string {
  const seconds = Number(epochSeconds);
  if (!epochSeconds || !Number.isFinite(seconds) || seconds <= 0) return new Date(fallbackIso).toISOString();
  return new Date(seconds * 1000).toISOString();
}

function errorCode(code: number | string | undefined): number | null {
  const value = Number(code);
  return code !== undefined && Number.isFinite(value) ? value : null;
}

function objectAt(value: unknown, key: string): MetaObject | undefined {
  const inner = value && typeof value === 'object' ? (value as MetaObject)[key] : undefined;
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as MetaObject) : undefined;
}

function stringAt(value: MetaObject | undefined, key: string): string | undefined {
  return nonEmpty(value?.[key]);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
