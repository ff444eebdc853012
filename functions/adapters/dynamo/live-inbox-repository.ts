/**
 * The inbox on DynamoDB with live updates (`withLiveUpdates`): every write
 * of `DynamoInboxRepository` followed by its push, messages read back through
 * `DynamoLiveMessageLookup`. The composition roots that write the inbox (the
 * inbox consumer, the API, the automation consumer) build theirs here.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InboxRepository } from '../../core/inbox-ports.js';
import { type LiveInboxOptions, withLiveUpdates } from '../../core/live-inbox.js';
import type { LiveUpdates } from '../../core/live-updates.js';
import type { Clock } from '../../core/ports.js';
import { DynamoInboxRepository } from './inbox-repository.js';
import { DynamoLiveMessageLookup } from './live-connections.js';

export function liveInboxRepository(
  doc: DynamoDBDocumentClient,
  tableName: string,
  clock: Clock,
  live: LiveUpdates,
  onFailure?: LiveInboxOptions['onFailure'],
): InboxRepository {
  return withLiveUpdates(new DynamoInboxRepository(doc, tableName, clock), live, {
    messages: new DynamoLiveMessageLookup(doc, tableName),
    ...(onFailure ? { onFailure } : {}),
  });
}
