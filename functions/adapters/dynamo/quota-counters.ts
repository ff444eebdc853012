/**
 * The shared quota's counters (docs/quotas.md): gauges taken and given back,
 * period counters used, limits raised by add-on purchases. Each change is one
 * ledger transaction; counters keep `remaining` beside `used` because
 * conditions cannot do arithmetic ("room for n" is `remaining >= :n`), and a
 * spent limit cancels the transaction as `QuotaExceeded` with the counter's
 * values at that instant.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound, StaleRead } from '../../core/errors.js';
import { addonResource, counterLimit, isGauge } from '../../core/plan.js';
import type { AddonPurchase, Clock, GaugeChange, PeriodChange, QuotaOutcome } from '../../core/ports.js';
import { account } from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { type TxPart, backoff } from './transact.js';
import { gaugeAcquire, gaugeRelease, periodConsume, positive, raiseLimit } from './transaction-parts.js';

export class DynamoQuotaCounters {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  acquire(change: GaugeChange): Promise<QuotaOutcome> {
    const at = this.now();
    return this.ledger.commit(change.accountId, ledgerEntryOf(change, change.resource, -change.amount, at), [gaugeAcquire(this.tableName, change, at)]);
  }

  release(change: GaugeChange): Promise<QuotaOutcome> {
    const at = this.now();
    return this.ledger.commit(change.accountId, ledgerEntryOf(change, change.resource, change.amount, at), [gaugeRelease(this.tableName, change, at)]);
  }

  consume(change: PeriodChange): Promise<QuotaOutcome> {
    const at = this.now();
    const entry = { ...ledgerEntryOf(change, change.resource, -change.amount, at), period: change.period };
    return this.ledger.commit(change.accountId, entry, [periodConsume(this.tableName, change, at)]);
  }

  /**
   * Raises a limit: the account's add-on count and the counter move together.
   * The account update is guarded by the add-on count read just before
   * (optimistic lock), so two purchases racing both land, one after the other.
   */
  async purchaseAddon(change: AddonPurchase): Promise<QuotaOutcome> {
    positive(change.quantity, 'quantity');
    const resource = addonResource(change.type);
    for (let attempt = 1; ; attempt++) {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: account.key({ accountId: change.accountId }), ConsistentRead: true }),
      );
      const read = Item ? account.parse(Item) : undefined;
      if (!read || read.status !== 'active') throw new NotFound('The account');
      const accountUpdate: TxPart = {
        item: {
          Update: {
            TableName: this.tableName,
            Key: account.key({ accountId: change.accountId }),
            UpdateExpression: 'SET addons.#type = addons.#type + :q',
            ConditionExpression: '#status = :active AND addons.#type = :before',
            ExpressionAttributeNames: { '#type': change.type, '#status': 'status' },
            ExpressionAttributeValues: { ':q': change.quantity, ':active': 'active', ':before': read.addons[change.type] },
          },
        },
        onConditionFailed: () => new StaleRead(),
      };
      const counterUpdate = raiseLimit(this.tableName, {
        accountId: change.accountId,
        resource,
        period: change.period,
        oldLimit: counterLimit(read, resource),
        quantity: change.quantity,
      });
      const entry = { ...ledgerEntryOf(change, resource, change.quantity, this.now()), ...(isGauge(resource) ? {} : { period: change.period }) };
      try {
        return await this.ledger.commit(change.accountId, entry, [accountUpdate, counterUpdate]);
      } catch (error) {
        if (!(error instanceof StaleRead) || attempt >= 20) throw error;
        await backoff(attempt);
      }
    }
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
