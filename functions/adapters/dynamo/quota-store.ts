/**
 * The shared-quota engine on DynamoDB (docs/quotas.md).
 *
 * Every change is ONE transaction: the ledger entry `Put` guarded by
 * `attribute_not_exists` on its idempotency key, plus the counter `Update`
 * guarded by its limit condition. Counters keep `remaining` beside `used`
 * because conditions cannot do arithmetic: "room for n" is `remaining >= :n`.
 * A replayed key cancels the transaction on the ledger item and we return the
 * first entry; a spent limit cancels it on the counter and becomes
 * `QuotaExceeded` with the counter's values at that instant.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import { Conflict, IdempotencyKeyReused, NotFound, QuotaExceeded, ValidationFailed } from '../../core/errors.js';
import { MAX_ADDITIONAL_NUMBERS, addonResource, counterLimit, isGauge, type Account, type QuotaResource } from '../../core/plan.js';
import type {
  AddonPurchase,
  Clock,
  CreditChange,
  CreditReservation,
  GaugeChange,
  LedgerEntry,
  PeriodChange,
  QuotaOutcome,
  QuotaStore,
  ReserveCredits,
  SettleReservation,
} from '../../core/ports.js';
import { REPLAY, type TxPart, backoff, transact } from './transact.js';

export class DynamoQuotaStore implements QuotaStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  acquire(change: GaugeChange): Promise<QuotaOutcome> {
    return this.apply(this.entry(change, change.resource, -change.amount), [this.gaugeAcquire(change)]);
  }

  release(change: GaugeChange): Promise<QuotaOutcome> {
    return this.apply(this.entry(change, change.resource, change.amount), [this.gaugeRelease(change)]);
  }

  consume(change: PeriodChange): Promise<QuotaOutcome> {
    const entry = { ...this.entry(change, change.resource, -change.amount), period: change.period };
    return this.apply(entry, [this.periodConsume(change)]);
  }

  debitCredits(change: CreditChange): Promise<QuotaOutcome> {
    return this.apply(this.entry(change, 'credits', -change.amountMicros), [this.creditDebit(change)]);
  }

  async addCredits(change: CreditChange): Promise<QuotaOutcome> {
    positive(change.amountMicros, 'amountMicros');
    const outcome = await this.apply(this.entry(change, 'credits', change.amountMicros), [this.creditAdd(change.accountId, change.amountMicros)]);
    // A top-up that lifts the balance over the threshold re-arms the one-time `Credits Low` event.
    if (!outcome.replayed) await this.clearCreditsLow(change.accountId);
    return outcome;
  }

  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome> {
    const entry = { ...this.entry(change, 'credits', -change.amountMicros), refId: change.reservationId };
    const reservation: TxPart = {
      item: {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.reservation(change.accountId, change.reservationId),
            type: 'reservation',
            reservationId: change.reservationId,
            amountMicros: change.amountMicros,
            status: 'open',
            whatsapp_phno: change.whatsappPhno,
            createdAt: entry.at,
            ...(change.spend ? { spendPeriod: change.spend.period } : {}),
            ...(change.attributes ? { attributes: change.attributes } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => new Conflict('RESERVATION_EXISTS', `Reservation ${change.reservationId} already exists.`),
    };
    const parts = [this.creditDebit(change), reservation];
    if (change.spend) {
      if (!change.whatsappPhno) throw new ValidationFailed([{ path: ['whatsappPhno'], message: 'A number spend needs the number.', code: 'invalid_type' }]);
      parts.push(
        this.numberSpendPart({
          accountId: change.accountId,
          whatsappPhno: change.whatsappPhno,
          period: change.spend.period,
          deltaMicros: change.amountMicros,
          capMicros: change.spend.capMicros,
        }),
      );
    }
    return this.apply(entry, parts);
  }

  /** A reservation as stored, read strongly consistent. */
  async reservation(accountId: string, reservationId: string): Promise<CreditReservation | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.reservation(accountId, reservationId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      reservationId,
      amountMicros: Item.amountMicros as number,
      status: Item.status as CreditReservation['status'],
      ...(Item.whatsapp_phno ? { whatsapp_phno: Item.whatsapp_phno as string } : {}),
      ...(Item.spendPeriod ? { spendPeriod: Item.spendPeriod as string } : {}),
      ...(typeof Item.usedMicros === 'number' ? { usedMicros: Item.usedMicros } : {}),
      attributes: (Item.attributes as Record<string, unknown>) ?? {},
    };
  }

  /** The pool's balance, read strongly consistent. */
  async balance(accountId: string): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.credits(accountId), ConsistentRead: true }));
    if (!Item) throw new NotFound('The account');
    return Item.balanceMicros as number;
  }

  /** What a number spent in a billing period, read strongly consistent (0 before its first spend). */
  async numberSpend(accountId: string, period: string, whatsappPhno: string): Promise<number> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.numberSpend(accountId, period, whatsappPhno), ConsistentRead: true }),
    );
    return (Item?.spentMicros as number | undefined) ?? 0;
  }

  /**
   * Flags the pool as low, once: only when its balance is under `thresholdMicros`
   * and it is not flagged yet. `true` means this caller set the flag and should
   * tell (publish `Credits Low`); a top-up over the threshold clears it.
   */
  async markCreditsLow(accountId: string, thresholdMicros: number, at: string): Promise<{ flagged: boolean; balanceMicros?: number }> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.credits(accountId),
          UpdateExpression: 'SET lowBalanceNotifiedAt = :at, lowBalanceThresholdMicros = :t',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(lowBalanceNotifiedAt) AND balanceMicros < :t',
          ExpressionAttributeValues: { ':at': at, ':t': thresholdMicros },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { flagged: true, balanceMicros: Attributes?.balanceMicros as number };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { flagged: false };
      throw error;
    }
  }

  /** Takes back a flag this caller set (the event could not be published), so a later debit tells again. */
  async unmarkCreditsLow(accountId: string, at: string): Promise<void> {
    await this.removeLowFlag(accountId, 'lowBalanceNotifiedAt = :at', { ':at': at });
  }

  private async clearCreditsLow(accountId: string): Promise<void> {
    await this.removeLowFlag(accountId, 'attribute_exists(lowBalanceNotifiedAt) AND balanceMicros >= lowBalanceThresholdMicros', {});
  }

  private async removeLowFlag(accountId: string, condition: string, values: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.credits(accountId),
          UpdateExpression: 'REMOVE lowBalanceNotifiedAt, lowBalanceThresholdMicros',
          ConditionExpression: condition,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async settleReservation(change: SettleReservation): Promise<QuotaOutcome> {
    const { Item: reservation } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.reservation(change.accountId, change.reservationId), ConsistentRead: true }),
    );
    if (!reservation) throw new NotFound(`Reservation ${change.reservationId}`);
    const reserved = reservation.amountMicros as number;
    if (!Number.isSafeInteger(change.usedMicros) || change.usedMicros < 0 || change.usedMicros > reserved) {
      throw new ValidationFailed([{ path: ['usedMicros'], message: `Must be an integer from 0 to the ${reserved} reserved.`, code: 'too_big' }]);
    }
    const refund = reserved - change.usedMicros;
    const entry = { ...this.entry(change, 'credits', refund), refId: change.reservationId };
    const close: TxPart = {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.reservation(change.accountId, change.reservationId),
          UpdateExpression: 'SET #status = :settled, usedMicros = :used, settledAt = :at',
          ConditionExpression: '#status = :open AND amountMicros = :reserved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':settled': 'settled', ':open': 'open', ':used': change.usedMicros, ':at': entry.at, ':reserved': reserved },
        },
      },
      onConditionFailed: () => new Conflict('RESERVATION_SETTLED', `Reservation ${change.reservationId} is already settled.`),
    };
    const parts = [close];
    if (refund > 0) parts.push(this.creditAdd(change.accountId, refund, { returning: true }));
    // The unused part leaves the number's spend too (same period the reservation counted it in).
    if (refund > 0 && reservation.spendPeriod && reservation.whatsapp_phno) {
      parts.push(
        this.numberSpendPart({
          accountId: change.accountId,
          whatsappPhno: reservation.whatsapp_phno as string,
          period: reservation.spendPeriod as string,
          deltaMicros: -refund,
        }),
      );
    }
    return this.apply(entry, parts);
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
        new GetCommand({ TableName: this.tableName, Key: keys.account(change.accountId), ConsistentRead: true }),
      );
      if (!Item || Item.status !== 'active') throw new NotFound('The account');
      const account = Item as Account;
      const before = account.addons[change.type];
      const staleRead = new Conflict('STALE_READ', 'retry');
      const accountUpdate: TxPart = {
        item: {
          Update: {
            TableName: this.tableName,
            Key: keys.account(change.accountId),
            UpdateExpression: 'SET addons.#type = addons.#type + :q',
            ConditionExpression: '#status = :active AND addons.#type = :before',
            ExpressionAttributeNames: { '#type': change.type, '#status': 'status' },
            ExpressionAttributeValues: { ':q': change.quantity, ':active': 'active', ':before': before },
          },
        },
        onConditionFailed: () => staleRead,
      };
      const counterUpdate = this.raiseLimit(change.accountId, resource, change.period, counterLimit(account, resource), change.quantity);
      const entry = { ...this.entry(change, resource, change.quantity), ...(isGauge(resource) ? {} : { period: change.period }) };
      try {
        return await this.apply(entry, [accountUpdate, counterUpdate]);
      } catch (error) {
        if (error !== staleRead || attempt >= 20) throw error;
        await backoff(attempt);
      }
    }
  }

  // --- counter updates -------------------------------------------------------

  /**
   * The counter part of raising a limit by `quantity` (add-ons, merges). A
   * period counter not used yet this period starts from `oldLimit`, the limit
   * read from the account in the same optimistic step.
   */
  raiseLimit(accountId: string, resource: QuotaResource, period: string, oldLimit: number, quantity: number): TxPart {
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: isGauge(resource) ? keys.gaugeQuota(accountId, resource) : keys.periodQuota(accountId, resource, period),
          UpdateExpression:
            'SET #limit = if_not_exists(#limit, :old) + :q, remaining = if_not_exists(remaining, :old) + :q, used = if_not_exists(used, :zero), #resource = :resource',
          ExpressionAttributeNames: { '#limit': 'limit', '#resource': 'resource' },
          ExpressionAttributeValues: { ':old': oldLimit, ':q': quantity, ':zero': 0, ':resource': resource },
        },
      },
    };
  }

  /** The counter part of an acquire, for repositories that take a unit in the same transaction as their own writes. */
  gaugeAcquire(change: GaugeChange): TxPart {
    positive(change.amount, 'amount');
    // The 15-number ceiling holds whatever add-ons were bought: a constant bound, no arithmetic needed.
    const capped = change.resource === 'additionalNumbers';
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.gaugeQuota(change.accountId, change.resource),
          UpdateExpression: 'SET used = used + :n, remaining = remaining - :n, updatedAt = :at',
          ConditionExpression: capped ? 'remaining >= :n AND used <= :capLessN' : 'remaining >= :n',
          ExpressionAttributeValues: {
            ':n': change.amount,
            ':at': this.clock.now().toISOString(),
            ...(capped ? { ':capLessN': MAX_ADDITIONAL_NUMBERS - change.amount } : {}),
          },
        },
      },
      onConditionFailed: (old) => {
        if (!old) return new NotFound('The account');
        const limit = capped ? Math.min(old.limit as number, MAX_ADDITIONAL_NUMBERS) : (old.limit as number);
        return new QuotaExceeded(change.resource, limit, old.used as number);
      },
    };
  }

  gaugeRelease(change: GaugeChange): TxPart {
    positive(change.amount, 'amount');
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.gaugeQuota(change.accountId, change.resource),
          UpdateExpression: 'SET used = used - :n, remaining = remaining + :n, updatedAt = :at',
          ConditionExpression: 'used >= :n',
          ExpressionAttributeValues: { ':n': change.amount, ':at': this.clock.now().toISOString() },
        },
      },
      onConditionFailed: (old) =>
        old
          ? new Conflict('NOTHING_TO_RELEASE', `No ${change.resource} in use to release.`, { resource: change.resource })
          : new NotFound('The account'),
    };
  }

  /**
   * A period counter is created by its first use, starting from the limit the
   * caller read from the account; `if_not_exists` makes a stale limit harmless
   * once the item exists (an add-on bought meanwhile already raised it).
   */
  private periodConsume(change: PeriodChange): TxPart {
    positive(change.amount, 'amount');
    const firstUseFits = change.limit >= change.amount;
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.periodQuota(change.accountId, change.resource, change.period),
          UpdateExpression:
            'SET used = if_not_exists(used, :zero) + :n, remaining = if_not_exists(remaining, :limit) - :n, #limit = if_not_exists(#limit, :limit), #resource = :resource, updatedAt = :at',
          ConditionExpression: firstUseFits
            ? '(attribute_not_exists(remaining)) OR remaining >= :n'
            : 'attribute_exists(remaining) AND remaining >= :n',
          ExpressionAttributeNames: { '#limit': 'limit', '#resource': 'resource' },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':n': change.amount,
            ':limit': change.limit,
            ':resource': change.resource,
            ':at': this.clock.now().toISOString(),
          },
        },
      },
      onConditionFailed: (old) =>
        new QuotaExceeded(change.resource, (old?.limit as number) ?? change.limit, (old?.used as number) ?? 0),
    };
  }

  private creditDebit(change: CreditChange): TxPart {
    positive(change.amountMicros, 'amountMicros');
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.credits(change.accountId),
          UpdateExpression: 'SET balanceMicros = balanceMicros - :n, spentMicros = spentMicros + :n, updatedAt = :at',
          ConditionExpression: 'balanceMicros >= :n',
          ExpressionAttributeValues: { ':n': change.amountMicros, ':at': this.clock.now().toISOString() },
        },
      },
      onConditionFailed: (old) => {
        if (!old) return new NotFound('The account');
        const error = new QuotaExceeded('credits', old.addedMicros as number, old.spentMicros as number);
        Object.assign(error.details, { balanceMicros: old.balanceMicros, requestedMicros: change.amountMicros });
        return error;
      },
    };
  }

  /**
   * The change of one number's spend in a period, for a transaction that moves
   * pool money. A raise is held within `capMicros` when set: conditions cannot
   * do arithmetic, so the caller's `cap - amount` is the bound the counter must
   * not be over before the raise.
   */
  numberSpendPart(change: { accountId: string; whatsappPhno: string; period: string; deltaMicros: number; capMicros?: number | null }): TxPart {
    const { accountId, whatsappPhno, period, deltaMicros } = change;
    if (!Number.isSafeInteger(deltaMicros) || deltaMicros === 0) {
      throw new ValidationFailed([{ path: ['deltaMicros'], message: 'Must be a non-zero integer.', code: 'invalid_value' }]);
    }
    const cap = deltaMicros > 0 ? (change.capMicros ?? null) : null;
    if (cap !== null && cap - deltaMicros < 0) throw numberCapReached(whatsappPhno, cap, undefined, deltaMicros);
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.numberSpend(accountId, period, whatsappPhno),
          UpdateExpression: 'SET spentMicros = if_not_exists(spentMicros, :zero) + :n, whatsapp_phno = :phno, period = :period, updatedAt = :at',
          ...(cap !== null ? { ConditionExpression: 'attribute_not_exists(spentMicros) OR spentMicros <= :capLessN' } : {}),
          ExpressionAttributeValues: {
            ':zero': 0,
            ':n': deltaMicros,
            ':phno': whatsappPhno,
            ':period': period,
            ':at': this.clock.now().toISOString(),
            ...(cap !== null ? { ':capLessN': cap - deltaMicros } : {}),
          },
        },
      },
      onConditionFailed: (old) => numberCapReached(whatsappPhno, cap ?? 0, old?.spentMicros as number | undefined, deltaMicros),
    };
  }

  /** Money given back to the pool (a refund, an unused reservation), for a transaction that also writes other items. */
  creditReturnPart(accountId: string, amountMicros: number): TxPart {
    positive(amountMicros, 'amountMicros');
    return this.creditAdd(accountId, amountMicros, { returning: true });
  }

  /** Adds to the pool: a top-up (`returning: false`) or money given back (refund, unused reservation). */
  private creditAdd(accountId: string, amountMicros: number, opts: { returning?: boolean } = {}): TxPart {
    const counter = opts.returning ? 'spentMicros = spentMicros - :n' : 'addedMicros = addedMicros + :n';
    return {
      item: {
        Update: {
          TableName: this.tableName,
          Key: keys.credits(accountId),
          UpdateExpression: `SET balanceMicros = balanceMicros + :n, ${counter}, updatedAt = :at`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':n': amountMicros, ':at': this.clock.now().toISOString() },
        },
      },
      onConditionFailed: () => new NotFound('The account'),
    };
  }

  /** Refunds credits (e.g. Meta reported a charged message `failed`). */
  refundCredits(change: CreditChange): Promise<QuotaOutcome> {
    positive(change.amountMicros, 'amountMicros');
    return this.apply(this.entry(change, 'credits', change.amountMicros), [
      this.creditAdd(change.accountId, change.amountMicros, { returning: true }),
    ]);
  }

  // --- ledger -----------------------------------------------------------------

  entry(change: { idempotencyKey: string; reason: string; whatsappPhno?: string; refId?: string }, resource: LedgerEntry['resource'], amount: number): LedgerEntry {
    return {
      idempotencyKey: change.idempotencyKey,
      at: this.clock.now().toISOString(),
      resource,
      amount,
      reason: change.reason,
      ...(change.whatsappPhno ? { whatsapp_phno: change.whatsappPhno } : {}),
      ...(change.refId ? { refId: change.refId } : {}),
    };
  }

  /** Commits the counter parts with the ledger entry, or returns the entry a previous request with this key wrote. */
  async apply(entry: LedgerEntry, parts: TxPart[], accountId = accountOf(parts)): Promise<QuotaOutcome> {
    const fingerprint = `${entry.resource}:${entry.amount}:${entry.whatsapp_phno ?? ''}:${entry.refId ?? ''}`;
    const ledgerPut: TxPart = {
      item: {
        Put: {
          TableName: this.tableName,
          Item: ledgerItem(accountId, entry, fingerprint),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      onConditionFailed: () => REPLAY,
    };
    const result = await transact(this.doc, [ledgerPut, ...parts]);
    if (result !== REPLAY) return { replayed: false, entry };
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.ledger(accountId, entry.idempotencyKey), ConsistentRead: true }),
    );
    if (!Item || Item.fingerprint !== fingerprint) throw new IdempotencyKeyReused();
    return { replayed: true, entry: toLedgerEntry(Item) };
  }
}

export function ledgerItem(accountId: string, entry: LedgerEntry, fingerprint: string): Record<string, unknown> {
  const sortKey = `${entry.at}#${entry.idempotencyKey}`;
  return {
    ...keys.ledger(accountId, entry.idempotencyKey),
    type: 'ledger',
    ...entry,
    fingerprint,
    gsi1pk: keys.ledgerByResource(accountId, entry.resource),
    gsi1sk: sortKey,
    ...(entry.whatsapp_phno
      ? { gsi2pk: keys.ledgerByResourceAndNumber(accountId, entry.resource, entry.whatsapp_phno), gsi2sk: sortKey }
      : {}),
  };
}

export function toLedgerEntry(item: Record<string, unknown>): LedgerEntry {
  const { idempotencyKey, at, resource, amount, whatsapp_phno, reason, period, refId } = item as unknown as LedgerEntry;
  return {
    idempotencyKey,
    at,
    resource,
    amount,
    reason,
    ...(whatsapp_phno ? { whatsapp_phno } : {}),
    ...(period ? { period } : {}),
    ...(refId ? { refId } : {}),
  };
}

function accountOf(parts: TxPart[]): string {
  for (const { item } of parts) {
    const body = (item.Update ?? item.Put ?? item.Delete ?? item.ConditionCheck) as { Key?: { pk: string }; Item?: { pk: string } };
    const pk = body.Key?.pk ?? body.Item?.pk;
    if (pk?.startsWith('A#')) return pk.slice(2);
  }
  throw new Error('No account item in the transaction');
}

/** A number's cap inside the shared pool is reached: `QuotaExceeded` on credits, naming the number. */
function numberCapReached(whatsappPhno: string, capMicros: number, spentMicros: number | undefined, requestedMicros: number): QuotaExceeded {
  const error = new QuotaExceeded('credits', capMicros, spentMicros ?? 0);
  Object.assign(error.details, { scope: 'number', whatsapp_phno: whatsappPhno, capMicros, requestedMicros });
  return error;
}

function positive(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ValidationFailed([{ path: [field], message: 'Must be a positive integer.', code: 'too_small' }]);
  }
}
