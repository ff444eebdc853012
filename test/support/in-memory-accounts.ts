/**
 * In-memory fakes of the account ports (`AccountRepository`, the credit and
 * add-on part of `QuotaStore`) for the unit tier: the same contract as the
 * DynamoDB adapters (seats and teams taken against the plan's limit plus
 * add-ons, one change per idempotency key, 404-shaped `undefined`s), held in
 * maps. The storage rules themselves are proven on DynamoDB Local in
 * test/integration; these let the core use cases run in milliseconds.
 */
import { QuotaExceeded } from '../../functions/core/errors.js';
import { type Account, addonResource, effectiveLimit } from '../../functions/core/plan.js';
import type { AccountRepository, AddonPurchase, CreditChange, LedgerEntry, QuotaOutcome, QuotaStore, Team, User } from '../../functions/core/ports.js';

export function inMemoryAccounts() {
  const accounts = new Map<string, Account>();
  const balances = new Map<string, number>();
  const users = new Map<string, Map<string, User>>();
  const teams = new Map<string, Map<string, Team>>();
  const applied = new Map<string, unknown>();

  /** The first result for a key, whatever is asked later: the ledger's idempotency. */
  const once = <T>(key: string, change: () => T): { value: T; replayed: boolean } => {
    if (applied.has(key)) return { value: applied.get(key) as T, replayed: true };
    const value = change();
    applied.set(key, value);
    return { value, replayed: false };
  };
  const ledger = new Map<string, LedgerEntry>();
  /** Applies a counter change once per key and answers as the store does: the first ledger entry, and whether it was a replay. */
  const change = (entry: LedgerEntry, apply: () => void): QuotaOutcome => {
    const { value, replayed } = once(`ledger:${entry.idempotencyKey}`, () => {
      apply();
      ledger.set(entry.idempotencyKey, entry);
      return entry;
    });
    return { replayed, entry: value };
  };
  const take = <T>(accountId: string, resource: 'users' | 'teams', held: Map<string, Map<string, T>>) => {
    const account = accounts.get(accountId)!;
    const limit = effectiveLimit(account, resource);
    const used = held.get(accountId)?.size ?? 0;
    if (used >= limit) throw new QuotaExceeded(resource, limit, used);
  };
  const members = <T>(held: Map<string, Map<string, T>>, accountId: string) => {
    if (!held.has(accountId)) held.set(accountId, new Map());
    return held.get(accountId)!;
  };

  const repository: AccountRepository = {
    async create(account, creditsMicros, key) {
      const { value, replayed } = once(`create:${key}`, () => {
        accounts.set(account.accountId, structuredClone(account));
        balances.set(account.accountId, creditsMicros);
        return account;
      });
      return { account: value, replayed };
    },
    async get(accountId) {
      const account = accounts.get(accountId);
      return account && structuredClone(account);
    },
    async usage(account) {
      return {
        usage: { users: members(users, account.accountId).size, teams: members(teams, account.accountId).size, chatbotSessions: 0, aiResponses: 0, additionalNumbers: 0 },
        balanceMicros: balances.get(account.accountId) ?? 0,
      };
    },
    async balance(accountId) {
      return balances.get(accountId) ?? 0;
    },
    async listLedger() {
      return { items: [], nextCursor: null };
    },
    async addUser(accountId, user, key) {
      const { value, replayed } = once(`user:${accountId}:${key}`, () => {
        take(accountId, 'users', users);
        members(users, accountId).set(user.userId, user);
        return user;
      });
      return { user: value, replayed };
    },
    async removeUser(accountId, userId) {
      members(users, accountId).delete(userId);
    },
    async addTeam(accountId, team, key) {
      const { value, replayed } = once(`team:${accountId}:${key}`, () => {
        take(accountId, 'teams', teams);
        members(teams, accountId).set(team.teamId, team);
        return team;
      });
      return { team: value, replayed };
    },
    async removeTeam(accountId, teamId) {
      members(teams, accountId).delete(teamId);
    },
    async getUser(accountId, userId) {
      return members(users, accountId).get(userId);
    },
    async listUsers(accountId) {
      return { items: [...members(users, accountId).values()].sort((a, b) => a.userId.localeCompare(b.userId)), nextCursor: null };
    },
    async listTeams(accountId) {
      return { items: [...members(teams, accountId).values()].sort((a, b) => a.teamId.localeCompare(b.teamId)), nextCursor: null };
    },
    async getTeam(accountId, teamId) {
      return members(teams, accountId).get(teamId);
    },
    async spendByNumber() {
      return [];
    },
  };

  const unused = (name: string) => () => Promise.reject(new Error(`${name} is not part of the account use cases' fake`));
  const quotas: QuotaStore = {
    acquire: unused('acquire'),
    release: unused('release'),
    consume: unused('consume'),
    debitCredits: unused('debitCredits'),
    refundCredits: unused('refundCredits'),
    reserveCredits: unused('reserveCredits'),
    settleReservation: unused('settleReservation'),
    async addCredits(credit: CreditChange) {
      const entry: LedgerEntry = { idempotencyKey: credit.idempotencyKey, at: new Date().toISOString(), resource: 'credits', amount: credit.amountMicros, reason: credit.reason };
      return change(entry, () => balances.set(credit.accountId, (balances.get(credit.accountId) ?? 0) + credit.amountMicros));
    },
    async purchaseAddon(purchase: AddonPurchase) {
      const resource = addonResource(purchase.type);
      const entry: LedgerEntry = { idempotencyKey: purchase.idempotencyKey, at: new Date().toISOString(), resource, amount: purchase.quantity, reason: purchase.reason, period: purchase.period };
      return change(entry, () => {
        accounts.get(purchase.accountId)!.addons[purchase.type] += purchase.quantity;
      });
    },
  };
  return { accounts: repository, quotas };
}
