/**
 * Account use cases: creating accounts, reading limits and usage, add-ons,
 * credit top-ups, the ledger, seats (users) and teams. Every counter change
 * goes through the `QuotaStore` (one conditional write or transaction each).
 */
import { NotFound } from './errors.js';
import type { AccountView, PlanLimits } from '../../schemas/accounts.js';
import type { AddonType } from '../../schemas/words.js';
import { type Account, type LedgerResource, billingPeriod, emptyAddons, limitsOf } from './plan.js';
import type {
  AccountRepository,
  Clock,
  IdGenerator,
  LedgerEntry,
  NumberSpend,
  Page,
  PageRequest,
  QuotaStore,
  Team,
  User,
} from './ports.js';

export interface AccountDeps {
  accounts: AccountRepository;
  quotas: QuotaStore;
  clock: Clock;
  ids: IdGenerator;
}

/** Account settings (the DynamoDB account repository implements it beside `AccountRepository`). */
export interface AccountSettingsRepository {
  /** Sets the IANA time zone; false when there is no active account. */
  setTimeZone(accountId: string, timeZone: string): Promise<boolean>;
}

export async function requireAccount(deps: Pick<AccountDeps, 'accounts'>, accountId: string): Promise<Account> {
  const account = await deps.accounts.get(accountId);
  if (!account || account.status !== 'active') throw new NotFound('The account');
  return account;
}

export async function createAccount(
  deps: AccountDeps,
  input: { name: string; plan: PlanLimits; creditsMicros: number; timeZone?: string },
  idempotencyKey: string,
): Promise<AccountView> {
  const now = deps.clock.now().toISOString();
  const account: Account = {
    accountId: deps.ids.newId('acc'),
    name: input.name,
    plan: input.plan,
    addons: emptyAddons(),
    billingAnchor: now,
    createdAt: now,
    status: 'active',
    ...(input.timeZone ? { timeZone: input.timeZone } : {}),
  };
  const created = await deps.accounts.create(account, input.creditsMicros, idempotencyKey);
  return getAccountView(deps, created.account.accountId);
}

export async function getAccountView(deps: AccountDeps, accountId: string): Promise<AccountView> {
  const account = await requireAccount(deps, accountId);
  const period = billingPeriod(account.billingAnchor, deps.clock.now());
  const [{ usage, balanceMicros }, spendByNumber] = await Promise.all([
    deps.accounts.usage(account, period.key),
    deps.accounts.spendByNumber(accountId, period.key),
  ]);
  return {
    accountId: account.accountId,
    name: account.name,
    status: account.status,
    plan: account.plan,
    addons: account.addons,
    limits: limitsOf(account),
    usage,
    credits: { balanceMicros },
    spendByNumber: spendByNumber.sort((a, b) => a.whatsapp_phno.localeCompare(b.whatsapp_phno)),
    billingPeriod: { start: period.start, end: period.end },
    timeZone: account.timeZone ?? 'UTC',
    createdAt: account.createdAt,
  };
}

/** `PATCH /v1/account`: sets the time zone the account's local hours are judged in (validated as IANA by the body's schema). */
export async function setAccountTimeZone(
  deps: AccountDeps & { accounts: AccountSettingsRepository },
  accountId: string,
  timeZone: string,
): Promise<AccountView> {
  await requireAccount(deps, accountId);
  if (!(await deps.accounts.setTimeZone(accountId, timeZone))) throw new NotFound('The account');
  return getAccountView(deps, accountId);
}

export async function purchaseAddon(
  deps: AccountDeps,
  accountId: string,
  input: { type: AddonType; quantity: number },
  idempotencyKey: string,
): Promise<AccountView> {
  const account = await requireAccount(deps, accountId);
  const period = billingPeriod(account.billingAnchor, deps.clock.now());
  await deps.quotas.purchaseAddon({
    accountId,
    type: input.type,
    quantity: input.quantity,
    period: period.key,
    idempotencyKey,
    reason: `addon:${input.type}`,
  });
  return getAccountView(deps, accountId);
}

export async function topUpCredits(
  deps: AccountDeps,
  accountId: string,
  amountMicros: number,
  idempotencyKey: string,
): Promise<{ balanceMicros: number; replayed: boolean }> {
  await requireAccount(deps, accountId);
  const outcome = await deps.quotas.addCredits({ accountId, amountMicros, idempotencyKey, reason: 'topup' });
  return { balanceMicros: await deps.accounts.balance(accountId), replayed: outcome.replayed };
}

/** The account's users: every seat taken, with its role. */
export async function listUsers(deps: AccountDeps, accountId: string, page: PageRequest): Promise<Page<User>> {
  await requireAccount(deps, accountId);
  return deps.accounts.listUsers(accountId, page);
}

/** The account's teams. */
export async function listTeams(deps: AccountDeps, accountId: string, page: PageRequest): Promise<Page<Team>> {
  await requireAccount(deps, accountId);
  return deps.accounts.listTeams(accountId, page);
}

export async function listLedger(
  deps: AccountDeps,
  accountId: string,
  filter: { resource: LedgerResource; whatsappPhno?: string },
  page: PageRequest,
): Promise<Page<LedgerEntry>> {
  await requireAccount(deps, accountId);
  return deps.accounts.listLedger(accountId, filter, page);
}

export async function addUser(
  deps: AccountDeps,
  accountId: string,
  input: { email: string; role: User['role'] },
  idempotencyKey: string,
): Promise<User> {
  await requireAccount(deps, accountId);
  const user: User = {
    userId: deps.ids.newId('usr'),
    email: input.email.toLowerCase(),
    role: input.role,
    createdAt: deps.clock.now().toISOString(),
  };
  return (await deps.accounts.addUser(accountId, user, idempotencyKey)).user;
}

export async function removeUser(deps: AccountDeps, accountId: string, userId: string, idempotencyKey: string) {
  await requireAccount(deps, accountId);
  await deps.accounts.removeUser(accountId, userId, idempotencyKey);
}

export async function addTeam(
  deps: AccountDeps,
  accountId: string,
  input: { name: string },
  idempotencyKey: string,
): Promise<Team> {
  await requireAccount(deps, accountId);
  const team: Team = { teamId: deps.ids.newId('team'), name: input.name, createdAt: deps.clock.now().toISOString() };
  return (await deps.accounts.addTeam(accountId, team, idempotencyKey)).team;
}

export async function removeTeam(deps: AccountDeps, accountId: string, teamId: string, idempotencyKey: string) {
  await requireAccount(deps, accountId);
  await deps.accounts.removeTeam(accountId, teamId, idempotencyKey);
}
