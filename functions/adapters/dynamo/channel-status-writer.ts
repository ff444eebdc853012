/**
 * Channel status on the number item (the `number` entity). Each attribute
 * (`status`, `messagingLimitTier`, `qualityRating`, `lastChannelEvent`) is one
 * conditional update with its own clock (`{attribute}At`, Meta's time), so:
 * - only an existing number is touched, never created (`attribute_exists(pk)`);
 * - a late, older update does not overwrite a newer one, while updates of
 *   different attributes arriving out of order (a tier change delivered after
 *   a later account update) both apply.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelStatusChange, ChannelStatusOutcome, ChannelStatusWriter } from '../../core/channel-status.js';
import { writeIf } from './conditional-write.js';
// The webhook's bundle: the number entity alone, not every item type.
import { number } from './entities/numbers.js';

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
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: number.key({ accountId: change.accountId, whatsappPhno: change.whatsapp_phno }),
        UpdateExpression: 'SET #value = :value, #at = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#at) OR #at <= :at)',
        ExpressionAttributeNames: { '#value': attribute, '#at': `${attribute}At` },
        ExpressionAttributeValues: { ':value': value, ':at': change.at },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (outcome.applied) return 'applied';
    return outcome.existing ? 'stale' : 'not-found';
  }
}
