/**
 * Channel status on the number item (the `number` entity). Each attribute
 * (`status`, `messagingLimitTier`, `qualityRating`, `lastChannelEvent`) is one
 * conditional update with its own clock (`{attribute}At`, Meta's time), so:
 * - only an existing number is touched, never created (`attribute_exists(pk)`);
 * - a late, older update does not overwrite a newer one, while updates of
 *   different attributes arriving out of order (a tier change delivered after
 *   a later account update) both apply.
 *
 * A messaging-limit tier is the business portfolio's since October 2025: it is
 * also set on the number's portfolio item (`portfolioLimit`), ordered by its
 * own clock (`tierAt`), creating the item with nothing held when it is the
 * first thing known of the portfolio (docs/quotas.md, "Portfolio messaging limit").
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelStatusChange, ChannelStatusOutcome, ChannelStatusWriter } from '../../core/channel-status.js';
import { writeIf } from './conditional-write.js';
// The webhook's bundle: the number and portfolio entities alone, not every item type.
import { portfolioLimit } from './entities/messaging-limit.js';
import { number } from './entities/numbers.js';

const ATTRIBUTES = ['status', 'messagingLimitTier', 'qualityRating', 'lastChannelEvent'] as const;

export class DynamoChannelStatusWriter implements ChannelStatusWriter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async apply(change: ChannelStatusChange): Promise<ChannelStatusOutcome> {
    const [outcomes] = await Promise.all([
      Promise.all(ATTRIBUTES.filter((attribute) => change[attribute] !== undefined).map((attribute) => this.set(change, attribute, change[attribute]!))),
      change.messagingLimitTier ? this.setPortfolioTier(change, change.messagingLimitTier) : undefined,
    ]);
    if (outcomes.includes('applied')) return 'applied';
    return outcomes.includes('stale') ? 'stale' : 'not-found';
  }

  /** The tier on the number's portfolio: its WABA's portfolio when the number names one, else the account's. */
  private async setPortfolioTier(change: ChannelStatusChange, tier: string): Promise<void> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: number.key({ accountId: change.accountId, whatsappPhno: change.whatsapp_phno }), ConsistentRead: true }),
    );
    if (!Item) return;
    const portfolioId = typeof Item.portfolioId === 'string' ? Item.portfolioId : change.accountId;
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: portfolioLimit.key({ accountId: change.accountId, portfolioId }),
        UpdateExpression:
          'SET #tier = :tier, tierAt = :at, #type = :type, portfolioId = :p, used = if_not_exists(used, :zero), shares = if_not_exists(shares, :empty), sharesVersion = if_not_exists(sharesVersion, :zero), updatedAt = :at',
        ConditionExpression: 'attribute_not_exists(tierAt) OR tierAt <= :at',
        ExpressionAttributeNames: { '#tier': 'tier', '#type': 'type' },
        ExpressionAttributeValues: { ':tier': tier, ':at': change.at, ':type': portfolioLimit.type, ':p': portfolioId, ':zero': 0, ':empty': {} },
      }),
    );
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
