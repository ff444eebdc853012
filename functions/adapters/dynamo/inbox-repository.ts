/**
 * Contacts, conversations and messages on DynamoDB: one function per access
 * pattern, every rule a condition next to the write it guards.
 *
 * - Inbound message: dedupe record + message + conversation (unread +1) in one
 *   transaction; the dedupe record's `attribute_not_exists` makes a redelivery
 *   change nothing.
 * - Conversation order and window: separate updates that only apply when the
 *   new value is later than the stored one (`lastMessageKey < :k`,
 *   `windowOpenUntil < :w`); the GSI sort keys move with them, never back.
 * - Outbound messages and statuses: a wamid pointer (`WAMID#{pnid}#{wamid}`)
 *   names the message item; whichever of the send and its first status comes
 *   first creates pointer and item together, the other completes the item.
 *   Statuses apply only when their rank is higher than the stored one.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import { conversationIdOf } from '../../core/contact-id.js';
import { ValidationFailed } from '../../core/errors.js';
import {
  type ContactSighting,
  type ConversationAdvance,
  type ConversationRef,
  DEDUPE_RETENTION_SECONDS,
  type InboundMessage,
  type InboxRepository,
  type MessageStatus,
  type OutboundMessage,
  SERVICE_WINDOW_MS,
  type SendingNumber,
  type StatusChange,
  type StoredContact,
  type StoredConversation,
  type StoredMessage,
  preview,
} from '../../core/inbox.js';
import type { Clock, Page, PageRequest } from '../../core/ports.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { REPLAY, type TxPart, transact } from './transact.js';

/** Statuses come for weeks at most; the pointer that finds their message can go after this. */
const POINTER_RETENTION_SECONDS = 90 * 24 * 60 * 60;

const CONSUMER = 'inbox';

type Item = Record<string, unknown>;

export class DynamoInboxRepository implements InboxRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  // ------------------------------------------------------------- contacts

  async contactKeyForUserId(accountId: string, whatsappPhno: string, userId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.contactUserId(accountId, whatsappPhno, userId), ConsistentRead: true }),
    );
    return Item?.contactKey as string | undefined;
  }

  async recordContact(sighting: ContactSighting): Promise<void> {
    const { accountId, whatsappPhno, contactKey, identity } = sighting;
    const names: Record<string, string> = { '#type': 'type' };
    const values: Item = {
      ':type': 'contact',
      ':a': accountId,
      ':p': whatsappPhno,
      ':k': contactKey,
      ':t': sighting.seenAt,
      ':attrs': { whatsapp_phno: whatsappPhno },
    };
    const sets = [
      '#type = :type',
      'accountId = :a',
      'whatsapp_phno = :p',
      'contactKey = :k',
      'firstSeenAt = if_not_exists(firstSeenAt, :t)',
      'lastSeenAt = :t',
      'attributes = if_not_exists(attributes, :attrs)',
    ];
    if (identity.waId) {
      sets.push('waId = :w');
      values[':w'] = identity.waId;
    }
    if (identity.userId) {
      sets.push('userId = :u');
      values[':u'] = identity.userId;
    }
    if (sighting.name) {
      sets.push('#name = :n');
      names['#name'] = 'name';
      values[':n'] = sighting.name;
    }
    await this.ignoringConditionFailure(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.contact(accountId, whatsappPhno, contactKey),
        UpdateExpression: `SET ${sets.join(', ')}`,
        // An older sighting (late delivery, redelivery) changes nothing: lastSeenAt and the name only move forward.
        ConditionExpression: 'attribute_not_exists(lastSeenAt) OR lastSeenAt < :t',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    if (identity.userId && identity.waId) {
      // Idempotent: the same BSUID always names the same number's contact.
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.contactUserId(accountId, whatsappPhno, identity.userId), type: 'contactUserId', contactKey },
        }),
      );
    }
  }

  async listContacts(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredContact>> {
    const pk = keys.account(accountId).pk;
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.contactsPrefix(filter.whatsappPhno) },
        Limit: page.limit,
        ExclusiveStartKey: this.startKey(page.cursor, { pk }, keys.contactsPrefix(filter.whatsappPhno)),
      }),
    );
    return { items: (Items ?? []).map(toContact), nextCursor: encodeCursor(LastEvaluatedKey) };
  }

  // -------------------------------------------------------- conversations

  async recordInbound(message: InboundMessage): Promise<'recorded' | 'duplicate'> {
    const now = this.clock.now();
    const dedupe: TxPart = {
      item: {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.consumerDedupe(message.phoneNumberId, message.eventId, CONSUMER),
            type: 'dedupe',
            wamid: message.wamid,
            at: now.toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + DEDUPE_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => REPLAY,
    };
    const messageItem: TxPart = {
      item: {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.message(message.accountId, message.whatsappPhno, message.contactKey, message.timestamp, message.wamid),
            type: 'message',
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
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => REPLAY,
    };
    const conversation = this.conversationUpsert(message, {
      identity: message.identity,
      rawWaId: message.rawWaId,
      contactName: message.contactName,
      lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: 'in' },
      windowOpenUntil: new Date(Date.parse(message.timestamp) + SERVICE_WINDOW_MS).toISOString(),
      unreadIncrement: true,
    });
    const result = await transact(this.doc, [dedupe, messageItem, { item: { Update: conversation } }]);
    return result === REPLAY ? 'duplicate' : 'recorded';
  }

  async advanceConversation(advance: ConversationAdvance): Promise<void> {
    const key = keys.conversation(advance.accountId, advance.whatsappPhno, advance.contactKey);
    const moves: Promise<void>[] = [];
    if (advance.lastMessage) {
      const { at, wamid, preview: text, direction } = advance.lastMessage;
      const order = keys.conversationOrder(at, advance.whatsappPhno, advance.contactKey);
      const values: Item = { ':at': at, ':mk': `${at}#${wamid}`, ':pv': text, ':dir': direction, ':order': order };
      const sets = ['lastMessageAt = :at', 'lastMessageKey = :mk', 'lastMessagePreview = :pv', 'lastMessageDirection = :dir', 'gsi1sk = :order', 'gsi2sk = :order'];
      if (advance.contactName) {
        sets.push('contactName = :n');
        values[':n'] = advance.contactName;
      }
      moves.push(
        this.ignoringConditionFailure(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `SET ${sets.join(', ')}`,
            // Only a later message moves the conversation (and its place in the newest-first indexes).
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastMessageKey) OR lastMessageKey < :mk)',
            ExpressionAttributeValues: values,
          }),
        ),
      );
    }
    if (advance.windowOpenUntil) {
      moves.push(
        this.ignoringConditionFailure(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET windowOpenUntil = :w',
            // The window never closes earlier because an older message arrived late.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(windowOpenUntil) OR windowOpenUntil < :w)',
            ExpressionAttributeValues: { ':w': advance.windowOpenUntil },
          }),
        ),
      );
    }
    await Promise.all(moves);
  }

  async getConversation(ref: ConversationRef): Promise<StoredConversation | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.conversation(ref.accountId, ref.whatsappPhno, ref.contactKey), ConsistentRead: true }),
    );
    return Item ? toConversation(Item) : undefined;
  }

  async listConversations(accountId: string, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredConversation>> {
    const byNumber = filter.whatsappPhno !== undefined;
    const index = byNumber ? 'gsi2' : 'gsi1';
    const partition = byNumber ? keys.conversationsOfNumber(accountId, filter.whatsappPhno!) : keys.conversationsOfAccount(accountId);
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: `${index}pk = :pk`,
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: this.startKey(page.cursor, { [`${index}pk`]: partition, pk: keys.account(accountId).pk }),
      }),
    );
    return { items: (Items ?? []).map(toConversation), nextCursor: encodeCursor(LastEvaluatedKey) };
  }

  async assignTeam(ref: ConversationRef, teamId: string): Promise<StoredConversation | undefined> {
    return this.updateExisting(ref, 'SET assignedTeamId = :team', { ':team': teamId });
  }

  async markRead(ref: ConversationRef): Promise<StoredConversation | undefined> {
    return this.updateExisting(ref, 'SET unreadCount = :zero', { ':zero': 0 });
  }

  // ------------------------------------------------------------- messages

  async listMessages(ref: ConversationRef, page: PageRequest): Promise<Page<StoredMessage>> {
    const pk = keys.messages(ref.accountId, ref.whatsappPhno, ref.contactKey);
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.messagesPrefix() },
        ScanIndexForward: true,
        Limit: page.limit,
        ExclusiveStartKey: this.startKey(page.cursor, { pk }, keys.messagesPrefix()),
      }),
    );
    return { items: (Items ?? []).map(toMessage), nextCursor: encodeCursor(LastEvaluatedKey) };
  }

  async recordOutbound(message: OutboundMessage): Promise<void> {
    const messageKey = keys.message(message.accountId, message.whatsappPhno, message.contactKey, message.timestamp, message.wamid);
    const content: Item = {
      type: 'message',
      accountId: message.accountId,
      whatsapp_phno: message.whatsappPhno,
      phoneNumberId: message.phoneNumberId,
      contactKey: message.contactKey,
      wamid: message.wamid,
      direction: 'out',
      messageType: message.messageType,
      text: message.text,
      timestamp: message.timestamp,
      ...(message.content ? { content: message.content } : {}),
      ...(message.bizOpaqueCallbackData ? { bizOpaqueCallbackData: message.bizOpaqueCallbackData } : {}),
    };
    const conversation = this.conversationUpsert(message, {
      identity: message.identity,
      lastMessage: { at: message.timestamp, wamid: message.wamid, preview: preview(message.text), direction: 'out' },
      unreadIncrement: false,
    });
    const created = await transact(this.doc, [
      this.pointerPut(message.phoneNumberId, message.wamid, messageKey, message),
      {
        item: { Put: { TableName: this.tableName, Item: { ...messageKey, ...content, status: 'accepted', statusRank: 0 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        onConditionFailed: () => REPLAY,
      },
      { item: { Update: conversation } },
    ]);
    if (created === 'committed') return;

    // A status (or an earlier attempt of this send) created the item first: fill in what the send knows, keep its status.
    const pointer = await this.getPointer(message.phoneNumberId, message.wamid);
    if (!pointer) throw new Error(`The message ${message.wamid} was neither created nor found; retry.`);
    const names: Record<string, string> = { '#status': 'status' };
    const values: Item = { ':accepted': 'accepted', ':zero': 0 };
    const sets = ['#status = if_not_exists(#status, :accepted)', 'statusRank = if_not_exists(statusRank, :zero)'];
    Object.entries(content)
      .filter(([attribute]) => attribute !== 'timestamp') // the item keeps the time it is listed under
      .forEach(([attribute, value], i) => {
        names[`#c${i}`] = attribute;
        values[`:c${i}`] = value;
        sets.push(`#c${i} = :c${i}`);
      });
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pointer.messagePk, sk: pointer.messageSk },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    await this.doc.send(new UpdateCommand(conversation));
  }

  async recordStatus(change: StatusChange): Promise<'applied' | 'stale'> {
    // Two rounds at most: either the pointer exists, or we create it, or someone created it meanwhile.
    for (let round = 0; round < 3; round++) {
      const pointer = await this.getPointer(change.phoneNumberId, change.wamid);
      if (pointer) return this.moveStatus({ pk: pointer.messagePk, sk: pointer.messageSk }, change);
      if (!change.contactKey) {
        // Nowhere to file it yet: failing lets the queue retry once the send is recorded.
        throw new Error(`Status ${change.status} of ${change.wamid} names no recipient and its message is not recorded yet.`);
      }
      const ref = { accountId: change.accountId, whatsappPhno: change.whatsappPhno, contactKey: change.contactKey };
      const messageKey = keys.message(change.accountId, change.whatsappPhno, change.contactKey, change.at, change.wamid);
      const created = await transact(this.doc, [
        this.pointerPut(change.phoneNumberId, change.wamid, messageKey, ref),
        {
          item: {
            Put: {
              TableName: this.tableName,
              Item: {
                ...messageKey,
                type: 'message',
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
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          onConditionFailed: () => REPLAY,
        },
      ]);
      if (created === 'committed') return 'applied';
    }
    throw new Error(`The message ${change.wamid} could not be found or created; retry.`);
  }

  async getSendingNumber(accountId: string, whatsappPhno: string): Promise<SendingNumber | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.number(accountId, whatsappPhno), ConsistentRead: true }));
    if (!Item || typeof Item.phoneNumberId !== 'string') return undefined;
    if (typeof Item.status === 'string' && /^(disconnected|removed)$/i.test(Item.status)) return undefined;
    return { phoneNumberId: Item.phoneNumberId, ...(typeof Item.wabaId === 'string' ? { wabaId: Item.wabaId } : {}) };
  }

  // -------------------------------------------------------------- helpers

  private async moveStatus(key: { pk: string; sk: string }, change: StatusChange): Promise<'applied' | 'stale'> {
    const attributes = statusAttributes(change);
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets: string[] = [];
    for (const [attribute, value] of Object.entries(attributes)) {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}`,
          // sent < delivered < read, failed outranks all: a late `sent` never downgrades a `read`.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#statusRank) OR #statusRank < :statusRank)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'applied';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
  }

  private pointerPut(phoneNumberId: string, wamid: string, messageKey: { pk: string; sk: string }, ref: ConversationRef): TxPart {
    const now = this.clock.now();
    return {
      item: {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.wamidPointer(phoneNumberId, wamid),
            type: 'wamidPointer',
            messagePk: messageKey.pk,
            messageSk: messageKey.sk,
            accountId: ref.accountId,
            whatsapp_phno: ref.whatsappPhno,
            contactKey: ref.contactKey,
            createdAt: now.toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + POINTER_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => REPLAY,
    };
  }

  private async getPointer(phoneNumberId: string, wamid: string): Promise<{ messagePk: string; messageSk: string } | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.wamidPointer(phoneNumberId, wamid), ConsistentRead: true }));
    return Item ? { messagePk: Item.messagePk as string, messageSk: Item.messageSk as string } : undefined;
  }

  /**
   * The conversation's create-or-touch update: identity fields set, everything
   * a new conversation needs set only if missing (`if_not_exists`), the unread
   * count raised when asked. Forward moves of an existing one are `advanceConversation`'s.
   */
  private conversationUpsert(
    ref: ConversationRef,
    options: {
      identity: { waId?: string; userId?: string };
      rawWaId?: string;
      contactName?: string;
      lastMessage: { at: string; wamid: string; preview: string; direction: string };
      windowOpenUntil?: string;
      unreadIncrement: boolean;
    },
  ) {
    const names: Record<string, string> = { '#type': 'type' };
    const values: Item = {
      ':type': 'conversation',
      ':a': ref.accountId,
      ':p': ref.whatsappPhno,
      ':k': ref.contactKey,
      ':cid': conversationIdOf(ref.whatsappPhno, ref.contactKey),
      ':now': this.clock.now().toISOString(),
      ':zero': 0,
    };
    const sets = [
      '#type = :type',
      'accountId = :a',
      'whatsapp_phno = :p',
      'contactKey = :k',
      'conversationId = :cid',
      'createdAt = if_not_exists(createdAt, :now)',
      options.unreadIncrement ? 'unreadCount = if_not_exists(unreadCount, :zero) + :one' : 'unreadCount = if_not_exists(unreadCount, :zero)',
    ];
    if (options.unreadIncrement) values[':one'] = 1;
    if (options.identity.waId) {
      sets.push('waId = :w');
      values[':w'] = options.identity.waId;
    }
    if (options.identity.userId) {
      sets.push('userId = :u');
      values[':u'] = options.identity.userId;
    }
    if (options.rawWaId) {
      sets.push('lastWaId = :raw');
      values[':raw'] = options.rawWaId;
    }
    if (options.contactName) {
      sets.push('contactName = if_not_exists(contactName, :n)');
      values[':n'] = options.contactName;
    }
    const { at, wamid, preview: text, direction } = options.lastMessage;
    Object.assign(values, {
      ':g1': keys.conversationsOfAccount(ref.accountId),
      ':g2': keys.conversationsOfNumber(ref.accountId, ref.whatsappPhno),
      ':order': keys.conversationOrder(at, ref.whatsappPhno, ref.contactKey),
      ':at': at,
      ':mk': `${at}#${wamid}`,
      ':pv': text,
      ':dir': direction,
    });
    sets.push(
      'gsi1pk = :g1',
      'gsi2pk = :g2',
      'gsi1sk = if_not_exists(gsi1sk, :order)',
      'gsi2sk = if_not_exists(gsi2sk, :order)',
      'lastMessageAt = if_not_exists(lastMessageAt, :at)',
      'lastMessageKey = if_not_exists(lastMessageKey, :mk)',
      'lastMessagePreview = if_not_exists(lastMessagePreview, :pv)',
      'lastMessageDirection = if_not_exists(lastMessageDirection, :dir)',
    );
    if (options.windowOpenUntil) {
      sets.push('windowOpenUntil = if_not_exists(windowOpenUntil, :win)');
      values[':win'] = options.windowOpenUntil;
    }
    return {
      TableName: this.tableName,
      Key: keys.conversation(ref.accountId, ref.whatsappPhno, ref.contactKey),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  private async updateExisting(ref: ConversationRef, expression: string, values: Item): Promise<StoredConversation | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.conversation(ref.accountId, ref.whatsappPhno, ref.contactKey),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toConversation(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async ignoringConditionFailure(command: UpdateCommand): Promise<void> {
    try {
      await this.doc.send(command);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * A cursor is only ever a key of the query it came from: one naming another
   * partition (another account's, or a forged one) is refused as bad input.
   */
  private startKey(cursor: string | undefined, expected: Record<string, string>, skPrefix?: string): Record<string, unknown> | undefined {
    const key = decodeCursor(cursor);
    if (!key) return undefined;
    const matches =
      Object.entries(expected).every(([name, value]) => key[name] === value) &&
      typeof key.sk === 'string' &&
      (skPrefix === undefined || key.sk.startsWith(skPrefix)) &&
      Object.values(key).every((value) => typeof value === 'string');
    if (!matches) throw new ValidationFailed([{ path: ['query', 'cursor'], message: 'Not a cursor this API returned.', code: 'invalid_format' }]);
    return key;
  }
}

function statusAttributes(change: StatusChange): Item {
  return {
    status: change.status,
    statusRank: change.rank,
    statusAt: change.at,
    ...(change.error ? { error: change.error } : {}),
    ...(change.bizOpaqueCallbackData ? { bizOpaqueCallbackData: change.bizOpaqueCallbackData } : {}),
    ...(change.broadcastId ? { broadcastId: change.broadcastId } : {}),
  };
}

function toContact(item: Item): StoredContact {
  return {
    accountId: item.accountId as string,
    whatsappPhno: item.whatsapp_phno as string,
    contactKey: item.contactKey as string,
    ...(item.waId ? { waId: item.waId as string } : {}),
    ...(item.userId ? { userId: item.userId as string } : {}),
    ...(item.name ? { name: item.name as string } : {}),
    attributes: { ...((item.attributes as Item) ?? {}), whatsapp_phno: item.whatsapp_phno as string },
    firstSeenAt: item.firstSeenAt as string,
    lastSeenAt: item.lastSeenAt as string,
  };
}

function toConversation(item: Item): StoredConversation {
  const optional = (name: string) => (typeof item[name] === 'string' ? { [name]: item[name] as string } : {});
  return {
    accountId: item.accountId as string,
    whatsappPhno: item.whatsapp_phno as string,
    contactKey: item.contactKey as string,
    unreadCount: Number(item.unreadCount ?? 0),
    ...optional('waId'),
    ...optional('userId'),
    ...optional('lastWaId'),
    ...optional('contactName'),
    ...optional('lastMessageAt'),
    ...optional('lastMessagePreview'),
    ...optional('assignedTeamId'),
    ...optional('windowOpenUntil'),
  };
}

function toMessage(item: Item): StoredMessage {
  const error = item.error as { code?: number | null; title?: string | null } | undefined;
  return {
    wamid: item.wamid as string,
    direction: item.direction as 'in' | 'out',
    messageType: item.messageType as string,
    text: (item.text as string) ?? '',
    status: item.status as MessageStatus,
    timestamp: item.timestamp as string,
    ...(error ? { error: { code: error.code ?? null, title: error.title ?? null } } : {}),
  };
}
