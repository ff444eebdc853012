/**
 * Channel status on the number item (`keys.number`). Each attribute
 * (`status`, `messagingLimitTier`, `qualityRating`, `lastChannelEvent`) is one
 * conditional update with its own clock (`{attribute}At`, Meta's time), so:
 * - only an existing number is touched, never created (`attribute_exists(pk)`);
 * - a late, older update does not overwrite a newer one, while updates of
 *   different attributes arriving out of order (a tier change delivered after
 *   a later account update) both apply.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import type { ChannelStatusChange, ChannelStatusOutcome, ChannelStatusWriter } from '../../core/channel-status.js';

const ATTRIBUTES = ['status', 'messagingLimitTier', 'qualityRating', 'lastChannelEvent'] as const;

export class DynamoChannelStatusWriter implements ChannelStatusWriter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async apply(change: ChannelStatusChange): Promise<ChannelStatusOutcome> {
    const outcomes = await Promise.all(
      ATTRIBUTES.filter((attribute) => change[attribute] !== undefined).map((attribute) => this.set(change, attribute, change[attribute]!)),
    );
    if (outcomes.includes('applied')) return 'applied';
    return outcomes.includes('stale') ? 'stale' : 'not-found';
  }

  private async set(change: ChannelStatusChange, attribute: (typeof ATTRIBUTES)[number], value: string): Promise<ChannelStatusOutcome> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.number(change.accountId, change.whatsapp_phno),
          UpdateExpression: 'SET #value = :value, #at = :at',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#at) OR #at <= :at)',
          ExpressionAttributeNames: { '#value': attribute, '#at': `${attribute}At` },
          ExpressionAttributeValues: { ':value': value, ':at': change.at },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'applied';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
      return (error as ConditionalCheckFailedException).Item ? 'stale' : 'not-found';
    }
  }
}
