/**
 * Outgoing webhook subscriptions and deliveries on DynamoDB
 * (docs/outgoing-webhooks.md; entities in `entities/webhooks.ts`):
 *
 * - `create` raises the account's subscription count under `< limit` and
 *   puts the subscription (`attribute_not_exists`) in one transaction;
 *   `delete` deletes it (`attribute_exists`) and lowers the count in one.
 * - `createDelivery` is a Put conditional on `attribute_not_exists`: of two
 *   dispatches of one event, one stores the delivery.
 * - Every state change of a delivery is an Update conditional on its
 *   `status`, `round` and `attempts`; a status change rewrites the gsi1 key,
 *   which carries the status, in the same write.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import type { WebhookDeliveryStatus } from '../../../schemas/webhook-subscriptions.js';
import { QuotaExceeded } from '../../core/errors.js';
import type {
  AttemptOutcome,
  WebhookDelivery,
  WebhookDeliveryKey,
  WebhookDeliveryStore,
  WebhookSubscription,
  WebhookSubscriptionStore,
} from '../../core/outgoing-webhook-ports.js';
import type { Page, PageRequest } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { webhookDelivery, webhookSubscription, webhookSubscriptionCount } from './entities/index.js';
import { queryAll, queryPage } from './query.js';
import { REPLAY, transact } from './transact.js';

type DeliveryItem = z.output<typeof webhookDelivery.schema>;

const RESOURCE = 'webhook subscriptions';

export class DynamoWebhookSubscriptionStore implements WebhookSubscriptionStore, WebhookDeliveryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  // ------------------------------------------------------------ subscriptions

  async create(subscription: WebhookSubscription, limit: number): Promise<{ created: boolean; subscription: WebhookSubscription }> {
    const { accountId } = subscription;
    const result = await transact(this.doc, [
      {
        item: {
          Put: {
            TableName: this.tableName,
            Item: webhookSubscription.item(subscription, subscription),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        onConditionFailed: () => REPLAY,
      },
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: webhookSubscriptionCount.key({ accountId }),
            UpdateExpression: 'SET #count = if_not_exists(#count, :zero) + :one',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':limit': limit },
          },
        },
        onConditionFailed: (existing) => new QuotaExceeded(RESOURCE, limit, Number(existing?.count ?? limit)),
      },
    ]);
    if (result === 'committed') return { created: true, subscription };
    const stored = await this.get(accountId, subscription.id);
    // Deleted between the two reads: a retry of the request creates it again.
    return stored ? { created: false, subscription: stored } : this.create(subscription, limit);
  }

  async get(accountId: string, id: string): Promise<WebhookSubscription | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: webhookSubscription.key({ accountId, id }), ConsistentRead: true }));
    return Item ? webhookSubscription.parse(Item) : undefined;
  }

  async list(accountId: string, page: PageRequest): Promise<Page<WebhookSubscription>> {
    return queryPage(
      this.doc,
      this.tableName,
      { entity: webhookSubscription, partition: webhookSubscription.partition({ accountId }), skPrefix: webhookSubscription.skPrefix() },
      page,
    );
  }

  async listAll(accountId: string): Promise<WebhookSubscription[]> {
    const items = await queryAll(this.doc, this.tableName, webhookSubscription.partition({ accountId }), webhookSubscription.skPrefix());
    return items.map((item) => webhookSubscription.parse(item));
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    const result = await transact(this.doc, [
      {
        item: {
          Delete: { TableName: this.tableName, Key: webhookSubscription.key({ accountId, id }), ConditionExpression: 'attribute_exists(pk)' },
        },
        onConditionFailed: () => REPLAY,
      },
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: webhookSubscriptionCount.key({ accountId }),
            UpdateExpression: 'SET #count = #count - :one',
            ConditionExpression: '#count > :zero',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
          },
        },
      },
    ]);
    return result === 'committed';
  }

  // --------------------------------------------------------------- deliveries

  async createDelivery(delivery: WebhookDelivery): Promise<{ created: boolean; delivery: WebhookDelivery }> {
    const write = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: webhookDelivery.item(delivery, itemOf(delivery)),
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (write.applied) return { created: true, delivery };
    return { created: false, delivery: deliveryOf(webhookDelivery.parse(write.existing ?? {})) };
  }

  async getDelivery(key: WebhookDeliveryKey): Promise<WebhookDelivery | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: webhookDelivery.key(key), ConsistentRead: true }));
    return Item ? deliveryOf(webhookDelivery.parse(Item)) : undefined;
  }

  async listDeliveries(accountId: string, subscriptionId: string, status: WebhookDeliveryStatus | undefined, page: PageRequest): Promise<Page<WebhookDelivery>> {
    const index = status ? webhookDelivery.indexes.gsi1 : webhookDelivery.indexes.gsi2;
    const partition = status ? webhookDelivery.indexes.gsi1.partition({ accountId, subscriptionId, status }) : webhookDelivery.indexes.gsi2.partition({ accountId, subscriptionId });
    const { items, nextCursor } = await queryPage(this.doc, this.tableName, { entity: webhookDelivery, index, partition, newestFirst: true }, page);
    return { items: items.map(deliveryOf), nextCursor };
  }

  async claimAttempt(key: WebhookDeliveryKey, round: number, attempt: number, at: string, staleBefore: string): Promise<boolean> {
    return this.update(key, {
      UpdateExpression: 'SET attempts = :attempt, claimedAt = :at, updatedAt = :at',
      ConditionExpression: '#status = :pending AND #round = :round AND (attempts < :attempt OR (attempts = :attempt AND claimedAt < :stale))',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: { ':attempt': attempt, ':at': at, ':pending': 'pending', ':round': round, ':stale': staleBefore },
    });
  }

  async recordRetry(key: WebhookDeliveryKey, round: number, attempt: number, outcome: AttemptOutcome, nextAttemptAt: string, at: string): Promise<boolean> {
    const { set, values } = outcomeSets(outcome);
    return this.update(key, {
      UpdateExpression: `SET ${[...set, 'nextAttemptAt = :next', 'updatedAt = :at'].join(', ')} REMOVE claimedAt${outcome.status === undefined ? ', lastStatus' : ''}`,
      ConditionExpression: '#status = :pending AND #round = :round AND attempts = :attempt',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: { ...values, ':next': nextAttemptAt, ':at': at, ':pending': 'pending', ':round': round, ':attempt': attempt },
    });
  }

  async markDelivered(key: WebhookDeliveryKey, round: number, attempt: number, outcome: AttemptOutcome, at: string): Promise<boolean> {
    return this.update(key, {
      UpdateExpression: 'SET #status = :delivered, gsi1pk = :gsi1pk, lastStatus = :status, deliveredAt = :at, updatedAt = :at REMOVE claimedAt, lastError, nextAttemptAt, failedAt',
      ConditionExpression: '#status = :pending AND #round = :round AND attempts = :attempt',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: {
        ':delivered': 'delivered',
        ':gsi1pk': statusPartition(key, 'delivered'),
        ':status': outcome.status ?? 200,
        ':at': at,
        ':pending': 'pending',
        ':round': round,
        ':attempt': attempt,
      },
    });
  }

  async markFailed(key: WebhookDeliveryKey, round: number, outcome: AttemptOutcome, at: string): Promise<boolean> {
    const { set, values } = outcomeSets(outcome);
    return this.update(key, {
      UpdateExpression: `SET ${[...set, '#status = :failed', 'gsi1pk = :gsi1pk', 'failedAt = :at', 'updatedAt = :at'].join(', ')} REMOVE claimedAt, nextAttemptAt${outcome.status === undefined ? ', lastStatus' : ''}`,
      ConditionExpression: '#status = :pending AND #round = :round',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: { ...values, ':failed': 'failed', ':gsi1pk': statusPartition(key, 'failed'), ':at': at, ':pending': 'pending', ':round': round },
    });
  }

  async reopen(key: WebhookDeliveryKey, at: string, staleBefore: string): Promise<WebhookDelivery | undefined> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: webhookDelivery.key(key),
        UpdateExpression: 'SET #status = :pending, gsi1pk = :gsi1pk, #round = #round + :one, attempts = :zero, updatedAt = :at REMOVE claimedAt, nextAttemptAt, deliveredAt, failedAt',
        ConditionExpression: 'attribute_exists(pk) AND (#status IN (:failed, :delivered) OR (#status = :pending AND updatedAt < :stale))',
        ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':failed': 'failed',
          ':delivered': 'delivered',
          ':gsi1pk': statusPartition(key, 'pending'),
          ':one': 1,
          ':zero': 0,
          ':at': at,
          ':stale': staleBefore,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return write.applied && write.attributes ? deliveryOf(webhookDelivery.parse(write.attributes)) : undefined;
  }

  private async update(key: WebhookDeliveryKey, expression: Pick<ConstructorParameters<typeof UpdateCommand>[0], 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>): Promise<boolean> {
    const write = await writeIf(this.doc, new UpdateCommand({ TableName: this.tableName, Key: webhookDelivery.key(key), ...expression }));
    return write.applied;
  }
}

function statusPartition(key: WebhookDeliveryKey, status: WebhookDeliveryStatus): string {
  return webhookDelivery.indexes.gsi1.partition({ accountId: key.accountId, subscriptionId: key.subscriptionId, status });
}

/** `lastStatus`/`lastError` of an attempt's outcome. */
function outcomeSets(outcome: AttemptOutcome): { set: string[]; values: Record<string, unknown> } {
  const set = ['lastError = :error'];
  const values: Record<string, unknown> = { ':error': outcome.error ?? 'failed' };
  if (outcome.status !== undefined) {
    set.push('lastStatus = :status');
    values[':status'] = outcome.status;
  }
  return { set, values };
}

function itemOf(d: WebhookDelivery): DeliveryItem {
  return { ...d };
}

function deliveryOf(item: DeliveryItem): WebhookDelivery {
  const out: WebhookDelivery = { ...item };
  for (const name of Object.keys(out) as (keyof WebhookDelivery)[]) if (out[name] === undefined) delete out[name];
  return out;
}
