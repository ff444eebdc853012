/**
 * The account's integration on DynamoDB (entity `entities/integration.ts`):
 * one item per account at a fixed key, so the one-per-account rule is the
 * condition of the Put itself (`attribute_not_exists`), and a lost race reads
 * the winner from the failed condition's item. Deleting is conditional on
 * the id, so a DELETE of an old id never removes a newer integration.
 */
import { type DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IntegrationStore, StoredIntegration } from '../../core/integration-ports.js';
import { ServiceBusy } from '../../core/errors.js';
import { writeIf } from './conditional-write.js';
import { integration as integrationEntity } from './entities/index.js';

export class DynamoIntegrationStore implements IntegrationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(integration: StoredIntegration): Promise<{ created: true } | { created: false; existing: StoredIntegration }> {
    const { integrationId, accountId, type, config, createdAt } = integration;
    const put = new PutCommand({
      TableName: this.tableName,
      Item: integrationEntity.item({ accountId }, { integrationId, accountId, integrationType: type, config, createdAt }),
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await writeIf(this.doc, put);
      if (outcome.applied) return { created: true };
      // Without the item, the holder was deleted between the check and the read: try to take the slot again.
      if (outcome.existing) return { created: false, existing: integrationOf(outcome.existing) };
    }
    throw new ServiceBusy('The integration kept changing; retry.');
  }

  async get(accountId: string): Promise<StoredIntegration | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: integrationEntity.key({ accountId }), ConsistentRead: true }));
    return Item ? integrationOf(Item) : undefined;
  }

  async remove(accountId: string, integrationId: string): Promise<boolean> {
    const outcome = await writeIf(
      this.doc,
      new DeleteCommand({
        TableName: this.tableName,
        Key: integrationEntity.key({ accountId }),
        ConditionExpression: 'integrationId = :id',
        ExpressionAttributeValues: { ':id': integrationId },
      }),
    );
    return outcome.applied;
  }
}

function integrationOf(item: Record<string, unknown>): StoredIntegration {
  const { integrationType, ...rest } = integrationEntity.parse(item);
  return { ...rest, type: integrationType };
}
