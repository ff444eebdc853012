/**
 * `Idempotency-Key` records for the dashboard API (docs/quotas.md): the first request
 * with a key claims it; a repeat replays the stored answer, or hears
 * `REQUEST_IN_PROGRESS` while the first still runs. Records expire after 24 h
 * (TTL), and an in-progress claim left by a crashed invocation can be taken
 * over once its lock times out.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TTL_ATTRIBUTE } from '../../../schemas/table.js';
import type { Clock, IdempotencyClaim, IdempotencyStore, StoredResponse } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { apiIdempotency } from './entities/accounts.js';

export interface IdempotencyOptions {
  /** How long a completed answer is replayed. */
  retentionSeconds?: number;
  /** How long an unfinished claim blocks repeats before another request may take over. */
  lockSeconds?: number;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  private readonly retentionSeconds: number;
  private readonly lockSeconds: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    options: IdempotencyOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? 24 * 3600;
    this.lockSeconds = options.lockSeconds ?? 60;
  }

  async claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const claimed = await writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: apiIdempotency.item(
          { scope, idempotencyKey: key },
          { status: 'in_progress', fingerprint, lockedUntil: nowSeconds + this.lockSeconds, [TTL_ATTRIBUTE]: nowSeconds + this.retentionSeconds },
        ),
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now OR (#status = :inProgress AND lockedUntil < :now)',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#status': 'status' },
        ExpressionAttributeValues: { ':now': nowSeconds, ':inProgress': 'in_progress' },
      }),
    );
    if (claimed.applied) return { state: 'claimed' };
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: apiIdempotency.key({ scope, idempotencyKey: key }), ConsistentRead: true }),
    );
    if (!Item) return this.claim(scope, key, fingerprint);
    const record = apiIdempotency.parse(Item);
    if (record.status === 'completed') {
      return { state: 'completed', fingerprint: record.fingerprint, response: record.response };
    }
    return { state: 'in_progress', fingerprint: record.fingerprint };
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: apiIdempotency.key({ scope, idempotencyKey: key }),
        UpdateExpression: 'SET #status = :completed, #response = :response REMOVE lockedUntil',
        ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
        ExpressionAttributeValues: { ':completed': 'completed', ':response': response },
      }),
    );
  }

  async release(scope: string, key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: apiIdempotency.key({ scope, idempotencyKey: key }) }));
  }
}
