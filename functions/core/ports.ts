/**
 * The ports core declares. Adapters (`functions/adapters`) implement them on
 * DynamoDB, EventBridge and the Graph API; tests and the local runtime pass
 * the same adapters, so one use case runs unchanged everywhere.
 */
import type { AddonType, QuotaResource } from '../../schemas/words.js';
import type { Account, GaugeResource, LedgerResource, PeriodResource } from './plan.js';
import type { BusEvent } from '../../schemas/events/contract.js';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new unique id with a readable prefix, e.g. `acc_…`, `usr_…`. */
  newId(prefix: string): string;
}

/** One row of the ledger: every quota and credit change, signed from the pool's side. */
export interface LedgerEntry {
  idempotencyKey: string;
  at: string;
  resource: LedgerResource;
  /** Change in what is available: negative when spent or taken, positive when added or given back. Credits in micros. */
  amount: number;
  whatsapp_phno?: string;
  reason: string;
  /** The billing period of a period resource. */
  period?: string;
  /** What the change was for (a user id, a broadcast id, a reservation id). */
  refId?: string;
}

/** The result of a quota change: the ledger entry, and whether it was already applied before. */
export interface QuotaOutcome {
  replayed: boolean;
  entry: LedgerEntry;
}

interface ChangeBase {
  accountId: string;
  /** Derived from the cause (request id, wamid, broadcast recipient). */
  idempotencyKey: string;
  reason: string;
  whatsappPhno?: string;
  refId?: string;
}

export interface GaugeChange extends ChangeBase {
  resource: GaugeResource;
  amount: number;
}

export interface PeriodChange extends ChangeBase {
  resource: PeriodResource;
  amount: number;
  period: string;
  /** The limit the period's counter starts from when this is its first use. */
  limit: number;
}

export interface CreditChange extends ChangeBase {
  amountMicros: number;
}

export interface ReserveCredits extends ChangeBase {
  reservationId: string;
  amountMicros: number;
  /**
   * The number's spend in the billing period (`whatsappPhno` required): raised
   * by the amount in the same transaction, and held within `capMicros` when the
   * number has a cap (docs/quotas.md, rule 8); settling gives the unused part back.
   */
  spend?: { period: string; capMicros: number | null };
  /** Extra attributes kept on the reservation item (e.g. which recipients it pays for). */
  attributes?: Record<string, unknown>;
}

/** A reservation as stored: what it holds and whether it was settled. */
export interface CreditReservation {
  reservationId: string;
  amountMicros: number;
  status: 'open' | 'settled';
  whatsapp_phno?: string;
  spendPeriod?: string;
  usedMicros?: number;
  attributes: Record<string, unknown>;
}

/** Credits one number spent in a billing period (broadcast reservations net of what was given back). */
export interface NumberSpend {
  whatsapp_phno: string;
  spentMicros: number;
}

export interface SettleReservation extends ChangeBase {
  reservationId: string;
  /** What the reservation actually paid for; the rest returns to the pool. */
  usedMicros: number;
}

export interface AddonPurchase extends ChangeBase {
  type: AddonType;
  quantity: number;
  period: string;
}

/** Quota and credit counters: each method is one conditional write or transaction with its ledger entry. */
export interface QuotaStore {
  acquire(change: GaugeChange): Promise<QuotaOutcome>;
  release(change: GaugeChange): Promise<QuotaOutcome>;
  consume(change: PeriodChange): Promise<QuotaOutcome>;
  debitCredits(change: CreditChange): Promise<QuotaOutcome>;
  addCredits(change: CreditChange): Promise<QuotaOutcome>;
  /** Gives spent credits back (a charged message Meta reported `failed`). */
  refundCredits(change: CreditChange): Promise<QuotaOutcome>;
  reserveCredits(change: ReserveCredits): Promise<QuotaOutcome>;
  settleReservation(change: SettleReservation): Promise<QuotaOutcome>;
  purchaseAddon(change: AddonPurchase): Promise<QuotaOutcome>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface AccountUsage {
  usage: Record<QuotaResource, number>;
  balanceMicros: number;
}

export interface User {
  userId: string;
  email: string;
  role: 'owner' | 'admin' | 'agent';
  createdAt: string;
}

export interface Team {
  teamId: string;
  name: string;
  createdAt: string;
  /** The numbers the team covers (per-number access, `teams.ts`); absent: every number. */
  whatsapp_phnos?: string[];
}

export interface AccountRepository {
  /** Creates the account with its counters and credit pool in one transaction; the key makes it idempotent. */
  create(account: Account, creditsMicros: number, idempotencyKey: string): Promise<{ account: Account; replayed: boolean }>;
  get(accountId: string): Promise<Account | undefined>;
  usage(account: Account, period: string): Promise<AccountUsage>;
  /** The credit pool's balance, read strongly consistent. */
  balance(accountId: string): Promise<number>;
  listLedger(
    accountId: string,
    filter: { resource: LedgerResource; whatsappPhno?: string },
    page: PageRequest,
  ): Promise<Page<LedgerEntry>>;
  /** Takes a seat and stores the user in one transaction. */
  addUser(accountId: string, user: User, idempotencyKey: string): Promise<{ user: User; replayed: boolean }>;
  /** Frees the seat and deletes the user in one transaction. */
  removeUser(accountId: string, userId: string, idempotencyKey: string): Promise<void>;
  addTeam(accountId: string, team: Team, idempotencyKey: string): Promise<{ team: Team; replayed: boolean }>;
  removeTeam(accountId: string, teamId: string, idempotencyKey: string): Promise<void>;
  getUser(accountId: string, userId: string): Promise<User | undefined>;
  getTeam(accountId: string, teamId: string): Promise<Team | undefined>;
  /** The account's users (seats), by id. */
  listUsers(accountId: string, page: PageRequest): Promise<Page<User>>;
  /** The account's teams, by id. */
  listTeams(accountId: string, page: PageRequest): Promise<Page<Team>>;
  /** What each number spent in the period (`SPEND` items). */
  spendByNumber(accountId: string, period: string): Promise<NumberSpend[]>;
}

/** A stored response for an `Idempotency-Key` (docs/quotas.md, "Idempotency keys"). */
export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'completed'; fingerprint: string; response: StoredResponse }
  | { state: 'in_progress'; fingerprint: string };

export interface IdempotencyStore {
  /** Claims the key for a request; tells what is there if it was claimed before. */
  claim(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Lets a failed request be retried with the same key. */
  release(scope: string, key: string): Promise<void>;
}

/**
 * Puts events on the bus: EventBridge in AWS, the in-process bus locally.
 * Resolves once every event is accepted; rejects (an `AppError`) when some
 * could not be, after the adapter's own bounded retries.
 */
export interface EventPublisher {
  publish(events: BusEvent[]): Promise<void>;
}

/** Which event a publishing problem is about: the keys every log line about an event carries. */
export interface EventKeys {
  eventId?: string;
  accountId?: string;
  whatsapp_phno?: string;
}

/**
 * What a publisher tells its observer while it publishes, to be logged and
 * counted by the function that wired it (the publisher has no opinion on
 * logging): an event too large for the bus, an entry the bus refused, a
 * request that failed as a whole. `final` when no attempt follows.
 */
export type PublishProblem =
  | ({ kind: 'oversize'; detailType: string; bytes: number } & EventKeys)
  | ({ kind: 'entry-failed'; detailType: string; errorCode: string; attempt: number; final: boolean } & EventKeys)
  | { kind: 'request-failed'; entries: number; error: string; attempt: number; final: boolean };

