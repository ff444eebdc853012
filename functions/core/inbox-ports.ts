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
 *   of a send or its first status arrives first creates the message item;
 * - what automations write beside the inbox consumer (an assignment, a flag
 *   for an agent, the decision on an inbound message) may come before the
 *   consumer's own write of the conversation or message: each is a
 *   create-or-update of attributes the consumer never writes, and the
 *   consumer's writes leave them alone, so neither order loses anything;
 * - echoes (`business_app`) and history are stored like inbound messages
 *   but never raise the unread count, open the 24-hour window or mark an
 *   agent's reply; every message's wamid pointer makes a wamid stored once
 *   however it arrives (live, echo, history);
 * - an edit or a deletion is written first as an amendment of the original
 *   wamid, then applied if the original is stored; a stored original applies
 *   every amendment found: write-then-read on both sides, so either order
 *   (and a race) ends the same, and applying is commutative (a later edit by
 *   Meta's time shows, a deletion hides everything).
 */
import type { AiAnswerMeta, AutomationDecision } from '../../schemas/automations.js';
import type { ConversationKind, MessageSource, MessageStatus } from '../../schemas/inbox.js';
import type { ContactIdentity } from './contact-id.js';
import type { AdReferral } from './message-content.js';
import type { StoredMedia } from './media-ports.js';
import type { MessageSender } from './messaging.js';
import type { AccountRepository, Clock, Page, PageRequest } from './ports.js';

// ------------------------------------------------------------------- model

export type Direction = 'in' | 'out';

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

/**
 * Meta's free entry point window: a user who came from a click-to-WhatsApp ad
 * may be messaged free of charge (every category) for 72 hours. We open it
 * from the time of the user's message, a little earlier than Meta's (from our
 * first reply within 24 hours), so we never price a charged message at 0.
 */
export const FREE_ENTRY_WINDOW_MS = 72 * 60 * 60 * 1000;

/** Dedupe records outlive Meta's 7 days of retries. */
export const DEDUPE_RETENTION_SECONDS = 10 * 24 * 60 * 60;

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

/** A group member who wrote a message (raw as Meta wrote them), shown on each message of a group conversation. */
export interface Participant {
  waId?: string;
  userId?: string;
  name?: string;
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
  /** A group's message: the group (its conversation is `contactKey`) and the member who wrote it. */
  group?: { groupId: string; from: Participant };
}

/** An echo of what the business typed in the WhatsApp Business app, or a message of the app's history. */
export interface RecordedMessage extends Omit<InboundMessage, 'contactName'> {
  source: Exclude<MessageSource, 'cloud_api'>;
  direction: Direction;
  /** `received` for the user's; for the business's, what Meta reported (history), else `sent`. */
  status: MessageStatus;
}

/** An edit or a deletion (revoke) of the message `originalWamid`, as Meta sent it. */
export interface MessageAmendment {
  phoneNumberId: string;
  originalWamid: string;
  /** The edit's (or revoke's) own wamid. */
  wamid: string;
  kind: 'edit' | 'revoke';
  /** Meta's time of the edit or deletion (ISO). */
  at: string;
  /** An edit's new text. */
  text?: string;
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
  /** An AI agent's answer: its agent, knowledge sources and the messages it answers. */
  ai?: AiAnswerMeta;
  /** A file an agent sent: the upload's key (or the link), type, name, caption, size. */
  media?: StoredMedia;
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
  /** A newer ad referral (by `at`, then wamid) replaces the stored one; an older or the same one changes nothing. */
  adReferral?: AdReferral;
  /** Forward-only, like `windowOpenUntil`. */
  freeEntryUntil?: string;
  /**
   * An inbound message's time: reopens a `resolved` or `snoozed` conversation
   * whose status was set before it (a late older message reopens nothing).
   */
  reopenAt?: string;
  /** The latest inbound message (by `at`, then wamid): the one a read receipt names. Forward-only. */
  lastInbound?: { at: string; wamid: string };
}

export interface StoredContact extends ConversationRef {
  waId?: string;
  userId?: string;
  name?: string;
  attributes: Record<string, unknown> & { whatsapp_phno: string };
  firstSeenAt: string;
  lastSeenAt: string;
  /** The contact asked not to be answered (stored `blocked: true`, or the attribute `blocked` true): automations stay silent. */
  blocked?: boolean;
  /** An agent's name for the contact: shown instead of the WhatsApp profile's (`name` is then this). */
  customName?: string;
  nameEditedAt?: string;
  /** The name the contact's WhatsApp profile last sent. */
  profileName?: string;
}

/** An agent's edit of a contact: each field given changes, the rest stays. */
export interface ContactEdit {
  /** `null`: back to the WhatsApp profile's name. */
  name?: string | null;
  /** Merged into the attributes; `null` removes the key. */
  attributes?: Record<string, unknown>;
  blocked?: boolean;
  at: string;
}

/** An internal note on a conversation: never sent to WhatsApp. */
export interface StoredNote {
  noteId: string;
  text: string;
  authorSubject: string;
  authorUserId?: string;
  createdAt: string;
}

/** A status change by an agent (or the API); `snoozedUntil` only with `snoozed`. */
export interface StatusChangeRequest {
  status: ConversationStatus;
  snoozedUntil?: string;
  at: string;
  by: string;
}

/** An assignment: `undefined` keeps, `null` clears (a team cleared clears its member too). */
export interface AssignmentChange {
  teamId?: string | null;
  userId?: string | null;
}

/** Why and since when a conversation waits for an agent (set by an automation, cleared by an agent's reply). */
export interface NeedsAgent {
  reason: string;
  at: string;
}

export interface StoredConversation extends ConversationRef {
  kind: ConversationKind;
  /** A group's conversation: Meta's group id (replies go to the group). */
  groupId?: string;
  waId?: string;
  userId?: string;
  lastWaId?: string;
  contactName?: string;
  lastMessageAt?: string;
  lastMessagePreview?: string;
  unreadCount: number;
  assignedTeamId?: string;
  /** The member of the team the conversation is handed to (a route's round robin, or an agent's choice). */
  assignedUserId?: string;
  windowOpenUntil?: string;
  /** The last reply an agent (never an automation) sent; only moves forward. */
  lastAgentReplyAt?: string;
  needsAgent?: NeedsAgent;
  /** The latest click-to-WhatsApp ad that brought the user to this number (default number only). */
  adReferral?: AdReferral;
  /** Until when messages to the user from this number are free (Meta's free entry point window). */
  freeEntryUntil?: string;
  /** As stored (absent: `open`); a passed snooze is still `snoozed` here, `effectiveStatus` reads it as `open`. */
  status?: ConversationStatus;
  snoozedUntil?: string;
  statusChangedAt?: string;
  statusChangedBy?: string;
  /** The latest inbound message: a read receipt names it. */
  lastInboundWamid?: string;
  lastInboundAt?: string;
}

export interface StoredMessage {
  wamid: string;
  direction: Direction;
  messageType: string;
  text: string;
  status: MessageStatus;
  timestamp: string;
  error?: { code: number | null; title: string | null };
  /** What the automation consumer decided for an inbound message, once it has. */
  automation?: AutomationDecision;
  /** On an AI agent's answer: what grounded it. */
  ai?: AiAnswerMeta;
  /** Meta's message object as received (inbound) or as sent, when stored. */
  content?: Record<string, unknown>;
  source: MessageSource;
  /** In a group: the member who wrote it. */
  from?: Participant;
  editedAt?: string;
  /** The earlier versions, oldest first (the first is the message as written). */
  edits?: { text: string; at: string }[];
  deleted?: true;
  deletedAt?: string;
  /** A media message's file, once the media consumer stored it (or failed to): `media-ports.ts`. */
  media?: StoredMedia;
}

/** A conversation's work status (absent on conversations stored before issue 18: read as `open`). */
export type ConversationStatus = 'open' | 'pending' | 'resolved' | 'snoozed';

export interface ConversationListFilter {
  whatsappPhno?: string;
  /** Only these numbers (an agent's visible ones, `number-access.ts`); empty: an empty page, nothing is read. */
  whatsappPhnos?: readonly string[];
  kind?: ConversationKind;
  /** As read now: a snooze whose time has passed counts as `open` (`now` decides). */
  status?: ConversationStatus;
  /** A user id, or `none` for conversations handed to no user. */
  assignee?: { userId: string } | 'none';
  teamId?: string;
  /** `true`: unread only; `false`: read only. */
  unread?: boolean;
  /** Already normalised (`searchTextOf` in `conversation-search.ts`): a substring of the contact's name or number. */
  q?: string;
  /** The time a snooze is compared with (ISO); the repository's clock when absent. */
  now?: string;
}

/** A contacts list's number filter: one number, or only these (empty: an empty page). */
export interface ContactListFilter {
  whatsappPhno?: string;
  whatsappPhnos?: readonly string[];
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
  /**
   * Sets the contact's `ctwa_*` attributes from an ad referral, when it is
   * newer (by `at`, then wamid) than the one they hold; the same or an older
   * referral changes nothing. The contact must have been recorded.
   */
  attributeAdReferral(ref: ConversationRef, referral: AdReferral): Promise<void>;
  /** Message + wamid pointer + dedupe record + conversation (created if new, unread +1) in one transaction. */
  recordInbound(message: InboundMessage): Promise<'recorded' | 'duplicate'>;
  /**
   * An echo or history message: message + wamid pointer + dedupe record +
   * conversation (created if new; no unread, no window) in one transaction;
   * `duplicate` when the wamid is stored already (a status's placeholder of it is completed).
   */
  recordRecorded(message: RecordedMessage): Promise<'recorded' | 'duplicate'>;
  /** Keeps the amendment, and applies it when its original is stored (`pending` until then). */
  recordAmendment(amendment: MessageAmendment): Promise<'applied' | 'pending'>;
  /** Applies every amendment kept for the stored message `wamid` (idempotent; none: one read). */
  applyAmendments(phoneNumberId: string, wamid: string): Promise<void>;
  /** Stores an outbound message (status `accepted`), or completes the item a status already created. */
  recordOutbound(message: OutboundMessage): Promise<void>;
  /** Moves a status forward; `stale` when the stored status is already as far or further. */
  recordStatus(change: StatusChange): Promise<'applied' | 'stale'>;
  advanceConversation(advance: ConversationAdvance): Promise<void>;
  getConversation(ref: ConversationRef): Promise<StoredConversation | undefined>;
  /** Newest first. */
  listConversations(accountId: string, filter: ConversationListFilter, page: PageRequest): Promise<Page<StoredConversation>>;
  listContacts(accountId: string, filter: ContactListFilter, page: PageRequest): Promise<Page<StoredContact>>;
  /** Oldest first. */
  listMessages(ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>>;
  /** Undefined when the contact was never seen on this number. */
  getContact(ref: ConversationRef): Promise<StoredContact | undefined>;
  /**
   * Assigns the conversation to a team, and to one of its members when
   * `userId` is given (without, any earlier member is cleared). Creates the
   * conversation's item when the inbox consumer has not yet: its later write
   * keeps the assignment.
   */
  assignTeam(ref: ConversationRef, teamId: string, userId?: string): Promise<StoredConversation>;
  /**
   * Marks the conversation as waiting for an agent (create-or-update, like
   * `assignTeam`). The first flag stands until an agent replies; a flag older
   * than the last agent reply changes nothing.
   */
  flagForAgent(ref: ConversationRef, reason: string, at: string): Promise<void>;
  /** An agent replied at `at`: `lastAgentReplyAt` moves forward to it and a flag raised at or before it is cleared. */
  markAgentReply(ref: ConversationRef, at: string): Promise<void>;
  /**
   * Stores the automation decision on the inbound message `wamid`, listed at
   * `timestamp` (the message's time as the inbox stores it: Meta's timestamp
   * as ISO, `metaTime` in `message-content.ts`). Works before or after the
   * inbox consumer recorded the message; neither write loses the other's.
   */
  recordDecision(ref: ConversationRef, wamid: string, timestamp: string, decision: AutomationDecision): Promise<void>;
  markRead(ref: ConversationRef): Promise<StoredConversation | undefined>;
  /** Sets the status of an existing conversation (undefined when there is none); the updated conversation. */
  setStatus(ref: ConversationRef, change: StatusChangeRequest): Promise<StoredConversation | undefined>;
  /** Assigns or unassigns an existing conversation (undefined when there is none); the updated conversation. */
  assign(ref: ConversationRef, change: AssignmentChange): Promise<StoredConversation | undefined>;
  /**
   * An agent's edit of a contact and, with a name change, of its
   * conversation's `contactName`, in one transaction; undefined when the
   * contact was never seen.
   */
  editContact(ref: ConversationRef, edit: ContactEdit): Promise<StoredContact | undefined>;
  /** Adds a note (its id given: a retry with the same id adds nothing). */
  addNote(ref: ConversationRef, note: StoredNote): Promise<StoredNote>;
  /** Oldest first. */
  listNotes(ref: ConversationRef, page: PageRequest): Promise<Page<StoredNote>>;
  /** The connected number a reply goes out from. */
  getSendingNumber(accountId: string, whatsappPhno: string): Promise<SendingNumber | undefined>;
}

export interface InboxConsumerDeps {
  inbox: InboxRepository;
}

export interface InboxDeps {
  inbox: InboxRepository;
  messaging: MessageSender;
  accounts: Pick<AccountRepository, 'getTeam' | 'getUser'>;
  clock: Clock;
}
