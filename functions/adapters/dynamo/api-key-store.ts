/**
 * API keys on DynamoDB (docs/data-model.md, "API keys"; entities in
 * `entities/api-keys.ts`):
 *
 * - `create` puts the key (`attribute_not_exists`: a taken id is answered
 *   `prefixTaken`) and raises the account's key count under `used < limit`
 *   in one transaction, so concurrent creations never pass the limit.
 * - `delete` deletes the key (only the account's own) and lowers the count
 *   in one transaction.
 * - `get` is a strongly consistent `GetItem`: a deleted key is refused by
 *   the next request.
 * - `touch` sets `lastUsedAt` only when it is older than `since`: of
 *   concurrent uses one writes, the others' conditions fail quietly.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyStore, StoredApiKey } from '../../core/api-keys.js';
import { NotFound, QuotaExceeded } from '../../core/errors.js';
import type { Clock } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { apiKey, apiKeyCount } from './entities/index.js';
import { queryPage } from './query.js';
import { REPLAY, transact } from './transact.js';
import { increment, updateExpression } from './update-expression.js';

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async create(key: StoredApiKey, limit: number): Promise<'created' | 'prefixTaken'> {
    const outcome = await transact(this.doc, [
      {
        item: { Put: { TableName: this.tableName, Item: apiKey.item(key, key), ConditionExpression: 'attribute_not_exists(pk)' } },
        onConditionFailed: () => REPLAY,
      },
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: apiKeyCount.key({ accountId: key.accountId }),
            ...updateExpression(
              { set: { used: increment(1), updatedAt: this.clock.now().toISOString() } },
              { expression: 'attribute_not_exists(#used) OR #used < :limit', names: { '#used': 'used' }, values: { ':limit': limit } },
            ),
          },
        },
        onConditionFailed: (existing) => new QuotaExceeded('apiKeys', limit, existing ? apiKeyCount.parse(existing).used : limit),
      },
    ]);
    // REPLAY here only means the id's item exists: another key holds it.
    return outcome === 'committed' ? 'created' : 'prefixTaken';
  }

  async list(accountId: string): Promise<StoredApiKey[]> {
    const page = await queryPage(this.doc, this.tableName, { entity: apiKey, index: apiKey.indexes.gsi1, partition: apiKey.indexes.gsi1.partition({ accountId }), newestFirst: true }, { limit: 100 });
    return page.items;
  }

  async delete(accountId: string, keyId: string): Promise<void> {
    await transact(this.doc, [
      {
        item: {
          Delete: {
            TableName: this.tableName,
            Key: apiKey.key({ keyId }),
            // Another account's key is simply not found.
            ConditionExpression: 'accountId = :accountId',
            ExpressionAttributeValues: { ':accountId': accountId },
          },
        },
        onConditionFailed: () => new NotFound('The API key'),
      },
      {
        item: {
          Update: {
            TableName: this.tableName,
            Key: apiKeyCount.key({ accountId }),
            ...updateExpression({ set: { used: increment(-1), updatedAt: this.clock.now().toISOString() } }, { expression: '#used > :zero', names: { '#used': 'used' }, values: { ':zero': 0 } }),
          },
        },
      },
    ]);
  }

  async get(keyId: string): Promise<StoredApiKey | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: apiKey.key({ keyId }), ConsistentRead: true }));
    return Item ? apiKey.parse(Item) : undefined;
  }

  async touch(keyId: string, at: string, since: string): Promise<boolean> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: apiKey.key({ keyId }),
        // Only the key's own item, only this attribute: what the authorizer's narrow write grant allows (lib/api-keys.ts).
        ...updateExpression(
          { set: { lastUsedAt: at } },
          { expression: 'attribute_exists(pk) AND (attribute_not_exists(#lastUsedAt) OR #lastUsedAt < :since)', names: { '#lastUsedAt': 'lastUsedAt' }, values: { ':since': since } },
        ),
      }),
    );
    return outcome.applied;
  }
}
