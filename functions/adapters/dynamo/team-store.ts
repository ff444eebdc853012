/**
 * Team membership and number coverage on DynamoDB (docs/data-model.md,
 * "Accounts, seats and teams"): each membership is two items in the account's
 * partition, `TEAMMEMBER#{teamId}#{userId}` and `USERTEAM#{userId}#{teamId}`,
 * always written and deleted together, so the members of a team and the teams
 * of a user are each one Query. A team's number limit is the `whatsapp_phnos`
 * attribute of its `TEAM#{teamId}` item.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFound } from '../../core/errors.js';
import type { TeamCoverage, TeamStore } from '../../core/teams.js';
import { writeIf } from './conditional-write.js';
import { team, teamMember, user, userTeam } from './entities/index.js';
import { batchGetAll, queryAll } from './query.js';
import { type TxPart, backoff, transact } from './transact.js';

/** DynamoDB's 100 items a transaction, less the team's condition check each one carries. */
const ITEMS_PER_TRANSACTION = 99;

type WriteRequests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string];

export class DynamoTeamStore implements TeamStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async members(accountId: string, teamId: string): Promise<string[]> {
    const items = await queryAll(this.doc, this.tableName, teamMember.partition({ accountId }), teamMember.skPrefix({ teamId }));
    return items.map((item) => teamMember.parse(item).userId).sort();
  }

  async teamsOfUser(accountId: string, userId: string): Promise<TeamCoverage[]> {
    const memberships = await queryAll(this.doc, this.tableName, userTeam.partition({ accountId }), userTeam.skPrefix({ userId }));
    if (memberships.length === 0) return [];
    const keys = memberships.map((item) => team.key({ accountId, teamId: userTeam.parse(item).teamId }));
    // Read with the team items: a team deleted meanwhile (its reverse items not yet cleaned up) covers nothing.
    const teams = await batchGetAll(this.doc, this.tableName, keys);
    return teams
      .map((item) => team.parse(item))
      .map(({ teamId, whatsapp_phnos }) => ({ teamId, ...(whatsapp_phnos ? { whatsapp_phnos } : {}) }))
      .sort((a, b) => a.teamId.localeCompare(b.teamId));
  }

  async existingUsers(accountId: string, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const items = await batchGetAll(this.doc, this.tableName, [...new Set(userIds)].map((userId) => user.key({ accountId, userId })));
    return new Set(items.map((item) => user.parse(item).userId));
  }

  async replaceMembers(accountId: string, teamId: string, userIds: readonly string[], at: string): Promise<void> {
    const current = new Set(await this.members(accountId, teamId));
    const wanted = new Set(userIds);
    const groups: TxPart[][] = [];
    for (const userId of wanted) {
      if (current.has(userId)) continue;
      groups.push([
        // The user still has a seat: a user removed since the request was checked is not added back.
        {
          item: { ConditionCheck: { TableName: this.tableName, Key: user.key({ accountId, userId }), ConditionExpression: 'attribute_exists(pk)' } },
          onConditionFailed: () => new NotFound(`The user ${userId}`),
        },
        { item: { Put: { TableName: this.tableName, Item: teamMember.item({ accountId, teamId, userId }, { teamId, userId, addedAt: at }) } } },
        { item: { Put: { TableName: this.tableName, Item: userTeam.item({ accountId, userId, teamId }, { teamId, userId, addedAt: at }) } } },
      ]);
    }
    for (const userId of current) {
      if (wanted.has(userId)) continue;
      groups.push(this.membershipDeletes(accountId, teamId, userId));
    }
    // A set, so every transaction is safe to repeat: a PUT cut short by a failure converges when retried.
    for (const chunk of chunks(groups)) {
      await transact(this.doc, [this.teamExists(accountId, teamId), ...chunk]);
    }
  }

  async setNumbers(accountId: string, teamId: string, whatsappPhnos: readonly string[] | null): Promise<boolean> {
    const write = await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: team.key({ accountId, teamId }),
        UpdateExpression: whatsappPhnos === null ? 'REMOVE #phnos' : 'SET #phnos = :phnos',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#phnos': 'whatsapp_phnos' },
        ...(whatsappPhnos === null ? {} : { ExpressionAttributeValues: { ':phnos': [...whatsappPhnos] } }),
      }),
    );
    return write.applied;
  }

  async dropUser(accountId: string, userId: string): Promise<void> {
    const items = await queryAll(this.doc, this.tableName, userTeam.partition({ accountId }), userTeam.skPrefix({ userId }));
    await this.deleteAll(items.map((item) => this.membershipKeys(accountId, userTeam.parse(item).teamId, userId)).flat());
  }

  async dropTeam(accountId: string, teamId: string): Promise<void> {
    const items = await queryAll(this.doc, this.tableName, teamMember.partition({ accountId }), teamMember.skPrefix({ teamId }));
    await this.deleteAll(items.map((item) => this.membershipKeys(accountId, teamId, teamMember.parse(item).userId)).flat());
  }

  private teamExists(accountId: string, teamId: string): TxPart {
    return {
      item: { ConditionCheck: { TableName: this.tableName, Key: team.key({ accountId, teamId }), ConditionExpression: 'attribute_exists(pk)' } },
      onConditionFailed: () => new NotFound('The team'),
    };
  }

  private membershipKeys(accountId: string, teamId: string, userId: string) {
    return [teamMember.key({ accountId, teamId, userId }), userTeam.key({ accountId, userId, teamId })];
  }

  private membershipDeletes(accountId: string, teamId: string, userId: string): TxPart[] {
    return this.membershipKeys(accountId, teamId, userId).map((Key) => ({ item: { Delete: { TableName: this.tableName, Key } } }));
  }

  /** Deletes the items, 25 a request, unprocessed ones retried with a backoff (a delete of a missing item is a no-op). */
  private async deleteAll(keys: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let pending: WriteRequests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const answer = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = answer.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length) await backoff(attempt, 20, 1000);
      }
    }
  }
}

/** Groups packed into transactions of at most `ITEMS_PER_TRANSACTION` items, a group never split. */
function chunks(groups: TxPart[][]): TxPart[][] {
  const out: TxPart[][] = [];
  let current: TxPart[] = [];
  for (const group of groups) {
    if (current.length + group.length > ITEMS_PER_TRANSACTION) {
      out.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) out.push(current);
  return out;
}
