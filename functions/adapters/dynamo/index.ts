import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/ports.js';
import { DynamoAccountRepository } from './account-repository.js';
import { DynamoIdempotencyStore } from './idempotency-store.js';
import { DynamoMergeRepository } from './merge-repository.js';
import { DynamoMessagingLimitStore } from './messaging-limit-store.js';
import { DynamoNumberRepository } from './number-repository.js';
import { DynamoQuotaStore } from './quota-store.js';

export { createDocumentClient } from './client.js';

/** Every DynamoDB adapter over one table: what handlers, the local runtime and tests pass to core. */
export function createDynamoAdapters(doc: DynamoDBDocumentClient, tableName: string, clock: Clock) {
  return {
    quotas: new DynamoQuotaStore(doc, tableName, clock),
    accounts: new DynamoAccountRepository(doc, tableName, clock),
    idempotency: new DynamoIdempotencyStore(doc, tableName, clock),
    numbers: new DynamoNumberRepository(doc, tableName, clock),
    merges: new DynamoMergeRepository(doc, tableName, clock),
    messagingLimits: new DynamoMessagingLimitStore(doc, tableName, clock),
  };
}

export type DynamoAdapters = ReturnType<typeof createDynamoAdapters>;
