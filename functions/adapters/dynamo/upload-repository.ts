/**
 * Uploads on DynamoDB (`UploadRepository`, `functions/core/agent-media.ts`):
 * one item per upload (`entities.upload`), written once with a fresh id
 * (`attribute_not_exists`), expiring by the table's TTL 24 hours later. An
 * item past its `expiresAt` reads as absent (TTL deletion lags).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredUpload, UploadRepository } from '../../core/agent-media.js';
import { epochSeconds } from './automation-state.js';
import * as entities from './entities/index.js';

export class DynamoUploadRepository implements UploadRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(upload: StoredUpload): Promise<void> {
    const { expiresAt, ...rest } = upload;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: entities.upload.item({ accountId: upload.accountId, uploadId: upload.uploadId }, { ...rest, expiresAt: epochSeconds(expiresAt) }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(accountId: string, uploadId: string, now: Date): Promise<StoredUpload | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: entities.upload.key({ accountId, uploadId }), ConsistentRead: true }));
    if (!Item) return undefined;
    const stored = entities.upload.parse(Item);
    if (stored.expiresAt <= epochSeconds(now)) return undefined;
    return { ...stored, expiresAt: new Date(stored.expiresAt * 1000).toISOString() };
  }
}
