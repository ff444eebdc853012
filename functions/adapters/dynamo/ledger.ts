/**
 * The ledger (docs/quotas.md): every quota and credit change is ONE
 * transaction, the ledger entry `Put` guarded by `attribute_not_exists` on its
 * idempotency key plus the counter parts guarded by their limits. A replayed
 * key cancels the transaction on the entry and the first entry is answered; a
 * reused key (same key, another change) is refused.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { IdempotencyKeyReused } from '../../core/errors.js';
import type { LedgerResource } from '../../core/plan.js';
import type { LedgerEntry, Page, PageRequest, QuotaOutcome } from '../../core/ports.js';
import { ledgerEntry } from './entities/index.js';
import { queryPage } from './query.js';
import { REPLAY, type TxPart, transact } from './transact.js';
import { ledgerFingerprint, ledgerPut } from './transaction-parts.js';

/** What a change says about itself, for its ledger entry. */
export interface LedgerChange {
  idempotencyKey: string;
  reason: string;
  whatsappPhno?: string;
  refId?: string;
}

export function ledgerEntryOf(change: LedgerChange, resource: LedgerResource, amount: number, at: string): LedgerEntry {
  return {
    idempotencyKey: change.idempotencyKey,
    at,
    resource,
    amount,
    reason: change.reason,
    ...(change.whatsappPhno ? { whatsapp_phno: change.whatsappPhno } : {}),
    ...(change.refId ? { refId: change.refId } : {}),
  };
}

export class DynamoLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Commits the parts with the ledger entry, or answers the entry a previous request with this key wrote. */
  async commit(accountId: string, entry: LedgerEntry, parts: TxPart[]): Promise<QuotaOutcome> {
    const result = await transact(this.doc, [ledgerPut(this.tableName, accountId, entry), ...parts]);
    if (result !== REPLAY) return { replayed: false, entry };
    const first = await this.get(accountId, entry.idempotencyKey);
    if (!first || first.fingerprint !== ledgerFingerprint(entry)) throw new IdempotencyKeyReused();
    return { replayed: true, entry: toLedgerEntry(first) };
  }

  /** The amount of the entry under a key, if one was written (a merge step already done). */
  async amountOf(accountId: string, idempotencyKey: string): Promise<number | undefined> {
    return (await this.get(accountId, idempotencyKey))?.amount;
  }

  /** An account's entries of one resource (and number), newest first. */
  async list(accountId: string, filter: { resource: LedgerResource; whatsappPhno?: string }, page: PageRequest): Promise<Page<LedgerEntry>> {
    const { resource, whatsappPhno } = filter;
    const query = whatsappPhno
      ? { index: ledgerEntry.indexes.gsi2, partition: ledgerEntry.indexes.gsi2.partition({ accountId, resource, whatsappPhno }) }
      : { index: ledgerEntry.indexes.gsi1, partition: ledgerEntry.indexes.gsi1.partition({ accountId, resource }) };
    const { items, nextCursor } = await queryPage(this.doc, this.tableName, { entity: ledgerEntry, ...query, newestFirst: true }, page);
    return { items: items.map(toLedgerEntry), nextCursor };
  }

  private async get(accountId: string, idempotencyKey: string) {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: ledgerEntry.key({ accountId, idempotencyKey }), ConsistentRead: true }),
    );
    return Item ? ledgerEntry.parse(Item) : undefined;
  }
}

/** The entry as the core knows it: the stored attributes without the fingerprint. */
export function toLedgerEntry(stored: LedgerEntry & { fingerprint?: string }): LedgerEntry {
  const { idempotencyKey, at, resource, amount, reason, whatsapp_phno, period, refId } = stored;
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
