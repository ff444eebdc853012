/**
 * The inbox's conversations on DynamoDB. The last-message fields and both
 * index sort keys move together, only to a later `lastMessageKey`; the
 * service window and the free entry window only to a later time, the ad
 * referral only to a later click (`adReferralKey`), so a late or repeated
 * message never moves a conversation back. Usually all of them are one
 * conditional update (a message later than everything stored); when one part
 * is not forward, each is its own conditional update.
 *
 * What automations write (an assignment, a flag for an agent) and an agent's
 * reply time are attributes `conversationUpsert` never names: their writes
 * create the item when it is missing (its identity only, no index keys, so it
 * is listed once a message made it a conversation) and the message's upsert
 * later fills in the rest around them.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conversationIdOf } from '../../../schemas/whatsapp-ids.js';
import { searchTextOf } from '../../core/conversation-search.js';
import type {
  AssignmentChange,
  ConversationAdvance,
  ConversationListFilter,
  ConversationRef,
  ConversationStatus,
  StatusChangeRequest,
  StoredConversation,
} from '../../core/inbox-ports.js';
import type { Clock, Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { conversationFilterOf } from './conversation-filters.js';
import * as entities from './entities/index.js';
import { queryPage } from './query.js';
import type { TransactItem } from './transact.js';
import { ifNotExists, increment, updateExpression } from './update-expression.js';

/** Who reopened a conversation when a new inbound message did (`statusChangedBy`). */
export const REOPENED_BY_INBOUND = 'system:inbound-message';

const { gsi1: byAccount, gsi2: byNumber } = entities.conversation.indexes;

/** What a message tells its conversation when it is recorded. */
export interface ConversationTouch {
  identity: { waId?: string; userId?: string };
  rawWaId?: string;
  contactName?: string;
  lastMessage: { at: string; wamid: string; preview: string; direction: string };
  windowOpenUntil?: string;
  unreadIncrement: boolean;
  /** A WhatsApp group's conversation (its `contactKey` is the group's key). */
  groupId?: string;
}

export function conversationKey(ref: ConversationRef) {
  return entities.conversation.key({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey });
}

/**
 * The conversation's create-or-touch update, for the message's transaction:
 * identity fields set, everything a new conversation needs set only if
 * missing (`if_not_exists`), the unread count raised when asked. Forward moves
 * of an existing one are `advanceConversation`'s.
 */
export function conversationUpsert(tableName: string, ref: ConversationRef, touch: ConversationTouch, now: string): NonNullable<TransactItem['Update']> {
  const { accountId, whatsappPhno, contactKey } = ref;
  const { at, wamid, preview, direction } = touch.lastMessage;
  const order = byAccount.sk.build({ lastMessageAt: at, whatsappPhno, contactKey });
  return {
    TableName: tableName,
    Key: conversationKey(ref),
    ...updateExpression({
      set: {
        type: entities.conversation.type,
        accountId,
        whatsapp_phno: whatsappPhno,
        contactKey,
        conversationId: conversationIdOf(whatsappPhno, contactKey),
        createdAt: ifNotExists(now),
        unreadCount: touch.unreadIncrement ? increment(1) : ifNotExists(0),
        waId: touch.identity.waId || undefined,
        userId: touch.identity.userId || undefined,
        lastWaId: touch.rawWaId || undefined,
        contactName: touch.contactName ? ifNotExists(touch.contactName) : undefined,
        // New conversations start open; the name search is refreshed with the name (`advanceConversation`, contact edits).
        status: ifNotExists('open'),
        searchText: ifNotExists(searchTextOf({ name: touch.contactName, waId: touch.identity.waId, contactKey })),
        [byAccount.attributes.pk]: byAccount.partition({ accountId }),
        [byNumber.attributes.pk]: byNumber.partition({ accountId, whatsappPhno }),
        [byAccount.attributes.sk]: ifNotExists(order),
        [byNumber.attributes.sk]: ifNotExists(order),
        lastMessageAt: ifNotExists(at),
        lastMessageKey: ifNotExists(entities.lastMessageKey(at, wamid)),
        lastMessagePreview: ifNotExists(preview),
        lastMessageDirection: ifNotExists(direction),
        windowOpenUntil: touch.windowOpenUntil ? ifNotExists(touch.windowOpenUntil) : undefined,
        kind: touch.groupId ? 'group' : undefined,
        groupId: touch.groupId,
      },
    }),
  };
}

export class DynamoConversationRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  /**
   * One conditional update in the usual case (a message later than
   * everything stored, or the one that just created the conversation): every
   * forward move at once, the item it returns telling whether a resolved or
   * snoozed conversation is to be reopened. When any part is not forward (a
   * late older message, a preview its deletion withdrew, a longer free entry
   * window), each move goes on its own and only what is forward is applied.
   */
  async advanceConversation(advance: ConversationAdvance): Promise<void> {
    const together = await this.advanceTogether(advance);
    if (together === 'not-forward') await this.advanceEach(advance);
    else if (together === 'reopen' && advance.reopenAt) await this.reopen(conversationKey(advance), advance.reopenAt);
  }

  /**
   * Every move of `advance` in one update, conditioned on each being forward.
   * The stored keys may equal this message's (the message's own transaction
   * created the conversation with them, or this is a redelivery): the values
   * are then this message's own, so setting them again changes nothing. The
   * preview is the exception, as a deletion withdraws it: equal counts only
   * while the preview is still this message's.
   */
  private async advanceTogether(advance: ConversationAdvance): Promise<'applied' | 'reopen' | 'not-forward'> {
    if (!advance.lastMessage) return 'not-forward';
    const lastMessage = lastMessageFields(advance, advance.lastMessage);
    const lastInboundKey = advance.lastInbound ? entities.lastMessageKey(advance.lastInbound.at, advance.lastInbound.wamid) : undefined;
    const adReferralKey = advance.adReferral ? entities.lastMessageKey(advance.adReferral.at, advance.adReferral.wamid) : undefined;
    const forward: Record<string, unknown> = {
      windowOpenUntil: advance.windowOpenUntil,
      freeEntryUntil: advance.freeEntryUntil,
      lastInboundKey,
      adReferralKey,
    };
    const guarded = Object.entries(forward).filter(([, value]) => value !== undefined);
    const update = updateExpression(
      {
        set: {
          ...lastMessage,
          ...Object.fromEntries(guarded),
          ...(advance.lastInbound ? { lastInboundWamid: advance.lastInbound.wamid, lastInboundAt: advance.lastInbound.at } : {}),
          ...(advance.adReferral ? { adReferral: advance.adReferral } : {}),
        },
      },
      {
        expression: [
          'attribute_exists(pk)',
          '(attribute_not_exists(lastMessageKey) OR lastMessageKey < :key OR (lastMessageKey = :key AND lastMessagePreview = :preview))',
          ...guarded.map(([name]) => `(attribute_not_exists(#f_${name}) OR #f_${name} <= :f_${name})`),
        ].join(' AND '),
        names: Object.fromEntries(guarded.map(([name]) => [`#f_${name}`, name])),
        values: {
          ':key': lastMessage.lastMessageKey,
          ':preview': lastMessage.lastMessagePreview,
          ...Object.fromEntries(guarded.map(([name, value]) => [`:f_${name}`, value])),
        },
      },
    );
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({ TableName: this.tableName, Key: conversationKey(advance), ...withNameOf(advance, update), ...(advance.reopenAt ? { ReturnValues: 'ALL_NEW' } : {}) }),
    );
    if (!outcome.applied) return 'not-forward';
    const status = outcome.attributes?.status;
    return advance.reopenAt && (status === 'resolved' || status === 'snoozed') ? 'reopen' : 'applied';
  }

  /** Each move of `advance` on its own, each applied only where it is forward. */
  private async advanceEach(advance: ConversationAdvance): Promise<void> {
    const key = conversationKey(advance);
    const moves: Promise<unknown>[] = [];
    if (advance.lastMessage) {
      const lastMessage = lastMessageFields(advance, advance.lastMessage);
      const update = updateExpression(
        { set: lastMessage },
        // Only a later message moves the conversation (and its place in the newest-first indexes).
        { expression: 'attribute_exists(pk) AND (attribute_not_exists(lastMessageKey) OR lastMessageKey < :key)', values: { ':key': lastMessage.lastMessageKey } },
      );
      moves.push(writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, Key: key, ...withNameOf(advance, update) })));
    }
    if (advance.windowOpenUntil) moves.push(this.moveForward(key, 'windowOpenUntil', advance.windowOpenUntil));
    if (advance.freeEntryUntil) moves.push(this.moveForward(key, 'freeEntryUntil', advance.freeEntryUntil));
    if (advance.lastInbound) {
      // The read receipt names the latest inbound message: a late older one changes nothing.
      const { at, wamid } = advance.lastInbound;
      moves.push(this.moveToLaterKey(key, 'lastInboundKey', entities.lastMessageKey(at, wamid), { lastInboundWamid: wamid, lastInboundAt: at }));
    }
    if (advance.reopenAt) moves.push(this.reopen(key, advance.reopenAt));
    if (advance.adReferral) {
      // The latest click wins (as in Meta's ads reporting): an older or repeated referral changes nothing.
      const referralKey = entities.lastMessageKey(advance.adReferral.at, advance.adReferral.wamid);
      moves.push(this.moveToLaterKey(key, 'adReferralKey', referralKey, { adReferral: advance.adReferral }));
    }
    await Promise.all(moves);
  }

  /**
   * A new inbound message reopens a resolved or snoozed conversation (as
   * Chatwoot does), only when its status was set before the message: a late
   * older message does not undo a resolution that came after it. One
   * conditional update: an agent's status change racing it ends as whichever
   * write came last, never half of each.
   */
  private reopen(key: ReturnType<typeof conversationKey>, at: string) {
    return writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #status = :open, statusChangedAt = :at, statusChangedBy = :by REMOVE snoozedUntil',
        ConditionExpression: 'attribute_exists(pk) AND #status IN (:resolved, :snoozed) AND (attribute_not_exists(statusChangedAt) OR statusChangedAt < :at)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':open': 'open', ':resolved': 'resolved', ':snoozed': 'snoozed', ':at': at, ':by': REOPENED_BY_INBOUND },
      }),
    );
  }

  /** Sets `values` and the ordering attribute `keyAttribute` of an existing conversation only when `orderKey` is later than the stored one. */
  private moveToLaterKey(key: ReturnType<typeof conversationKey>, keyAttribute: 'lastInboundKey' | 'adReferralKey', orderKey: string, values: Record<string, unknown>) {
    const names = Object.keys(values);
    return writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET ${[...names, keyAttribute].map((name) => `#${name} = :${name}`).join(', ')}`,
        ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(#${keyAttribute}) OR #${keyAttribute} < :${keyAttribute})`,
        ExpressionAttributeNames: Object.fromEntries([...names, keyAttribute].map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries([...Object.entries(values), [keyAttribute, orderKey]].map(([name, value]) => [`:${name}`, value])),
      }),
    );
  }

  /** Sets a time attribute of an existing conversation only to a later time. */
  private moveForward(key: ReturnType<typeof conversationKey>, attribute: 'windowOpenUntil' | 'freeEntryUntil', until: string) {
    return writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #until = :until',
        // The window never closes earlier because an older message arrived late.
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#until) OR #until < :until)',
        ExpressionAttributeNames: { '#until': attribute },
        ExpressionAttributeValues: { ':until': until },
      }),
    );
  }

  async getConversation(ref: ConversationRef): Promise<StoredConversation | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: conversationKey(ref), ConsistentRead: true }));
    return Item ? toConversation(Item) : undefined;
  }

  /**
   * Newest first: every conversation of the account (gsi1), or one number's
   * (gsi2); the other filters are a `FilterExpression` (`conversation-filters.ts`),
   * so a page may hold fewer than asked. An empty `whatsappPhnos` reads nothing.
   */
  async listConversations(accountId: string, filter: ConversationListFilter, page: PageRequest): Promise<Page<StoredConversation>> {
    const phnos = filter.whatsappPhnos;
    if (filter.whatsappPhno === undefined && phnos !== undefined && phnos.length === 0) return { items: [], nextCursor: null };
    if (filter.whatsappPhno !== undefined && phnos !== undefined && !phnos.includes(filter.whatsappPhno)) return { items: [], nextCursor: null };
    const whatsappPhno = filter.whatsappPhno ?? (phnos?.length === 1 ? phnos[0] : undefined);
    const query =
      whatsappPhno !== undefined
        ? { index: byNumber, partition: byNumber.partition({ accountId, whatsappPhno }) }
        : { index: byAccount, partition: byAccount.partition({ accountId }) };
    const condition = conversationFilterOf({ ...filter, whatsappPhno }, filter.now ?? this.clock.now().toISOString());
    const { items, nextCursor } = await queryPage(
      this.doc,
      this.tableName,
      { entity: entities.conversation, ...query, newestFirst: true, ...(condition ? { filter: condition } : {}) },
      page,
    );
    return { items: items.map(fromParsed), nextCursor };
  }

  async assignTeam(ref: ConversationRef, teamId: string, userId?: string): Promise<StoredConversation> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey(ref),
        ...updateExpression({ set: { ...identityOf(ref), assignedTeamId: teamId, assignedUserId: userId }, remove: userId ? [] : ['assignedUserId'] }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toConversation(Attributes ?? {});
  }

  /** An agent's assignment of an existing conversation: a team cleared clears its member too. */
  async assign(ref: ConversationRef, change: AssignmentChange): Promise<StoredConversation | undefined> {
    const set: Record<string, unknown> = {};
    const remove = new Set<string>();
    if (change.teamId === null) ['assignedTeamId', 'assignedUserId'].forEach((name) => remove.add(name));
    else if (change.teamId !== undefined) set.assignedTeamId = change.teamId;
    if (change.userId === null) remove.add('assignedUserId');
    else if (change.userId !== undefined && change.teamId !== null) set.assignedUserId = change.userId;
    if (Object.keys(set).length === 0 && remove.size === 0) return this.getConversation(ref);
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey(ref),
        ...updateExpression({ set, remove: [...remove] }, { expression: 'attribute_exists(pk)' }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return outcome.applied && outcome.attributes ? toConversation(outcome.attributes) : undefined;
  }

  /** Sets the status (and `snoozedUntil` with `snoozed`, removed otherwise) of an existing conversation. */
  async setStatus(ref: ConversationRef, change: StatusChangeRequest): Promise<StoredConversation | undefined> {
    const snoozed = change.status === 'snoozed';
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey(ref),
        ...updateExpression(
          {
            set: { status: change.status, statusChangedAt: change.at, statusChangedBy: change.by, snoozedUntil: snoozed ? change.snoozedUntil : undefined },
            remove: snoozed ? [] : ['snoozedUntil'],
          },
          { expression: 'attribute_exists(pk)' },
        ),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return outcome.applied && outcome.attributes ? toConversation(outcome.attributes) : undefined;
  }

  async flagForAgent(ref: ConversationRef, reason: string, at: string): Promise<void> {
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey(ref),
        ...updateExpression(
          { set: { ...identityOf(ref), needsAgent: { reason, at } } },
          // The first flag stands until an agent answers; an agent who answered after `at` already took it.
          { expression: 'attribute_not_exists(needsAgent) AND (attribute_not_exists(lastAgentReplyAt) OR lastAgentReplyAt < :at)', values: { ':at': at } },
        ),
      }),
    );
  }

  async markAgentReply(ref: ConversationRef, at: string): Promise<void> {
    const key = conversationKey(ref);
    await Promise.all([
      writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET lastAgentReplyAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastAgentReplyAt) OR lastAgentReplyAt < :at)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
      writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'REMOVE needsAgent',
          // A flag raised after this reply (the automation saw a later message) stays.
          ConditionExpression: 'attribute_exists(needsAgent) AND needsAgent.#at <= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    ]);
  }

  markRead(ref: ConversationRef): Promise<StoredConversation | undefined> {
    return this.updateExisting(ref, 'SET unreadCount = :zero', { ':zero': 0 });
  }

  private async updateExisting(ref: ConversationRef, expression: string, values: Record<string, unknown>): Promise<StoredConversation | undefined> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: conversationKey(ref),
        UpdateExpression: expression,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return outcome.applied && outcome.attributes ? toConversation(outcome.attributes) : undefined;
  }
}

/**
 * The profile name a later message brings, unless an agent named the contact
 * (`customName`, `customSearchText`: written by a contact edit, which wins).
 */
/** The last-message fields and both index sort keys, as `lastMessage` sets them (they always move together). */
function lastMessageFields(ref: ConversationRef, lastMessage: NonNullable<ConversationAdvance['lastMessage']>) {
  const { at, wamid, preview, direction } = lastMessage;
  const order = byAccount.sk.build({ lastMessageAt: at, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey });
  return {
    lastMessageAt: at,
    lastMessageKey: entities.lastMessageKey(at, wamid),
    lastMessagePreview: preview,
    lastMessageDirection: direction,
    [byAccount.attributes.sk]: order,
    [byNumber.attributes.sk]: order,
  };
}

/** `update` also setting the profile name the message carries, when it carries one (an agent's name is kept). */
function withNameOf(advance: ConversationAdvance, update: ReturnType<typeof updateExpression>): ReturnType<typeof updateExpression> {
  return advance.contactName ? withProfileName(update, advance.contactName, searchTextOf({ name: advance.contactName, contactKey: advance.contactKey })) : update;
}

function withProfileName(update: ReturnType<typeof updateExpression>, name: string, search: string): ReturnType<typeof updateExpression> {
  if (!update.UpdateExpression.startsWith('SET ') || /\b(ADD|REMOVE)\b/.test(update.UpdateExpression)) throw new Error('withProfileName extends a SET-only update');
  return {
    ...update,
    UpdateExpression: `${update.UpdateExpression}, #pname = if_not_exists(#pcustom, :pname), #psearch = if_not_exists(#pcsearch, :psearch)`,
    ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#pname': 'contactName', '#pcustom': 'customName', '#psearch': 'searchText', '#pcsearch': 'customSearchText' },
    ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':pname': name, ':psearch': search },
  };
}

/**
 * The conversation's part of a contact's rename (in the contact edit's
 * transaction): an agent's name is kept as `customName` and shown as
 * `contactName`; cleared (`null`), the profile's name is shown again. Creates
 * the item with its identity when the inbox consumer has not yet (like
 * `assignTeam`): its upsert keeps the name.
 */
export function conversationRename(tableName: string, ref: ConversationRef, name: { custom: string } | { profile?: string }): NonNullable<TransactItem['Update']> {
  const shown = 'custom' in name ? name.custom : name.profile;
  const search = searchTextOf({ name: shown, contactKey: ref.contactKey });
  return {
    TableName: tableName,
    Key: conversationKey(ref),
    ...updateExpression({
      set: {
        ...identityOf(ref),
        contactName: shown,
        searchText: search,
        ...('custom' in name ? { customName: name.custom, customSearchText: search } : {}),
      },
      remove: ['custom' in name ? [] : ['customName', 'customSearchText'], shown === undefined ? ['contactName'] : []].flat(),
    }),
  };
}

/** What every write of a conversation sets alike (the upsert too): enough for a created item to read as its conversation. */
function identityOf(ref: ConversationRef) {
  return {
    type: entities.conversation.type,
    accountId: ref.accountId,
    whatsapp_phno: ref.whatsappPhno,
    contactKey: ref.contactKey,
    conversationId: conversationIdOf(ref.whatsappPhno, ref.contactKey),
  };
}

const STATUSES: readonly string[] = ['open', 'pending', 'resolved', 'snoozed'] satisfies ConversationStatus[];

function toConversation(item: Record<string, unknown>): StoredConversation {
  return fromParsed(entities.conversation.parse(item));
}

function fromParsed(item: ReturnType<typeof entities.conversation.parse>): StoredConversation {
  const optional = { waId: item.waId, userId: item.userId, lastWaId: item.lastWaId, contactName: item.contactName, lastMessageAt: item.lastMessageAt };
  const more = { lastMessagePreview: item.lastMessagePreview, assignedTeamId: item.assignedTeamId, windowOpenUntil: item.windowOpenUntil };
  const automations = { assignedUserId: item.assignedUserId, lastAgentReplyAt: item.lastAgentReplyAt, freeEntryUntil: item.freeEntryUntil };
  const work = {
    status: STATUSES.includes(item.status as ConversationStatus) ? item.status : undefined,
    snoozedUntil: item.snoozedUntil,
    statusChangedAt: item.statusChangedAt,
    statusChangedBy: item.statusChangedBy,
    lastInboundWamid: item.lastInboundWamid,
    lastInboundAt: item.lastInboundAt,
  };
  return {
    accountId: item.accountId,
    whatsappPhno: item.whatsapp_phno,
    contactKey: item.contactKey,
    kind: item.kind === 'group' ? 'group' : 'direct',
    ...(item.groupId ? { groupId: item.groupId } : {}),
    unreadCount: item.unreadCount,
    ...(definedOnly({ ...optional, ...more, ...automations, ...work }) as Partial<Omit<StoredConversation, 'status'>> & { status?: ConversationStatus }),
    ...(item.needsAgent ? { needsAgent: { reason: item.needsAgent.reason, at: item.needsAgent.at } } : {}),
    ...(item.adReferral ? { adReferral: item.adReferral } : {}),
  };
}

/** The attributes that are there: an absent one stays absent rather than `undefined`. */
function definedOnly<T extends Record<string, string | undefined>>(values: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<Record<keyof T, string>>;
}
