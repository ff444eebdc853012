/**
 * The shared credit pool (docs/quotas.md): debits, top-ups, refunds,
 * reservations for broadcast chunks and their settlement, each number's spend
 * against its cap, and the one-time `Credits Low` flag. Every money move is
 * one ledger transaction with the pool (and the number's spend where a
 * number pays).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound, ReservationExists, ReservationSettled, ValidationFailed } from '../../core/errors.js';
import type { Clock, CreditChange, CreditReservation, LedgerEntry, QuotaOutcome, ReserveCredits, SettleReservation } from '../../core/ports.js';
import { writeIf } from './conditional-write.js';
import { creditPool, numberSpend, reservation } from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { type TxPart, transact } from './transact.js';
import { creditAdd, creditDebit, numberSpendChange, positive, putNew } from './transaction-parts.js';

export class DynamoCreditPool {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  debitCredits(change: CreditChange): Promise<QuotaOutcome> {
    const at = this.now();
    return this.ledger.commit(change.accountId, ledgerEntryOf(change, 'credits', -change.amountMicros, at), [creditDebit(this.tableName, change, at)]);
  }

  async addCredits(change: CreditChange): Promise<QuotaOutcome> {
    positive(change.amountMicros, 'amountMicros');
    const at = this.now();
    const outcome = await this.ledger.commit(change.accountId, ledgerEntryOf(change, 'credits', change.amountMicros, at), [
      creditAdd(this.tableName, { accountId: change.accountId, amountMicros: change.amountMicros, returning: false }, at),
    ]);
    // A top-up that lifts the balance over the threshold re-arms the one-time `Credits Low` event. A replay too:
    // the first attempt may have written the top-up and lost its answer before clearing (the clear is conditional).
    await this.clearCreditsLow(change.accountId);
    return outcome;
  }

  /** Refunds credits (e.g. Meta reported a charged message `failed`). */
  refundCredits(change: CreditChange): Promise<QuotaOutcome> {
    positive(change.amountMicros, 'amountMicros');
    const at = this.now();
    return this.ledger.commit(change.accountId, ledgerEntryOf(change, 'credits', change.amountMicros, at), [
      creditAdd(this.tableName, { accountId: change.accountId, amountMicros: change.amountMicros, returning: true }, at),
    ]);
  }

  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome> {
    const { entry, parts } = reservationParts(this.tableName, change, this.now());
    return this.ledger.commit(change.accountId, entry, parts);
  }

  async settleReservation(change: SettleReservation): Promise<QuotaOutcome> {
    const held = await this.reservationItem(change.accountId, change.reservationId);
    if (!held) throw new NotFound(`Reservation ${change.reservationId}`);
    const reserved = held.amountMicros;
    if (!Number.isSafeInteger(change.usedMicros) || change.usedMicros < 0 || change.usedMicros > reserved) {
      throw new ValidationFailed([{ path: ['usedMicros'], message: `Must be an integer from 0 to the ${reserved} reserved.`, code: 'too_big' }]);
    }
    const refund = reserved - change.usedMicros;
    const at = this.now();
    const entry = { ...ledgerEntryOf(change, 'credits', refund, at), refId: change.reservationId };
    // A round that paid for nothing (everything deferred) moved no money: it is closed without a ledger entry.
    if (reserved === 0) {
      await transact(this.doc, [this.closeReservation(change, 0, 0, at)]);
      return { replayed: false, entry };
    }
    const parts = [this.closeReservation(change, reserved, change.usedMicros, at)];
    if (refund > 0) parts.push(creditAdd(this.tableName, { accountId: change.accountId, amountMicros: refund, returning: true }, at));
    // The unused part leaves the number's spend too (same period the reservation counted it in).
    if (refund > 0 && held.spendPeriod && held.whatsapp_phno) {
      parts.push(
        numberSpendChange(this.tableName, { accountId: change.accountId, whatsappPhno: held.whatsapp_phno, period: held.spendPeriod, deltaMicros: -refund }, at),
      );
    }
    return this.ledger.commit(change.accountId, entry, parts);
  }

  /** Closes an open reservation of `reserved`: a concurrent settlement finds it settled. */
  private closeReservation(change: SettleReservation, reserved: number, usedMicros: number, at: string): TxPart {
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: reservation.key({ accountId: change.accountId, reservationId: change.reservationId }),
          UpdateExpression: 'SET #status = :settled, usedMicros = :used, settledAt = :at',
          ConditionExpression: '#status = :open AND amountMicros = :reserved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':settled': 'settled', ':open': 'open', ':used': usedMicros, ':at': at, ':reserved': reserved },
        },
      },
      onConditionFailed: () => new ReservationSettled(change.reservationId),
    };
  }

  /** A reservation as stored, read strongly consistent. */
  async reservation(accountId: string, reservationId: string): Promise<CreditReservation | undefined> {
    const held = await this.reservationItem(accountId, reservationId);
    if (!held) return undefined;
    return {
      reservationId,
      amountMicros: held.amountMicros,
      status: held.status,
      ...(held.whatsapp_phno ? { whatsapp_phno: held.whatsapp_phno } : {}),
      ...(held.spendPeriod ? { spendPeriod: held.spendPeriod } : {}),
      ...(typeof held.usedMicros === 'number' ? { usedMicros: held.usedMicros } : {}),
      attributes: held.attributes ?? {},
    };
  }

  /** The pool's balance, read strongly consistent. */
  async balance(accountId: string): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: creditPool.key({ accountId }), ConsistentRead: true }));
    if (!Item) throw new NotFound('The account');
    return creditPool.parse(Item).balanceMicros;
  }

  /** What a number spent in a billing period, read strongly consistent (0 before its first spend). */
  async numberSpend(accountId: string, period: string, whatsappPhno: string): Promise<number> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: numberSpend.key({ accountId, period, whatsappPhno }), ConsistentRead: true }),
    );
    return Item ? numberSpend.parse(Item).spentMicros : 0;
  }

  /**
   * Flags the pool as low, once: only when its balance is under `thresholdMicros`
   * and it is not flagged yet. `true` means this caller set the flag and should
   * tell (publish `Credits Low`); a top-up over the threshold clears it.
   */
  async markCreditsLow(accountId: string, thresholdMicros: number, at: string): Promise<{ flagged: boolean; balanceMicros?: number }> {
    const outcome = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: creditPool.key({ accountId }),
        UpdateExpression: 'SET lowBalanceNotifiedAt = :at, lowBalanceThresholdMicros = :t',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(lowBalanceNotifiedAt) AND balanceMicros < :t',
        ExpressionAttributeValues: { ':at': at, ':t': thresholdMicros },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return outcome.applied ? { flagged: true, balanceMicros: outcome.attributes?.balanceMicros as number } : { flagged: false };
  }

  /** Takes back a flag this caller set (the event could not be published), so a later debit tells again. */
  async unmarkCreditsLow(accountId: string, at: string): Promise<void> {
    await this.removeLowFlag(accountId, 'lowBalanceNotifiedAt = :at', { ':at': at });
  }

  private async clearCreditsLow(accountId: string): Promise<void> {
    await this.removeLowFlag(accountId, 'attribute_exists(lowBalanceNotifiedAt) AND balanceMicros >= lowBalanceThresholdMicros', {});
  }

  private async removeLowFlag(accountId: string, condition: string, values: Record<string, unknown>): Promise<void> {
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: creditPool.key({ accountId }),
        UpdateExpression: 'REMOVE lowBalanceNotifiedAt, lowBalanceThresholdMicros',
        ConditionExpression: condition,
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  private async reservationItem(accountId: string, reservationId: string) {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: reservation.key({ accountId, reservationId }), ConsistentRead: true }),
    );
    return Item ? reservation.parse(Item) : undefined;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

/**
 * The reservation item of a change, put only where none is (a concurrent run
 * of the same chunk reserved first: `ReservationExists`). Its amount may be 0
 * (a round that only defers), then with no money parts around it.
 */
export function heldReservation(tableName: string, change: ReserveCredits, at: string): TxPart {
  return putNew(
    tableName,
    reservation.item(
      { accountId: change.accountId, reservationId: change.reservationId },
      {
        reservationId: change.reservationId,
        amountMicros: change.amountMicros,
        status: 'open',
        whatsapp_phno: change.whatsappPhno,
        createdAt: at,
        ...(change.spend ? { spendPeriod: change.spend.period } : {}),
        ...(change.attributes ? { attributes: change.attributes } : {}),
      },
    ),
    () => new ReservationExists(change.reservationId),
  );
}

/** A reservation's ledger entry and parts: the pool debit, the held item and the number's spend (held within its cap). */
export function reservationParts(tableName: string, change: ReserveCredits, at: string): { entry: LedgerEntry; parts: TxPart[] } {
  const entry = { ...ledgerEntryOf(change, 'credits', -change.amountMicros, at), refId: change.reservationId };
  const parts = [creditDebit(tableName, change, at), heldReservation(tableName, change, at)];
  if (change.spend) {
    if (!change.whatsappPhno) throw new ValidationFailed([{ path: ['whatsappPhno'], message: 'A number spend needs the number.', code: 'invalid_type' }]);
    parts.push(
      numberSpendChange(
        tableName,
        { accountId: change.accountId, whatsappPhno: change.whatsappPhno, period: change.spend.period, deltaMicros: change.amountMicros, capMicros: change.spend.capMicros },
        at,
      ),
    );
  }
  return { entry, parts };
}
