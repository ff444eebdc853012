/**
 * Automations on DynamoDB (docs/automations.md, docs/data-model.md): one
 * `automation` item per automation, `A#{accountId}` / `AUTO#{kind}#{id}`.
 *
 * - `create` is a conditional put that never overwrites; `replace` and
 *   `delete` are conditional on the item existing, so neither brings a
 *   deleted automation back.
 * - A kind's listing is one Query on `AUTO#{kind}#`, oldest first (ids are
 *   time ordered). Narrowed to a number it keeps the items whose `scopePhno`
 *   is that number or absent (account-wide), with a filter on the same
 *   Query; pages are filled up to `limit` and the cursor is the last key
 *   read, checked by `cursor.ts` like every listing's.
 * - `loadSet` reads the whole account's set in one Query on `AUTO#` (every
 *   page), grouped by kind, each kind oldest first: what the consumer judges
 *   a message against.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import type { AutomationBody, AutomationKind } from '../../../schemas/automations.js';
import { TABLE } from '../../../schemas/table.js';
import type { AutomationRepository, AutomationSet, StoredAutomation } from '../../core/automation-ports.js';
import { Conflict } from '../../core/errors.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { encodeCursor, startKeyFor } from './cursor.js';
import * as entities from './entities/index.js';
import { queryAll } from './query.js';
import { updateExpression } from './update-expression.js';

type AutomationItem = z.output<typeof entities.automation.schema>;

export class DynamoAutomationRepository implements AutomationRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create<K extends AutomationKind>(item: StoredAutomation<K>): Promise<StoredAutomation<K>> {
    const put = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: entities.automation.item(keyOf(item.accountId, item.kind, item.id), {
          accountId: item.accountId,
          kind: item.kind,
          id: item.id,
          body: item.body as Record<string, unknown>,
          scopePhno: scopeOf(item.body),
          createdAt: item.createdAt,
          updatedAt: item.updatedAt,
        }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    // Ids are new by construction: a clash is another writer's item, never overwritten.
    if (!put.applied) throw new Conflict('AUTOMATION_EXISTS', `The automation ${item.id} exists already.`, { id: item.id });
    return item;
  }

  async get<K extends AutomationKind>(accountId: string, kind: K, id: string): Promise<StoredAutomation<K> | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.automation.key(keyOf(accountId, kind, id)), ConsistentRead: true }));
    return Item ? toStored<K>(entities.automation.parse(Item)) : undefined;
  }

  async list<K extends AutomationKind>(accountId: string, kind: K, filter: { whatsappPhno?: string }, page: PageRequest): Promise<Page<StoredAutomation<K>>> {
    const query = { entity: entities.automation, partition: entities.automation.partition({ accountId }), skPrefix: entities.automation.skPrefix({ kind }) };
    const narrowed = filter.whatsappPhno !== undefined;
    const items: StoredAutomation<K>[] = [];
    let startKey = startKeyFor(page.cursor, query);
    // A filtered Query may read past items it drops: read on until the page is full or the kind is read to its end.
    do {
      const { Items, LastEvaluatedKey } = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ...(narrowed ? { FilterExpression: 'attribute_not_exists(#scope) OR #scope = :phno' } : {}),
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey, ...(narrowed ? { '#scope': 'scopePhno' } : {}) },
          ExpressionAttributeValues: { ':pk': query.partition, ':prefix': query.skPrefix, ...(narrowed ? { ':phno': filter.whatsappPhno } : {}) },
          Limit: page.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(Items ?? []).map((item) => toStored<K>(entities.automation.parse(item))));
      startKey = LastEvaluatedKey;
    } while (startKey && items.length < page.limit);
    return { items, nextCursor: encodeCursor(startKey) };
  }

  async replace<K extends AutomationKind>(accountId: string, kind: K, id: string, body: AutomationBody<K>, at: string): Promise<StoredAutomation<K> | undefined> {
    const scopePhno = scopeOf(body);
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: entities.automation.key(keyOf(accountId, kind, id)),
        ...updateExpression(
          { set: { body, scopePhno, updatedAt: at }, remove: scopePhno === undefined ? ['scopePhno'] : [] },
          { expression: 'attribute_exists(pk)' },
        ),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return write.applied ? toStored<K>(entities.automation.parse(write.attributes!)) : undefined;
  }

  async delete(accountId: string, kind: AutomationKind, id: string): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new DeleteCommand({ TableName: this.tableName, Key: entities.automation.key(keyOf(accountId, kind, id)), ConditionExpression: 'attribute_exists(pk)' }),
    );
    return write.applied;
  }

  async loadSet(accountId: string): Promise<AutomationSet> {
    const items = await queryAll(this.doc, this.tableName, entities.automation.partition({ accountId }), entities.automation.skPrefix());
    return groupSet(items.map((item) => toStored(entities.automation.parse(item))));
  }
}

/** An account's automations by kind, each kind in the order given (key order: oldest first). */
export function groupSet(automations: readonly StoredAutomation[]): AutomationSet {
  const set = {
    keywords: [] as StoredAutomation<'keywords'>[],
    defaultActions: [] as StoredAutomation<'default-actions'>[],
    routes: [] as StoredAutomation<'routes'>[],
    chatbots: new Map<string, StoredAutomation<'chatbots'>>(),
    replyMaterial: new Map<string, StoredAutomation<'reply-material'>>(),
    aiAgents: new Map<string, StoredAutomation<'ai-agents'>>(),
    sequences: new Map<string, StoredAutomation<'sequences'>>(),
  };
  for (const automation of automations) {
    if (isKind(automation, 'keywords')) set.keywords.push(automation);
    else if (isKind(automation, 'default-actions')) set.defaultActions.push(automation);
    else if (isKind(automation, 'routes')) set.routes.push(automation);
    else if (isKind(automation, 'chatbots')) set.chatbots.set(automation.id, automation);
    else if (isKind(automation, 'reply-material')) set.replyMaterial.set(automation.id, automation);
    else if (isKind(automation, 'ai-agents')) set.aiAgents.set(automation.id, automation);
    else if (isKind(automation, 'sequences')) set.sequences.set(automation.id, automation);
  }
  return set;
}

function isKind<K extends AutomationKind>(automation: StoredAutomation, kind: K): automation is StoredAutomation<K> {
  return automation.kind === kind;
}

function keyOf(accountId: string, kind: AutomationKind, automationId: string) {
  return { accountId, kind, automationId };
}

function scopeOf(body: AutomationBody): string | undefined {
  return body.scope?.whatsapp_phno;
}

function toStored<K extends AutomationKind>(item: AutomationItem): StoredAutomation<K> {
  return {
    accountId: item.accountId,
    kind: item.kind as K,
    id: item.id,
    // Stored as the API validated it; read back as is (see the entity).
    body: item.body as AutomationBody<K>,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}
