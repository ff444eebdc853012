/**
 * Accounts, seats and teams on DynamoDB: one repository function per access
 * pattern. Writes that take or free a unit of a shared quota compose the
 * quota store's counter part with their own items in one transaction.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../schemas/table.js';
import { Conflict, NotFound } from '../../core/errors.js';
import { type Account, GAUGE_RESOURCES, PERIOD_RESOURCES, type QuotaResource, counterLimit } from '../../core/plan.js';
import type { AccountRepository, AccountUsage, LedgerEntry, NumberSpend, Page, PageRequest, Team, User } from '../../core/ports.js';
import { DynamoQuotaStore, ledgerItem, toLedgerEntry } from './quota-store.js';
import { REPLAY, type TxPart, transact } from './transact.js';
import { queryAll, queryNewestFirst } from './query.js';

export class DynamoAccountRepository implements AccountRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly quotas: DynamoQuotaStore,
  ) {}

  async create(account: Account, creditsMicros: number, idempotencyKey: string) {
    const put = (item: Record<string, unknown>): TxPart => ({
      item: { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
    });
    const creationKey: TxPart = {
      ...put({ ...keys.accountCreation(idempotencyKey), accountId: account.accountId }),
      onConditionFailed: () => REPLAY,
    };
    const gauges = GAUGE_RESOURCES.map((resource) => {
      const limit = counterLimit(account, resource);
      return put({ ...keys.gaugeQuota(account.accountId, resource), resource, limit, used: 0, remaining: limit });
    });
    const entry: LedgerEntry = { idempotencyKey: `create:${idempotencyKey}`, at: account.createdAt, resource: 'credits', amount: creditsMicros, reason: 'initial' };
    const result = await transact(this.doc, [
      creationKey,
      put({ ...keys.account(account.accountId), type: 'account', ...account, gsi1pk: keys.accountsIndex(), gsi1sk: `${account.createdAt}#${account.accountId}` }),
      ...gauges,
      put({ ...keys.credits(account.accountId), balanceMicros: creditsMicros, addedMicros: creditsMicros, spentMicros: 0 }),
      put(ledgerItem(account.accountId, entry, `credits:${creditsMicros}::`)),
    ]);
    if (result === 'committed') return { account, replayed: false };
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.accountCreation(idempotencyKey), ConsistentRead: true }));
    const existing = Item && (await this.get(Item.accountId as string));
    if (!existing) throw new NotFound('The account');
    return { account: existing, replayed: true };
  }

  async get(accountId: string): Promise<Account | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.account(accountId), ConsistentRead: true }));
    if (!Item) return undefined;
    const { name, plan, addons, billingAnchor, createdAt, status } = Item as Account;
    return { accountId, name, plan, addons, billingAnchor, createdAt, status };
  }

  async usage(account: Account, period: string): Promise<AccountUsage> {
    const wanted = [
      ...GAUGE_RESOURCES.map((r) => keys.gaugeQuota(account.accountId, r)),
      ...PERIOD_RESOURCES.map((r) => keys.periodQuota(account.accountId, r, period)),
      keys.credits(account.accountId),
    ];
    const { Responses } = await this.doc.send(
      new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: wanted, ConsistentRead: true } } }),
    );
    const items = Responses?.[this.tableName] ?? [];
    const bySk = new Map(items.map((item) => [item.sk as string, item]));
    const usage = {} as Record<QuotaResource, number>;
    for (const r of GAUGE_RESOURCES) usage[r] = (bySk.get(keys.gaugeQuota(account.accountId, r).sk)?.used as number) ?? 0;
    for (const r of PERIOD_RESOURCES) usage[r] = (bySk.get(keys.periodQuota(account.accountId, r, period).sk)?.used as number) ?? 0;
    return { usage, balanceMicros: (bySk.get('CREDITS')?.balanceMicros as number) ?? 0 };
  }

  async balance(accountId: string): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.credits(accountId), ConsistentRead: true }));
    if (!Item) throw new NotFound('The account');
    return Item.balanceMicros as number;
  }

  async listLedger(accountId: string, filter: { resource: LedgerEntry['resource']; whatsappPhno?: string }, page: PageRequest): Promise<Page<LedgerEntry>> {
    const index = filter.whatsappPhno
      ? { name: 'gsi2' as const, pk: keys.ledgerByResourceAndNumber(accountId, filter.resource, filter.whatsappPhno) }
      : { name: 'gsi1' as const, pk: keys.ledgerByResource(accountId, filter.resource) };
    const { items, nextCursor } = await queryNewestFirst(this.doc, this.tableName, index, page);
    return { items: items.map(toLedgerEntry), nextCursor };
  }

  async addUser(accountId: string, user: User, idempotencyKey: string) {
    const userExists = new Conflict('USER_ALREADY_EXISTS', `${user.email} already has a seat on this account.`, { email: user.email });
    const outcome = await this.quotas.apply(
      this.quotas.entry({ idempotencyKey, reason: 'user:add', refId: user.userId }, 'users', -1),
      [
        // Uniqueness first: a duplicate e-mail is the better answer than a full quota.
        this.putNew({ ...keys.userEmail(accountId, user.email), userId: user.userId }, () => userExists),
        this.putNew({ ...keys.user(accountId, user.userId), type: 'user', ...user }, () => userExists),
        this.quotas.gaugeAcquire({ accountId, resource: 'users', amount: 1, idempotencyKey, reason: 'user:add' }),
      ],
    );
    if (!outcome.replayed) return { user, replayed: false };
    // Same key again: answer with the user the first request created.
    const first = await this.getUser(accountId, outcome.entry.refId!);
    if (!first) throw new NotFound('The user');
    return { user: first, replayed: true };
  }

  async removeUser(accountId: string, userId: string, idempotencyKey: string) {
    const user = await this.getUser(accountId, userId);
    if (!user) throw new NotFound('The user');
    await this.quotas.apply(this.quotas.entry({ idempotencyKey, reason: 'user:remove', refId: userId }, 'users', 1), [
      this.deleteExisting(keys.user(accountId, userId), () => new NotFound('The user')),
      this.quotas.gaugeRelease({ accountId, resource: 'users', amount: 1, idempotencyKey, reason: 'user:remove' }),
      { item: { Delete: { TableName: this.tableName, Key: keys.userEmail(accountId, user.email) } } },
    ]);
  }

  async addTeam(accountId: string, team: Team, idempotencyKey: string) {
    const outcome = await this.quotas.apply(
      this.quotas.entry({ idempotencyKey, reason: 'team:add', refId: team.teamId }, 'teams', -1),
      [
        this.putNew({ ...keys.team(accountId, team.teamId), type: 'team', ...team }, () => new Conflict('TEAM_EXISTS', 'The team exists.')),
        this.quotas.gaugeAcquire({ accountId, resource: 'teams', amount: 1, idempotencyKey, reason: 'team:add' }),
      ],
    );
    if (!outcome.replayed) return { team, replayed: false };
    const first = await this.getTeam(accountId, outcome.entry.refId!);
    if (!first) throw new NotFound('The team');
    return { team: first, replayed: true };
  }

  async removeTeam(accountId: string, teamId: string, idempotencyKey: string) {
    await this.quotas.apply(this.quotas.entry({ idempotencyKey, reason: 'team:remove', refId: teamId }, 'teams', 1), [
      this.deleteExisting(keys.team(accountId, teamId), () => new NotFound('The team')),
      this.quotas.gaugeRelease({ accountId, resource: 'teams', amount: 1, idempotencyKey, reason: 'team:remove' }),
    ]);
  }

  async getUser(accountId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.user(accountId, userId) }));
    if (!Item) return undefined;
    const { email, role, createdAt } = Item as User;
    return { userId, email, role, createdAt };
  }

  async getTeam(accountId: string, teamId: string): Promise<Team | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.team(accountId, teamId) }));
    if (!Item) return undefined;
    const { name, createdAt } = Item as Team;
    return { teamId, name, createdAt };
  }

  async spendByNumber(accountId: string, period: string): Promise<NumberSpend[]> {
    const items = await queryAll(this.doc, this.tableName, keys.account(accountId).pk, keys.numberSpendPrefix(period));
    return items.map((item) => ({ whatsapp_phno: item.whatsapp_phno as string, spentMicros: item.spentMicros as number }));
  }

  private putNew(item: Record<string, unknown>, onExists: () => Error): TxPart {
    return {
      item: { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      onConditionFailed: onExists,
    };
  }

  private deleteExisting(key: { pk: string; sk: string }, onMissing: () => Error): TxPart {
    return {
      item: { Delete: { TableName: this.tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
      onConditionFailed: onMissing,
    };
  }
}
