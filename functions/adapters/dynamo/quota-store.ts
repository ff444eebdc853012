/**
 * The shared-quota engine on DynamoDB (docs/quotas.md), as the core's
 * `QuotaStore` and the sender's `CreditPool`: the quota counters
 * (`quota-counters.ts`) and the credit pool (`credit-pool.ts`) behind one
 * port. Both write through the ledger (`ledger.ts`); the transaction parts
 * other repositories compose with their own writes are `transaction-parts.ts`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  AddonPurchase,
  Clock,
  CreditChange,
  CreditReservation,
  GaugeChange,
  PeriodChange,
  QuotaOutcome,
  QuotaStore,
  ReserveCredits,
  SettleReservation,
} from '../../core/ports.js';
import { DynamoCreditPool } from './credit-pool.js';
import { DynamoQuotaCounters } from './quota-counters.js';

export class DynamoQuotaStore implements QuotaStore {
  private readonly counters: DynamoQuotaCounters;
  private readonly credits: DynamoCreditPool;

  constructor(doc: DynamoDBDocumentClient, tableName: string, clock: Clock) {
    this.counters = new DynamoQuotaCounters(doc, tableName, clock);
    this.credits = new DynamoCreditPool(doc, tableName, clock);
  }

  acquire(change: GaugeChange): Promise<QuotaOutcome> {
    return this.counters.acquire(change);
  }

  release(change: GaugeChange): Promise<QuotaOutcome> {
    return this.counters.release(change);
  }

  consume(change: PeriodChange): Promise<QuotaOutcome> {
    return this.counters.consume(change);
  }

  purchaseAddon(change: AddonPurchase): Promise<QuotaOutcome> {
    return this.counters.purchaseAddon(change);
  }

  debitCredits(change: CreditChange): Promise<QuotaOutcome> {
    return this.credits.debitCredits(change);
  }

  addCredits(change: CreditChange): Promise<QuotaOutcome> {
    return this.credits.addCredits(change);
  }

  refundCredits(change: CreditChange): Promise<QuotaOutcome> {
    return this.credits.refundCredits(change);
  }

  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome> {
    return this.credits.reserveCredits(change);
  }

  settleReservation(change: SettleReservation): Promise<QuotaOutcome> {
    return this.credits.settleReservation(change);
  }

  reservation(accountId: string, reservationId: string): Promise<CreditReservation | undefined> {
    return this.credits.reservation(accountId, reservationId);
  }

  balance(accountId: string): Promise<number> {
    return this.credits.balance(accountId);
  }

  numberSpend(accountId: string, period: string, whatsappPhno: string): Promise<number> {
    return this.credits.numberSpend(accountId, period, whatsappPhno);
  }

  markCreditsLow(accountId: string, thresholdMicros: number, at: string): Promise<{ flagged: boolean; balanceMicros?: number }> {
    return this.credits.markCreditsLow(accountId, thresholdMicros, at);
  }

  unmarkCreditsLow(accountId: string, at: string): Promise<void> {
    return this.credits.unmarkCreditsLow(accountId, at);
  }
}
