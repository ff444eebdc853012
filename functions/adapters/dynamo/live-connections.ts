/**
 * Live updates on DynamoDB: the dashboard's WebSocket connections (entity
 * `entities/live.ts`, one partition per account) and the read-back of a
 * message a live update shows (`LiveMessageLookup`: by the wamid pointer, or
 * by the message's own key).
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationRef, StoredMessage } from '../../core/inbox-ports.js';
import type { LiveConnection, LiveConnectionStore } from '../../core/live-connections.js';
import type { LiveMessageLookup } from '../../core/live-inbox.js';
import type { Clock } from '../../core/ports.js';
import * as entities from './entities/index.js';
import { isDecisionPlaceholder } from './entities/inbox.js';
import { toMessage } from './message-repository.js';
import { queryAll } from './query.js';

export class DynamoLiveConnectionStore implements LiveConnectionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async put(connection: LiveConnection): Promise<void> {
    const { accountId, connectionId, access } = connection;
    const stored = { ...connection, access: access.all ? { all: true as const } : { all: false as const, numbers: [...access.numbers] } };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: entities.liveConnection.item({ accountId, connectionId }, stored) }));
  }

  async get(accountId: string, connectionId: string): Promise<LiveConnection | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.liveConnection.key({ accountId, connectionId }), ConsistentRead: true }));
    if (!Item) return undefined;
    const connection = connectionOf(Item);
    return this.live(connection) ? connection : undefined;
  }

  async listByAccount(accountId: string): Promise<LiveConnection[]> {
    const items = await queryAll(this.doc, this.tableName, entities.liveConnection.partition({ accountId }), entities.liveConnection.skPrefix());
    return items.map(connectionOf).filter((connection) => this.live(connection));
  }

  async remove(accountId: string, connectionId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: entities.liveConnection.key({ accountId, connectionId }) }));
  }

  /** TTL deletion lags (up to days): an expired item is gone for us now. */
  private live(connection: LiveConnection): boolean {
    return connection.expiresAt > Math.floor(this.clock.now().getTime() / 1000);
  }
}

function connectionOf(item: Record<string, unknown>): LiveConnection {
  const parsed = entities.liveConnection.parse(item);
  return { ...parsed, access: parsed.access.all ? { all: true } : { all: false, numbers: parsed.access.numbers } };
}

export class DynamoLiveMessageLookup implements LiveMessageLookup {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async byWamid(phoneNumberId: string, wamid: string): Promise<{ ref: ConversationRef; message: StoredMessage } | undefined> {
    const { Item: pointerItem } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: entities.wamidPointer.key({ phoneNumberId, wamid }), ConsistentRead: true }),
    );
    if (!pointerItem) return undefined;
    const pointer = entities.wamidPointer.parse(pointerItem);
    const key = { pk: pointer.messagePk, sk: pointer.messageSk };
    const parts = entities.message.keyParts(key);
    if (!parts) return undefined;
    const message = await this.read(key);
    if (!message) return undefined;
    return { ref: { accountId: parts.accountId, whatsappPhno: parts.whatsappPhno, contactKey: parts.contactKey }, message };
  }

  at(ref: ConversationRef, timestamp: string, wamid: string): Promise<StoredMessage | undefined> {
    return this.read(entities.message.key({ accountId: ref.accountId, whatsappPhno: ref.whatsappPhno, contactKey: ref.contactKey, timestamp, wamid }));
  }

  private async read(key: { pk: string; sk: string }): Promise<StoredMessage | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!Item) return undefined;
    const item = entities.message.parse(Item);
    return isDecisionPlaceholder(item) ? undefined : toMessage(item);
  }
}
