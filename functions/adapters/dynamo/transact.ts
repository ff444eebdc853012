/**
 * Runs one `TransactWriteItems` and turns its outcome into domain results.
 *
 * Each part names what a failed condition on its item means: an `AppError` to
 * throw, or `REPLAY` when the item is the ledger/idempotency record that a
 * previous, identical request already wrote. `TransactionConflict`
 * cancellations (another transaction held the same item) are retried with
 * capped, jittered backoff; conditions are never retried, they are answers.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ServiceBusy } from '../../core/errors.js';
import { TransactionConditionFailed } from '../../core/backend-failures.js';
import { fromWire } from './wire.js';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const REPLAY = Symbol('replay');

export interface TxPart {
  item: TransactItem;
  /** What a failed condition on this item means, given the item as it was. */
  onConditionFailed?: (existing: Record<string, unknown> | undefined) => Error | typeof REPLAY;
}

const MAX_ATTEMPTS = 25;

export async function transact(doc: DynamoDBDocumentClient, parts: TxPart[]): Promise<'committed' | typeof REPLAY> {
  const TransactItems = parts.map(({ item, onConditionFailed }) => (onConditionFailed ? withOldValues(item) : item));
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) && (error as Error)?.name !== 'TransactionCanceledException') {
        throw error;
      }
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const failed = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
      if (failed >= 0) {
        const handler = parts[failed]?.onConditionFailed;
        const existing = reasons[failed]?.Item ? fromWire(reasons[failed].Item) : undefined;
        const outcome = handler ? handler(existing) : new TransactionConditionFailed(failed);
        if (outcome === REPLAY) return REPLAY;
        throw outcome;
      }
      const retryable = reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
      if (!retryable || attempt >= MAX_ATTEMPTS) {
        if (retryable) throw new ServiceBusy();
        throw error;
      }
      await backoff(attempt);
    }
  }
}

/** Full-jitter exponential backoff, capped: spreads racing writers apart. */
export function backoff(attempt: number, baseMs = 10, capMs = 400): Promise<void> {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function withOldValues(item: TransactItem): TransactItem {
  const [kind, body] = Object.entries(item)[0] as [keyof TransactItem, Record<string, unknown>];
  if (kind === 'ConditionCheck' || !body) return item;
  return { [kind]: { ...body, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } } as TransactItem;
}
