/**
 * The team inbox on DynamoDB, as the core's `InboxRepository`: contacts
 * (`contact-repository.ts`), conversations (`conversation-repository.ts`) and
 * messages (`message-repository.ts`), one function per access pattern, every
 * rule a condition next to the write it guards.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ContactEdit,
  ContactListFilter,
  ContactSighting,
  AssignmentChange,
  StatusChangeRequest,
  StoredNote,
  ConversationAdvance,
  ConversationListFilter,
  ConversationRef,
  InboundMessage,
  InboxRepository,
  MessageAmendment,
  OutboundMessage,
  RecordedMessage,
  SendingNumber,
  StatusChange,
  StoredContact,
  StoredConversation,
  StoredMessage,
} from '../../core/inbox-ports.js';
import type { AdReferral } from '../../core/message-content.js';
import type { Clock, Page, PageRequest } from '../../core/ports.js';
import type { AutomationDecision } from '../../../schemas/automations.js';
import { DynamoContactRepository } from './contact-repository.js';
import { DynamoConversationRepository } from './conversation-repository.js';
import * as entities from './entities/index.js';
import { DynamoMessageRepository } from './message-repository.js';
import { DynamoNoteRepository } from './note-repository.js';

export class DynamoInboxRepository implements InboxRepository {
  private readonly contacts: DynamoContactRepository;
  private readonly conversations: DynamoConversationRepository;
  private readonly messages: DynamoMessageRepository;
  private readonly notes: DynamoNoteRepository;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    clock: Clock,
  ) {
    this.contacts = new DynamoContactRepository(doc, tableName);
    this.conversations = new DynamoConversationRepository(doc, tableName, clock);
    this.notes = new DynamoNoteRepository(doc, tableName);
    this.messages = new DynamoMessageRepository(doc, tableName, clock);
  }

  contactKeyForUserId(accountId: string, whatsappPhno: string, userId: string): Promise<string | undefined> {
    return this.contacts.contactKeyForUserId(accountId, whatsappPhno, userId);
  }

  recordContact(sighting: ContactSighting): Promise<void> {
    return this.contacts.recordContact(sighting);
  }

  attributeAdReferral(ref: ConversationRef, referral: AdReferral): Promise<void> {
    return this.contacts.attributeAdReferral(ref, referral);
  }

  getContact(ref: ConversationRef): Promise<StoredContact | undefined> {
    return this.contacts.getContact(ref);
  }

  listContacts(accountId: string, filter: ContactListFilter, page: PageRequest): Promise<Page<StoredContact>> {
    return this.contacts.listContacts(accountId, filter, page);
  }

  advanceConversation(advance: ConversationAdvance): Promise<void> {
    return this.conversations.advanceConversation(advance);
  }

  getConversation(ref: ConversationRef): Promise<StoredConversation | undefined> {
    return this.conversations.getConversation(ref);
  }

  listConversations(accountId: string, filter: ConversationListFilter, page: PageRequest): Promise<Page<StoredConversation>> {
    return this.conversations.listConversations(accountId, filter, page);
  }

  assignTeam(ref: ConversationRef, teamId: string, userId?: string): Promise<StoredConversation> {
    return this.conversations.assignTeam(ref, teamId, userId);
  }

  flagForAgent(ref: ConversationRef, reason: string, at: string): Promise<void> {
    return this.conversations.flagForAgent(ref, reason, at);
  }

  markAgentReply(ref: ConversationRef, at: string): Promise<void> {
    return this.conversations.markAgentReply(ref, at);
  }

  markRead(ref: ConversationRef): Promise<StoredConversation | undefined> {
    return this.conversations.markRead(ref);
  }

  setStatus(ref: ConversationRef, change: StatusChangeRequest): Promise<StoredConversation | undefined> {
    return this.conversations.setStatus(ref, change);
  }

  assign(ref: ConversationRef, change: AssignmentChange): Promise<StoredConversation | undefined> {
    return this.conversations.assign(ref, change);
  }

  editContact(ref: ConversationRef, edit: ContactEdit): Promise<StoredContact | undefined> {
    return this.contacts.editContact(ref, edit);
  }

  addNote(ref: ConversationRef, note: StoredNote): Promise<StoredNote> {
    return this.notes.addNote(ref, note);
  }

  listNotes(ref: ConversationRef, page: PageRequest): Promise<Page<StoredNote>> {
    return this.notes.listNotes(ref, page);
  }

  recordInbound(message: InboundMessage): Promise<'recorded' | 'duplicate'> {
    return this.messages.recordInbound(message);
  }

  recordRecorded(message: RecordedMessage): Promise<'recorded' | 'duplicate'> {
    return this.messages.recordRecorded(message);
  }

  recordAmendment(amendment: MessageAmendment): Promise<'applied' | 'pending'> {
    return this.messages.recordAmendment(amendment);
  }

  applyAmendments(phoneNumberId: string, wamid: string): Promise<void> {
    return this.messages.applyAmendments(phoneNumberId, wamid);
  }

  recordOutbound(message: OutboundMessage): Promise<void> {
    return this.messages.recordOutbound(message);
  }

  recordStatus(change: StatusChange): Promise<'applied' | 'stale'> {
    return this.messages.recordStatus(change);
  }

  listMessages(ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>> {
    return this.messages.listMessages(ref, page);
  }

  recordDecision(ref: ConversationRef, wamid: string, timestamp: string, decision: AutomationDecision): Promise<void> {
    return this.messages.recordDecision(ref, wamid, timestamp, decision);
  }

  /** The number a reply goes out from, unless it was disconnected or removed. */
  async getSendingNumber(accountId: string, whatsappPhno: string): Promise<SendingNumber | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.number.key({ accountId, whatsappPhno }), ConsistentRead: true }),
    );
    const number = Item ? entities.sendingSide.safeParse(Item) : undefined;
    if (!number?.success) return undefined;
    if (number.data.status !== undefined && /^(disconnected|removed)$/i.test(number.data.status)) return undefined;
    return { phoneNumberId: number.data.phoneNumberId, ...(number.data.wabaId !== undefined ? { wabaId: number.data.wabaId } : {}) };
  }
}
