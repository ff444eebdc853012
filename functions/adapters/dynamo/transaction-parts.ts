/**
 * Pure builders of the transaction parts that several repositories compose
 * with their own writes (docs/quotas.md): a counter taken or given back, a
 * limit raised, pool money moved, a number's spend, a ledger entry, and the
 * generic "new item" / "existing item" guards. No I/O: each returns the
 * `TxPart` (the write, its condition, and what a failed condition means);
 * `transact` or the ledger's `commit` runs them.
 */
import { Conflict, NotFound, QuotaExceeded, ValidationFailed } from '../../core/errors.js';
import { MAX_ADDITIONAL_NUMBERS, isGauge } from '../../core/plan.js';
import type { GaugeChange, LedgerEntry, PeriodChange } from '../../core/ports.js';
import type { QuotaResource } from '../../../schemas/words.js';
import { account, creditPool, gaugeQuota, ledgerEntry, numberSpend, periodQuota } from './entities/index.js';
import { REPLAY, type TxPart } from './transact.js';

type Key = { pk: string; sk: string };

/** `{resource}:{amount}:{phno}:{refId}`: a replay carries the same, a reused key does not. */
export function ledgerFingerprint(entry: LedgerEntry): string {
  return `${entry.resource}:${entry.amount}:${entry.whatsapp_phno ?? ''}:${entry.refId ?? ''}`;
}

/** The ledger entry as an item, with its index keys (gsi2 only when a number applies). */
export function ledgerItem(accountId: string, entry: LedgerEntry): Record<string, unknown> {
  return ledgerEntry.item(
    { accountId, idempotencyKey: entry.idempotencyKey, resource: entry.resource, at: entry.at, whatsappPhno: entry.whatsapp_phno },
    { ...entry, fingerprint: ledgerFingerprint(entry) },
  );
}

/** Writes a ledger entry once: an entry already under its key means this change was applied before (`REPLAY`). */
export function ledgerPut(tableName: string, accountId: string, entry: LedgerEntry): TxPart {
  return {
    item: { Put: { TableName: tableName, Item: ledgerItem(accountId, entry), ConditionExpression: 'attribute_not_exists(pk)' } },
    onConditionFailed: () => REPLAY,
  };
}

/** A new item: refused (`onExists`) when its key is taken. */
export function putNew(tableName: string, item: Record<string, unknown>, onExists?: () => Error | typeof REPLAY): TxPart {
  return {
    item: { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
    ...(onExists ? { onConditionFailed: onExists } : {}),
  };
}

/** Deletes an item that must exist (`onMissing` otherwise). */
export function deleteExisting(tableName: string, key: Key, onMissing: () => Error): TxPart {
  return {
    item: { Delete: { TableName: tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
    onConditionFailed: onMissing,
  };
}

/** The account exists and is active: a closed (merged) account takes no change. */
export function accountActive(tableName: string, accountId: string): TxPart {
  return {
    item: {
      ConditionCheck: {
        TableName: tableName,
        Key: account.key({ accountId }),
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active' },
      },
    },
    onConditionFailed: () => new NotFound('The account'),
  };
}

/** Takes `amount` of a gauge (a seat, a team, a number slot), within its limit. */
export function gaugeAcquire(tableName: string, change: GaugeChange, at: string): TxPart {
  positive(change.amount, 'amount');
  // The 15-number ceiling holds whatever add-ons were bought: a constant bound, no arithmetic needed.
  const capped = change.resource === 'additionalNumbers';
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: gaugeQuota.key({ accountId: change.accountId, resource: change.resource }),
        UpdateExpression: 'SET used = used + :n, remaining = remaining - :n, updatedAt = :at',
        ConditionExpression: capped ? 'remaining >= :n AND used <= :capLessN' : 'remaining >= :n',
        ExpressionAttributeValues: { ':n': change.amount, ':at': at, ...(capped ? { ':capLessN': MAX_ADDITIONAL_NUMBERS - change.amount } : {}) },
      },
    },
    onConditionFailed: (old) => {
      if (!old) return new NotFound('The account');
      const limit = capped ? Math.min(old.limit as number, MAX_ADDITIONAL_NUMBERS) : (old.limit as number);
      return new QuotaExceeded(change.resource, limit, old.used as number);
    },
  };
}

/** Gives `amount` of a gauge back. */
export function gaugeRelease(tableName: string, change: GaugeChange, at: string): TxPart {
  positive(change.amount, 'amount');
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: gaugeQuota.key({ accountId: change.accountId, resource: change.resource }),
        UpdateExpression: 'SET used = used - :n, remaining = remaining + :n, updatedAt = :at',
        ConditionExpression: 'used >= :n',
        ExpressionAttributeValues: { ':n': change.amount, ':at': at },
      },
    },
    onConditionFailed: (old) =>
      old ? new Conflict('NOTHING_TO_RELEASE', `No ${change.resource} in use to release.`, { resource: change.resource }) : new NotFound('The account'),
  };
}

/**
 * Uses `amount` of a period counter. The counter is created by its first use,
 * starting from the limit the caller read from the account; `if_not_exists`
 * makes a stale limit harmless once the item exists (an add-on bought
 * meanwhile already raised it).
 */
export function periodConsume(tableName: string, change: PeriodChange, at: string): TxPart {
  positive(change.amount, 'amount');
  const firstUseFits = change.limit >= change.amount;
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: periodQuota.key({ accountId: change.accountId, resource: change.resource, period: change.period }),
        UpdateExpression:
          'SET used = if_not_exists(used, :zero) + :n, remaining = if_not_exists(remaining, :limit) - :n, #limit = if_not_exists(#limit, :limit), #resource = :resource, updatedAt = :at',
        ConditionExpression: firstUseFits ? '(attribute_not_exists(remaining)) OR remaining >= :n' : 'attribute_exists(remaining) AND remaining >= :n',
        ExpressionAttributeNames: { '#limit': 'limit', '#resource': 'resource' },
        ExpressionAttributeValues: { ':zero': 0, ':n': change.amount, ':limit': change.limit, ':resource': change.resource, ':at': at },
      },
    },
    onConditionFailed: (old) => new QuotaExceeded(change.resource, (old?.limit as number) ?? change.limit, (old?.used as number) ?? 0),
  };
}

/**
 * Raises a limit by `quantity` (add-ons, merges). A period counter not used
 * yet this period starts from `oldLimit`, the limit read from the account in
 * the same optimistic step.
 */
export function raiseLimit(tableName: string, change: { accountId: string; resource: QuotaResource; period: string; oldLimit: number; quantity: number }): TxPart {
  const { accountId, resource, period } = change;
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: isGauge(resource) ? gaugeQuota.key({ accountId, resource }) : periodQuota.key({ accountId, resource, period }),
        UpdateExpression:
          'SET #limit = if_not_exists(#limit, :old) + :q, remaining = if_not_exists(remaining, :old) + :q, used = if_not_exists(used, :zero), #resource = :resource',
        ExpressionAttributeNames: { '#limit': 'limit', '#resource': 'resource' },
        ExpressionAttributeValues: { ':old': change.oldLimit, ':q': change.quantity, ':zero': 0, ':resource': resource },
      },
    },
  };
}

/** Takes money from the pool, never below zero. */
export function creditDebit(tableName: string, change: { accountId: string; amountMicros: number }, at: string): TxPart {
  positive(change.amountMicros, 'amountMicros');
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: creditPool.key({ accountId: change.accountId }),
        UpdateExpression: 'SET balanceMicros = balanceMicros - :n, spentMicros = spentMicros + :n, updatedAt = :at',
        ConditionExpression: 'balanceMicros >= :n',
        ExpressionAttributeValues: { ':n': change.amountMicros, ':at': at },
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

/** Adds to the pool: a top-up (counted as added), or money given back (a refund, an unused reservation: spent goes down). */
export function creditAdd(tableName: string, change: { accountId: string; amountMicros: number; returning: boolean }, at: string): TxPart {
  positive(change.amountMicros, 'amountMicros');
  const counter = change.returning ? 'spentMicros = spentMicros - :n' : 'addedMicros = addedMicros + :n';
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: creditPool.key({ accountId: change.accountId }),
        UpdateExpression: `SET balanceMicros = balanceMicros + :n, ${counter}, updatedAt = :at`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': change.amountMicros, ':at': at },
      },
    },
    onConditionFailed: () => new NotFound('The account'),
  };
}

/**
 * The change of one number's spend in a period, for a transaction that moves
 * pool money. A raise is held within `capMicros` when set: conditions cannot
 * do arithmetic, so `cap - amount` is the bound the counter must not be over
 * before the raise.
 */
export function numberSpendChange(
  tableName: string,
  change: { accountId: string; whatsappPhno: string; period: string; deltaMicros: number; capMicros?: number | null },
  at: string,
): TxPart {
  const { accountId, whatsappPhno, period, deltaMicros } = change;
  if (!Number.isSafeInteger(deltaMicros) || deltaMicros === 0) {
    throw new ValidationFailed([{ path: ['deltaMicros'], message: 'Must be a non-zero integer.', code: 'invalid_value' }]);
  }
  const cap = deltaMicros > 0 ? (change.capMicros ?? null) : null;
  if (cap !== null && cap - deltaMicros < 0) throw numberCapReached(whatsappPhno, cap, undefined, deltaMicros);
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: numberSpend.key({ accountId, period, whatsappPhno }),
        UpdateExpression: 'SET spentMicros = if_not_exists(spentMicros, :zero) + :n, whatsapp_phno = :phno, period = :period, updatedAt = :at',
        ...(cap !== null ? { ConditionExpression: 'attribute_not_exists(spentMicros) OR spentMicros <= :capLessN' } : {}),
        ExpressionAttributeValues: {
          ':zero': 0,
          ':n': deltaMicros,
          ':phno': whatsappPhno,
          ':period': period,
          ':at': at,
          ...(cap !== null ? { ':capLessN': cap - deltaMicros } : {}),
        },
      },
    },
    onConditionFailed: (old) => numberCapReached(whatsappPhno, cap ?? 0, old?.spentMicros as number | undefined, deltaMicros),
  };
}

/** A number's cap inside the shared pool is reached: `QuotaExceeded` on credits, naming the number. */
function numberCapReached(whatsappPhno: string, capMicros: number, spentMicros: number | undefined, requestedMicros: number): QuotaExceeded {
  const error = new QuotaExceeded('credits', capMicros, spentMicros ?? 0);
  Object.assign(error.details, { scope: 'number', whatsapp_phno: whatsappPhno, capMicros, requestedMicros });
  return error;
}

export function positive(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ValidationFailed([{ path: [field], message: 'Must be a positive integer.', code: 'too_small' }]);
  }
}


/**
 * Gives `amount` of a period counter back (a unit taken for work that was
 * then not done: an AI answer never sent). `used` goes down and `remaining`
 * up, so usage shows it unused; never below zero.
 */
export function periodGiveBack(tableName: string, change: Omit<PeriodChange, 'limit'>, at: string): TxPart {
  positive(change.amount, 'amount');
  return {
    item: {
      Update: {
        TableName: tableName,
        Key: periodQuota.key({ accountId: change.accountId, resource: change.resource, period: change.period }),
        UpdateExpression: 'SET used = used - :n, remaining = remaining + :n, updatedAt = :at',
        ConditionExpression: 'used >= :n',
        ExpressionAttributeValues: { ':n': change.amount, ':at': at },
      },
    },
    onConditionFailed: (old) =>
      old ? new Conflict('NOTHING_TO_RELEASE', `No ${change.resource} used in ${change.period} to give back.`, { resource: change.resource }) : new NotFound('The quota counter'),
  };
}
