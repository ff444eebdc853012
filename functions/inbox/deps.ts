import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoInboxRepository } from '../adapters/dynamo/inbox-repository.js';
import type { InboxConsumerDeps } from '../core/inbox.js';
import type { Clock } from '../core/ports.js';
import { systemClock } from '../commons/ids.js';

/** The inbox consumer's adapters over one table: the Lambda handler and the tests build them here. */
export function createInboxConsumerDeps(doc: DynamoDBDocumentClient, tableName: string, clock: Clock = systemClock): InboxConsumerDeps {
  return { inbox: new DynamoInboxRepository(doc, tableName, clock) };
}
