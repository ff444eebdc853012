/**
 * The inbox's messages on DynamoDB: one partition per conversation.
 *
 * - Inbound: dedupe record + message + conversation (unread +1) in one
 *   transaction; the dedupe record's `attribute_not_exists` makes a
 *   redelivery change nothing. The message is written as an update that
 *   passes only while the item has no `receivedAt`: a message recorded before
 *   (under another event id) is a replay too, and the placeholder an
 *   automation decision made first is completed, its decision kept.
 * - Decisions: `recordDecision` sets `automationDecision` on the inbound
 *   message's item, creating a placeholder when the message is not recorded
 *   yet (listings skip it until it is).
 * - Outbound and statuses: a wamid pointer names the message item; whichever
 *   of the send and its first status comes first creates pointer and item
 *   together, the other completes the item. Statuses apply only when their
 *   rank is higher than the stored one.
 * - Every message writes its wamid pointer in its transaction: a wamid is
 *   stored once however it comes (live, echo, history; a redelivery), and an
 *   edit or a deletion finds its original by it.
 * - Echoes and history (`recordRecorded`): message + pointer + dedupe +
 *   conversation like an inbound message, never unread, never the window.
 * - Edits and deletions (`recordAmendment`): the amendment item is written
 *   first, then applied when the pointer exists; a recorded message applies
 *   every amendment of its wamid (`applyAmendments`). Applying is
 *   commutative: each edit adds its version under its own wamid, `text`
 *   moves only to a later edit (`editKey`), a deletion keeps the earliest
 *   `deletedAt`.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MessageNotRecorded } from '../../core/backend-failures.js';
import {
  type ConversationRef,
  DEDUPE_RETENTION_SECONDS,
  type InboundMessage,
  type MessageAmendment,
  type OutboundMessage,
  type RecordedMessage,
  STATUS_RANK,
  SERVICE_WINDOW_MS,
  type StatusChange,
  type StoredMessage,
} from '../../core/inbox-ports.js';
import { preview } from '../../core/message-content.js';
import type { StoredMedia } from '../../core/media-ports.js';
import type { Clock, Page, PageRequest } from '../../core/ports.js';
import type { AutomationDecision } from '../../../schemas/automations.js';
import { writeIf } from './conditional-write.js';
import { conversationKey, conversationUpsert } from './conversation-repository.js';
import * as entities from './entities/index.js';
import { isDecisionPlaceholder } from './entities/inbox.js';
import { queryAll, queryPage } from './query.js';
import { REPLAY, type TxPart, transact } from './transact.js';
import { putNew } from './transaction-parts.js';
import { ifNotExists, updateExpression } from './update-expression.js';

/** Statuses come for weeks at most, edits within minutes; the pointer that finds their message can go after this. */
const POINTER_RETENTION_SECONDS = 90 * 24 * 60 * 60;

/** An edit or deletion whose original never came is kept this long. */
const AMENDMENT_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** What a deleted message's conversation shows as its last message. */
const DELETED_PREVIEW = '[message deleted]';

/** The consumer's name in its dedupe records' sort key. */
const CONSUMER = 'inbox';

type Key = { pk: string; sk: string };

export class DynamoMessageRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async recordInbound(message: InboundMessage): Promise<'recorded' | 'duplicate'> {
    const now = this.clock.now();
    const dedupe = this.dedupeItem(message, now);
    const parts = messageParts(message, message.timestamp, message.wamid);
    const messageKey = entities.message.key(parts);
    const stored = withoutKey(
      entities.message.item(parts, {
        accountId: message.accountId,
        whatsapp_phno: message.whatsappPhno,
        phoneNumberId: message.phoneNumberId,
        contactKey: message.contactKey,
        wamid: message.wamid,
        direction: 'in',
        messageType: message.messageType,
        text: message.text,
        timestamp: message.timestamp,
        status: 'received',
        statusRank: 0,
        content: message.content,
        receivedAt: message.receivedAt,
        ...(message.group ? { from: message.group.from } : {}),
      }),
      messageKey,
    );
    const conversation = conversationUpsert(
      this.tableName,
      message,
      {
        identity: message.identity,
        rawWaId: message.rawWaId,
        contactName: message.contactName,
        lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: 'in' },
        windowOpenUntil: new Date(Date.parse(message.timestamp) + SERVICE_WINDOW_MS).toISOString(),
        unreadIncrement: true,
        ...(message.group ? { groupId: message.group.groupId } : {}),
      },
      now.toISOString(),
    );
    const result = await transact(this.doc, [
      putNew(this.tableName, dedupe, replay),
      // The same wamid stored before (as history, or under another event id): a replay.
      this.pointerPut(message.phoneNumberId, message.wamid, messageKey, message),
      {
        // Every attribute but `automationDecision`, which only `recordDecision` writes; recorded before: a replay.
        item: { Update: { TableName: this.tableName, Key: messageKey, ...updateExpression({ set: stored }, { expression: 'attribute_not_exists(receivedAt)' }) } },
        onConditionFailed: replay,
      },
      { item: { Update: conversation } },
    ]);
    return result === REPLAY ? 'duplicate' : 'recorded';
  }

  async recordRecorded(message: RecordedMessage): Promise<'recorded' | 'duplicate'> {
    const now = this.clock.now();
    const dedupe = this.dedupeItem(message, now);
    const parts = messageParts(message, message.timestamp, message.wamid);
    const messageKey = entities.message.key(parts);
    const known = {
      accountId: message.accountId,
      whatsapp_phno: message.whatsappPhno,
      phoneNumberId: message.phoneNumberId,
      contactKey: message.contactKey,
      wamid: message.wamid,
      direction: message.direction,
      messageType: message.messageType,
      text: message.text,
      source: message.source,
      content: message.content,
      receivedAt: message.receivedAt,
      ...(message.group ? { from: message.group.from } : {}),
    };
    const conversation = conversationUpsert(
      this.tableName,
      message,
      {
        identity: message.identity,
        rawWaId: message.rawWaId,
        lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: message.direction },
        // Never the window, never unread: the user did not just write (an echo is the business's; history is the past).
        unreadIncrement: false,
        ...(message.group ? { groupId: message.group.groupId } : {}),
      },
      now.toISOString(),
    );
    const result = await transact(this.doc, [
      putNew(this.tableName, dedupe, replay),
      this.pointerPut(message.phoneNumberId, message.wamid, messageKey, message),
      putNew(
        this.tableName,
        entities.message.item(parts, { ...known, timestamp: message.timestamp, status: message.status, statusRank: STATUS_RANK[message.status] }),
        replay,
      ),
      { item: { Update: conversation } },
    ]);
    if (result !== REPLAY) return 'recorded';

    // Stored before, or a status of the business's message came first and left a placeholder (type `unknown`): complete it.
    const pointer = message.direction === 'out' ? await this.getPointer(message.phoneNumberId, message.wamid) : undefined;
    if (!pointer) return 'duplicate';
    const completed = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: pointer,
        ...updateExpression(
          { set: { ...known, originalText: message.text, status: ifNotExists(message.status), statusRank: ifNotExists(STATUS_RANK[message.status]) } },
          { expression: 'attribute_exists(pk) AND messageType = :unknown', values: { ':unknown': 'unknown' } },
        ),
      }),
    );
    if (!completed.applied) return 'duplicate';
    await this.doc.send(new UpdateCommand(conversation));
    return 'recorded';
  }

  async recordAmendment(amendment: MessageAmendment): Promise<'applied' | 'pending'> {
    const now = this.clock.now();
    // First the amendment, then the pointer: an original recorded meanwhile reads the amendment (`applyAmendments`).
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: entities.messageAmendment.item(
          { phoneNumberId: amendment.phoneNumberId, originalWamid: amendment.originalWamid, wamid: amendment.wamid },
          {
            kind: amendment.kind,
            originalWamid: amendment.originalWamid,
            wamid: amendment.wamid,
            at: amendment.at,
            ...(amendment.text !== undefined ? { text: amendment.text } : {}),
            createdAt: now.toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + AMENDMENT_RETENTION_SECONDS,
          },
        ),
      }),
    );
    const pointer = await this.getPointer(amendment.phoneNumberId, amendment.originalWamid);
    if (!pointer) return 'pending';
    await this.applyAmendment(pointer, amendment);
    return 'applied';
  }

  async applyAmendments(phoneNumberId: string, wamid: string): Promise<void> {
    const items = await queryAll(
      this.doc,
      this.tableName,
      entities.messageAmendment.partition({ phoneNumberId, originalWamid: wamid }),
      entities.messageAmendment.skPrefix(),
    );
    if (items.length === 0) return;
    const pointer = await this.getPointer(phoneNumberId, wamid);
    if (!pointer) return;
    for (const item of items) {
      const amendment = entities.messageAmendment.parse(item);
      await this.applyAmendment(pointer, { phoneNumberId, ...amendment });
    }
  }

  /** Idempotent and commutative: any order, any repeat of the same amendments ends in the same item. */
  private async applyAmendment(key: Key, amendment: MessageAmendment): Promise<void> {
    const exists = { expression: 'attribute_exists(pk)' };
    if (amendment.kind === 'revoke') {
      const outcome = await writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          ...updateExpression(
            { set: { deleted: true, deletedAt: amendment.at } },
            { expression: 'attribute_exists(pk) AND (attribute_not_exists(deletedAt) OR deletedAt > :at)', values: { ':at': amendment.at } },
          ),
        }),
      );
      if (outcome.applied) await this.withdrawPreview(key);
      return;
    }
    const version = { text: amendment.text ?? '', at: amendment.at };
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: key, ...updateExpression({ set: { editVersions: ifNotExists({}) } }, exists) }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET editVersions.#wamid = :version',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#wamid': amendment.wamid },
        ExpressionAttributeValues: { ':version': version },
      }),
    );
    const editKey = entities.lastMessageKey(amendment.at, amendment.wamid);
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        // The text as first written is kept by the first edit; only a later edit (or this one again) sets `text`.
        UpdateExpression: 'SET originalText = if_not_exists(originalText, #text), #text = :text, editedAt = :at, editKey = :key',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(editKey) OR editKey <= :key)',
        ExpressionAttributeNames: { '#text': 'text' },
        ExpressionAttributeValues: { ':text': version.text, ':at': amendment.at, ':key': editKey },
      }),
    );
  }

  /** A deleted message that is its conversation's last one no longer shows there. */
  private async withdrawPreview(key: Key): Promise<void> {
    const parts = entities.message.keyParts(key);
    if (!parts) return;
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey({ accountId: parts.accountId, whatsappPhno: parts.whatsappPhno, contactKey: parts.contactKey }),
        UpdateExpression: 'SET lastMessagePreview = :preview',
        ConditionExpression: 'attribute_exists(pk) AND lastMessageKey = :key',
        ExpressionAttributeValues: { ':preview': DELETED_PREVIEW, ':key': entities.lastMessageKey(parts.timestamp, parts.wamid) },
      }),
    );
  }

  async recordOutbound(message: OutboundMessage): Promise<void> {
    const messageKey = entities.message.key(messageParts(message, message.timestamp, message.wamid));
    const content = {
      type: entities.message.type,
      accountId: message.accountId,
      whatsapp_phno: message.whatsappPhno,
      phoneNumberId: message.phoneNumberId,
      contactKey: message.contactKey,
      wamid: message.wamid,
      direction: 'out' as const,
      messageType: message.messageType,
      text: message.text,
      timestamp: message.timestamp,
      ...(message.content ? { content: message.content } : {}),
      ...(message.bizOpaqueCallbackData ? { bizOpaqueCallbackData: message.bizOpaqueCallbackData } : {}),
      ...(message.ai ? { ai: message.ai } : {}),
      ...(message.media ? { media: message.media } : {}),
    };
    const conversation = conversationUpsert(
      this.tableName,
      message,
      {
        identity: message.identity,
        lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: 'out' },
        unreadIncrement: false,
      },
      this.clock.now().toISOString(),
    );
    const created = await transact(this.doc, [
      this.pointerPut(message.phoneNumberId, message.wamid, messageKey, message),
      putNew(this.tableName, { ...messageKey, ...content, status: 'accepted', statusRank: 0 }, replay),
      { item: { Update: conversation } },
    ]);
    if (created === 'committed') return;

    // A status (or an earlier attempt of this send) created the item first: fill in what the send knows, keep its status.
    const pointer = await this.getPointer(message.phoneNumberId, message.wamid);
    if (!pointer) throw new MessageNotRecorded(`The message ${message.wamid} was neither created nor found; retry.`);
    const { timestamp: _listedUnder, ...known } = content; // the item keeps the time it is listed under
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: pointer,
        ...updateExpression({ set: { status: ifNotExists('accepted'), statusRank: ifNotExists(0), ...known } }),
      }),
    );
    await this.doc.send(new UpdateCommand(conversation));
  }

  async recordStatus(change: StatusChange): Promise<'applied' | 'stale'> {
    // Two rounds at most: either the pointer exists, or we create it, or someone created it meanwhile.
    for (let round = 0; round < 3; round++) {
      const pointer = await this.getPointer(change.phoneNumberId, change.wamid);
      if (pointer) return this.moveStatus(pointer, change);
      if (!change.contactKey) {
        // Nowhere to file it yet: failing lets the queue retry once the send is recorded.
        throw new MessageNotRecorded(`Status ${change.status} of ${change.wamid} names no recipient and its message is not recorded yet.`);
      }
      const ref = { accountId: change.accountId, whatsappPhno: change.whatsappPhno, contactKey: change.contactKey };
      const parts = messageParts(ref, change.at, change.wamid);
      const created = await transact(this.doc, [
        this.pointerPut(change.phoneNumberId, change.wamid, entities.message.key(parts), ref),
        putNew(
          this.tableName,
          entities.message.item(parts, {
            accountId: change.accountId,
            whatsapp_phno: change.whatsappPhno,
            phoneNumberId: change.phoneNumberId,
            contactKey: change.contactKey,
            wamid: change.wamid,
            direction: 'out',
            // What was sent is not known yet: the send, when recorded, fills it in.
            messageType: 'unknown',
            text: '',
            timestamp: change.at,
            ...statusAttributes(change),
          }),
          replay,
        ),
      ]);
      if (created === 'committed') return 'applied';
    }
    throw new MessageNotRecorded(`The message ${change.wamid} could not be found or created; retry.`);
  }

  async recordDecision(ref: ConversationRef, wamid: string, timestamp: string, decision: AutomationDecision): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.message.key(messageParts(ref, timestamp, wamid)),
        ...updateExpression({
          set: {
            automationDecision: decision,
            // A placeholder, when the inbox consumer has not written the message yet: it overwrites all of these.
            type: ifNotExists(entities.message.type),
            accountId: ifNotExists(ref.accountId),
            whatsapp_phno: ifNotExists(ref.whatsappPhno),
            contactKey: ifNotExists(ref.contactKey),
            wamid: ifNotExists(wamid),
            direction: ifNotExists('in'),
            messageType: ifNotExists('unknown'),
            text: ifNotExists(''),
            timestamp: ifNotExists(timestamp),
            status: ifNotExists('received'),
            statusRank: ifNotExists(0),
          },
        }),
      }),
    );
  }

  /**
   * Sets `media` on the message `wamid` once (`functions/core/inbound-media.ts`):
   * a stored file replaces nothing stored, a failure only an absent one. The
   * item is found by its wamid pointer; without one (the inbox consumer has not
   * written the message yet) and with `placeholderAt`, it is created at that
   * key like `recordDecision`'s placeholder, which the inbox's write completes
   * (it never names `media`). Answers whether it changed, and the message as
   * it now is when it is a whole message (not a placeholder).
   */
  async recordMedia(
    target: { phoneNumberId: string; wamid: string; placeholderAt?: { ref: ConversationRef; timestamp: string } },
    media: StoredMedia,
  ): Promise<{ outcome: 'recorded' | 'unchanged' | 'not-found'; message?: StoredMessage }> {
    const pointer = await this.getPointer(target.phoneNumberId, target.wamid);
    const at = target.placeholderAt;
    const key = pointer ?? (at ? entities.message.key(messageParts(at.ref, at.timestamp, target.wamid)) : undefined);
    if (!key) return { outcome: 'not-found' };
    const placeholder =
      !pointer && at
        ? {
            type: ifNotExists(entities.message.type),
            accountId: ifNotExists(at.ref.accountId),
            whatsapp_phno: ifNotExists(at.ref.whatsappPhno),
            contactKey: ifNotExists(at.ref.contactKey),
            phoneNumberId: ifNotExists(target.phoneNumberId),
            wamid: ifNotExists(target.wamid),
            direction: ifNotExists('in'),
            messageType: ifNotExists('unknown'),
            text: ifNotExists(''),
            timestamp: ifNotExists(at.timestamp),
            status: ifNotExists('received'),
            statusRank: ifNotExists(0),
          }
        : {};
    // Set once: a stored file stays; a failure never replaces anything. A pointer's item must exist.
    const once =
      media.status === 'stored'
        ? '(attribute_not_exists(media) OR media.#mediaStatus <> :stored)'
        : 'attribute_not_exists(media)';
    const update = updateExpression(
      { set: { media, ...placeholder } },
      {
        expression: pointer ? `attribute_exists(pk) AND ${once}` : once,
        ...(media.status === 'stored' ? { names: { '#mediaStatus': 'status' }, values: { ':stored': 'stored' } } : {}),
      },
    );
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          ...update,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = Attributes ? entities.message.parse(Attributes) : undefined;
      return { outcome: 'recorded', ...(item && !isDecisionPlaceholder(item) ? { message: toMessage(item) } : {}) };
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return { outcome: 'unchanged' };
      throw error;
    }
  }

  /** Whether the message `wamid` is stored (its wamid pointer exists). */
  async hasMessage(phoneNumberId: string, wamid: string): Promise<boolean> {
    return (await this.getPointer(phoneNumberId, wamid)) !== undefined;
  }

  /** A conversation's messages, oldest first (a decision's placeholder is not one yet: a page may hold fewer than asked). */
  async listMessages(ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>> {
    const partition = entities.message.partition({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey });
    const { items, nextCursor } = await queryPage(this.doc, this.tableName, { entity: entities.message, partition, skPrefix: entities.message.skPrefix() }, page);
    return { items: items.filter((item) => !isDecisionPlaceholder(item)).map(toMessage), nextCursor };
  }

  private async moveStatus(key: Key, change: StatusChange): Promise<'applied' | 'stale'> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        ...updateExpression(
          { set: statusAttributes(change) },
          // sent < delivered < read, failed outranks all: a late `sent` never downgrades a `read`.
          { expression: 'attribute_exists(pk) AND (attribute_not_exists(statusRank) OR statusRank < :rank)', values: { ':rank': change.rank } },
        ),
      }),
    );
    return outcome.applied ? 'applied' : 'stale';
  }

  /** The record that makes a redelivered event (same number and event id) a replay. */
  private dedupeItem(message: { phoneNumberId: string; eventId: string; wamid: string }, now: Date) {
    return entities.consumerDedupe.item(
      { phoneNumberId: message.phoneNumberId, eventId: message.eventId, consumer: CONSUMER },
      { wamid: message.wamid, at: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + DEDUPE_RETENTION_SECONDS },
    );
  }

  private pointerPut(phoneNumberId: string, wamid: string, messageKey: Key, ref: ConversationRef): TxPart {
    const now = this.clock.now();
    const pointer = entities.wamidPointer.item(
      { phoneNumberId, wamid },
      {
        messagePk: messageKey.pk,
        messageSk: messageKey.sk,
        accountId: ref.accountId,
        whatsapp_phno: ref.whatsappPhno,
        contactKey: ref.contactKey,
        createdAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + POINTER_RETENTION_SECONDS,
      },
    );
    return putNew(this.tableName, pointer, replay);
  }

  /** The key of the message item an outbound wamid names, if a send or a status recorded it. */
  private async getPointer(phoneNumberId: string, wamid: string): Promise<Key | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.wamidPointer.key({ phoneNumberId, wamid }), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { messagePk, messageSk } = entities.wamidPointer.parse(Item);
    return { pk: messagePk, sk: messageSk };
  }
}

/** A failed `attribute_not_exists` here means the same message was recorded before. */
const replay = (): typeof REPLAY => REPLAY;

/** Where a message is listed: its conversation's partition, by time then wamid. */
function messageParts(ref: ConversationRef, timestamp: string, wamid: string) {
  return { accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey, timestamp, wamid };
}

/** An item's attributes without its table key: what an update of it sets. */
function withoutKey(item: Record<string, unknown>, key: Key): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !(name in key)));
}

function statusAttributes(change: StatusChange) {
  return {
    status: change.status,
    statusRank: change.rank,
    statusAt: change.at,
    ...(change.error ? { error: change.error } : {}),
    ...(change.bizOpaqueCallbackData ? { bizOpaqueCallbackData: change.bizOpaqueCallbackData } : {}),
    ...(change.broadcastId ? { broadcastId: change.broadcastId } : {}),
  };
}

export function toMessage(item: ReturnType<typeof entities.message.parse>): StoredMessage {
  const source = item.source === 'business_app' || item.source === 'history' ? item.source : 'cloud_api';
  return {
    source,
    ...(item.from ? { from: item.from } : {}),
    ...(item.editedAt ? { editedAt: item.editedAt } : {}),
    ...editsOf(item),
    ...(item.deleted ? { deleted: true as const, ...(item.deletedAt ? { deletedAt: item.deletedAt } : {}) } : {}),
    wamid: item.wamid,
    direction: item.direction,
    messageType: item.messageType,
    text: item.text,
    status: item.status,
    timestamp: item.timestamp,
    ...(item.error ? { error: { code: item.error.code ?? null, title: item.error.title ?? null } } : {}),
    ...(item.automationDecision ? { automation: item.automationDecision } : {}),
    ...(item.ai ? { ai: item.ai } : {}),
    ...(item.content ? { content: item.content } : {}),
    ...(item.media ? { media: item.media } : {}),
  };
}

/** The earlier versions of an edited message, oldest first: as first written, then every edit but the one `text` shows. */
function editsOf(item: ReturnType<typeof entities.message.parse>): { edits?: { text: string; at: string }[] } {
  if (!item.editVersions || !item.editKey) return {};
  const shown = item.editKey;
  const versions = Object.entries(item.editVersions)
    .map(([wamid, version]) => ({ ...version, key: entities.lastMessageKey(version.at, wamid) }))
    .filter((version) => version.key !== shown)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ text, at }) => ({ text, at }));
  return { edits: [{ text: item.originalText ?? '', at: item.timestamp }, ...versions] };
}
