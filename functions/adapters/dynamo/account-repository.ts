/**
 * Accounts, seats and teams on DynamoDB: one repository function per access
 * pattern. Writes that take or free a unit of a shared quota compose the
 * counter part (`transaction-parts.ts`) with their own items in one ledger
 * transaction.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaResource } from '../../../schemas/words.js';
import type { AccountSettingsRepository } from '../../core/accounts.js';
import { Conflict, NotFound } from '../../core/errors.js';
import { type Account, GAUGE_RESOURCES, type LedgerResource, PERIOD_RESOURCES, counterLimit } from '../../core/plan.js';
import type { AccountRepository, AccountUsage, Clock, LedgerEntry, NumberSpend, Page, PageRequest, Team, User } from '../../core/ports.js';
import { account, accountCreation, creditPool, gaugeQuota, numberSpend, periodQuota, team, user, userEmail } from './entities/index.js';
import { DynamoLedger, ledgerEntryOf } from './ledger.js';
import { writeIf } from './conditional-write.js';
import { queryAll, queryPage } from './query.js';
import { REPLAY, transact } from './transact.js';
import { deleteExisting, gaugeAcquire, gaugeRelease, ledgerPut, putNew } from './transaction-parts.js';

export class DynamoAccountRepository implements AccountRepository, AccountSettingsRepository {
  private readonly ledger: DynamoLedger;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {
    this.ledger = new DynamoLedger(doc, tableName);
  }

  async create(created: Account, creditsMicros: number, idempotencyKey: string) {
    const { accountId } = created;
    const gauges = GAUGE_RESOURCES.map((resource) => {
      const limit = counterLimit(created, resource);
      return putNew(this.tableName, gaugeQuota.item({ accountId, resource }, { resource, limit, used: 0, remaining: limit }));
    });
    const entry: LedgerEntry = { idempotencyKey: `create:${idempotencyKey}`, at: created.createdAt, resource: 'credits', amount: creditsMicros, reason: 'initial' };
    const result = await transact(this.doc, [
      { ...putNew(this.tableName, accountCreation.item({ idempotencyKey }, { accountId })), onConditionFailed: () => REPLAY },
      putNew(this.tableName, account.item({ accountId, createdAt: created.createdAt }, created)),
      ...gauges,
      putNew(this.tableName, creditPool.item({ accountId }, { balanceMicros: creditsMicros, addedMicros: creditsMicros, spentMicros: 0 })),
      ledgerPut(this.tableName, accountId, entry),
    ]);
    if (result === 'committed') return { account: created, replayed: false };
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: accountCreation.key({ idempotencyKey }), ConsistentRead: true }));
    const existing = Item && (await this.get(accountCreation.parse(Item).accountId));
    if (!existing) throw new NotFound('The account');
    return { account: existing, replayed: true };
  }

  async get(accountId: string): Promise<Account | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: account.key({ accountId }), ConsistentRead: true }));
    if (!Item) return undefined;
    const { name, plan, addons, billingAnchor, createdAt, status, timeZone } = account.parse(Item);
    return { accountId, name, plan, addons, billingAnchor, createdAt, status, ...(timeZone ? { timeZone } : {}) };
  }

  async usage(of: Account, period: string): Promise<AccountUsage> {
    const { accountId } = of;
    const gauges = GAUGE_RESOURCES.map((resource) => [resource, gaugeQuota.key({ accountId, resource })] as const);
    const periods = PERIOD_RESOURCES.map((resource) => [resource, periodQuota.key({ accountId, resource, period })] as const);
    const pool = creditPool.key({ accountId });
    const { Responses } = await this.doc.send(
      new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...gauges, ...periods].map(([, key]) => key).concat(pool), ConsistentRead: true } } }),
    );
    const bySk = new Map((Responses?.[this.tableName] ?? []).map((item) => [item.sk as string, item]));
    const usage = {} as Record<QuotaResource, number>;
    for (const [resource, key] of [...gauges, ...periods]) {
      const counter = bySk.get(key.sk);
      usage[resource] = counter ? gaugeQuota.parse(counter).used : 0;
    }
    const credits = bySk.get(pool.sk);
    return { usage, balanceMicros: credits ? creditPool.parse(credits).balanceMicros : 0 };
  }

  /** Sets the account's time zone; false when there is no active account. */
  async setTimeZone(accountId: string, timeZone: string): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: account.key({ accountId }),
        UpdateExpression: 'SET #tz = :tz',
        ConditionExpression: 'attribute_exists(pk) AND #status = :active',
        ExpressionAttributeNames: { '#status': 'status', '#tz': 'timeZone' },
        ExpressionAttributeValues: { ':tz': timeZone, ':active': 'active' },
      }),
    );
    return write.applied;
  }

  async balance(accountId: string): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: creditPool.key({ accountId }), ConsistentRead: true }));
    if (!Item) throw new NotFound('The account');
    return creditPool.parse(Item).balanceMicros;
  }

  listLedger(accountId: string, filter: { resource: LedgerResource; whatsappPhno?: string }, page: PageRequest): Promise<Page<LedgerEntry>> {
    return this.ledger.list(accountId, filter, page);
  }

  async addUser(accountId: string, added: User, idempotencyKey: string) {
    const userExists = () => new Conflict('USER_ALREADY_EXISTS', `${added.email} already has a seat on this account.`, { email: added.email });
    const at = this.now();
    const outcome = await this.ledger.commit(accountId, ledgerEntryOf({ idempotencyKey, reason: 'user:add', refId: added.userId }, 'users', -1, at), [
      // Uniqueness first: a duplicate e-mail is the better answer than a full quota.
      putNew(this.tableName, userEmail.item({ accountId, email: added.email }, { userId: added.userId }), userExists),
      putNew(this.tableName, user.item({ accountId, userId: added.userId }, added), userExists),
      gaugeAcquire(this.tableName, { accountId, resource: 'users', amount: 1, idempotencyKey, reason: 'user:add' }, at),
    ]);
    if (!outcome.replayed) return { user: added, replayed: false };
    // Same key again: answer with the user the first request created.
    const first = await this.getUser(accountId, outcome.entry.refId!);
    if (!first) throw new NotFound('The user');
    return { user: first, replayed: true };
  }

  async removeUser(accountId: string, userId: string, idempotencyKey: string) {
    const removed = await this.getUser(accountId, userId);
    if (!removed) throw new NotFound('The user');
    const at = this.now();
    await this.ledger.commit(accountId, ledgerEntryOf({ idempotencyKey, reason: 'user:remove', refId: userId }, 'users', 1, at), [
      deleteExisting(this.tableName, user.key({ accountId, userId }), () => new NotFound('The user')),
      gaugeRelease(this.tableName, { accountId, resource: 'users', amount: 1, idempotencyKey, reason: 'user:remove' }, at),
      { item: { Delete: { TableName: this.tableName, Key: userEmail.key({ accountId, email: removed.email }) } } },
    ]);
  }

  async addTeam(accountId: string, added: Team, idempotencyKey: string) {
    const at = this.now();
    const outcome = await this.ledger.commit(accountId, ledgerEntryOf({ idempotencyKey, reason: 'team:add', refId: added.teamId }, 'teams', -1, at), [
      putNew(this.tableName, team.item({ accountId, teamId: added.teamId }, added), () => new Conflict('TEAM_EXISTS', 'The team exists.')),
      gaugeAcquire(this.tableName, { accountId, resource: 'teams', amount: 1, idempotencyKey, reason: 'team:add' }, at),
    ]);
    if (!outcome.replayed) return { team: added, replayed: false };
    const first = await this.getTeam(accountId, outcome.entry.refId!);
    if (!first) throw new NotFound('The team');
    return { team: first, replayed: true };
  }

  async removeTeam(accountId: string, teamId: string, idempotencyKey: string) {
    const at = this.now();
    await this.ledger.commit(accountId, ledgerEntryOf({ idempotencyKey, reason: 'team:remove', refId: teamId }, 'teams', 1, at), [
      deleteExisting(this.tableName, team.key({ accountId, teamId }), () => new NotFound('The team')),
      gaugeRelease(this.tableName, { accountId, resource: 'teams', amount: 1, idempotencyKey, reason: 'team:remove' }, at),
    ]);
  }

  async getUser(accountId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: user.key({ accountId, userId }) }));
    if (!Item) return undefined;
    const { email, role, createdAt } = user.parse(Item);
    return { userId, email, role, createdAt };
  }

  async getTeam(accountId: string, teamId: string): Promise<Team | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: team.key({ accountId, teamId }) }));
    if (!Item) return undefined;
    const { name, createdAt, whatsapp_phnos } = team.parse(Item);
    return { teamId, name, createdAt, ...(whatsapp_phnos ? { whatsapp_phnos } : {}) };
  }

  listUsers(accountId: string, page: PageRequest): Promise<Page<User>> {
    return queryPage(this.doc, this.tableName, { entity: user, partition: user.partition({ accountId }), skPrefix: user.skPrefix() }, page);
  }

  listTeams(accountId: string, page: PageRequest): Promise<Page<Team>> {
    return queryPage(this.doc, this.tableName, { entity: team, partition: team.partition({ accountId }), skPrefix: team.skPrefix() }, page);
  }

  async spendByNumber(accountId: string, period: string): Promise<NumberSpend[]> {
    const items = await queryAll(this.doc, this.tableName, numberSpend.partition({ accountId }), numberSpend.skPrefix({ period }));
    return items.map((item) => {
      const { whatsapp_phno, spentMicros } = numberSpend.parse(item);
      return { whatsapp_phno, spentMicros };
    });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
