/**
 * Team membership and number coverage (per-number access, docs/architecture.md
 * "Auth model"): who is in a team, and which of the account's numbers the team
 * covers. An agent sees the numbers their teams cover (`number-access.ts`).
 *
 * - Membership is a set: `PUT /v1/teams/{teamId}/members` makes it exactly the
 *   users named (repeats count once), so a retried PUT converges. Each member
 *   is two items, `TEAMMEMBER#{teamId}#{userId}` and its reverse
 *   `USERTEAM#{userId}#{teamId}`, written together.
 * - A team covers every number until `PUT /v1/teams/{teamId}/numbers` limits
 *   it (`whatsapp_phnos: null` lifts the limit again).
 * - Removing a user or a team also drops their memberships: before the removal
 *   (a failed removal can be retried and still finds the user or team to clean
 *   up) and once more after it (a membership written in between is caught).
 *   Readers tolerate a leftover: a user's teams are read with the team items,
 *   so a team that is gone covers nothing, and access starts from the seat, so
 *   a removed user sees nothing whatever is left.
 */
import { TEAM_MEMBER_LIMIT } from '../../schemas/accounts.js';
import { type AccountDeps, listTeams, removeTeam, removeUser, requireAccount } from './accounts.js';
import { NotFound, ValidationFailed } from './errors.js';
import type { NumberRepository } from './numbers.js';
import type { Page, PageRequest, Team } from './ports.js';

// --- model ---------------------------------------------------------------------

/** A team a user belongs to and the numbers it covers (`undefined`: every number). */
export interface TeamCoverage {
  teamId: string;
  whatsapp_phnos?: readonly string[];
}

export interface TeamView {
  teamId: string;
  name: string;
  createdAt: string;
  whatsapp_phnos: string[] | null;
}

export interface TeamDetail extends TeamView {
  members: string[];
}

// --- ports ---------------------------------------------------------------------

export interface TeamStore {
  /** The team's members' user ids, sorted. */
  members(accountId: string, teamId: string): Promise<string[]>;
  /** The teams the user is in, with what each covers; a team deleted meanwhile is left out. */
  teamsOfUser(accountId: string, userId: string): Promise<TeamCoverage[]>;
  /** Which of these users have a seat on the account (strongly consistent). */
  existingUsers(accountId: string, userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Makes the team's members exactly `userIds`: adds and removes the
   * difference, in as few transactions as the item limit allows, each
   * checking that the team and every added user still exist (`NotFound`).
   */
  replaceMembers(accountId: string, teamId: string, userIds: readonly string[], at: string): Promise<void>;
  /** Sets (or with `null` lifts) the team's number limit; false when there is no such team. */
  setNumbers(accountId: string, teamId: string, whatsappPhnos: readonly string[] | null): Promise<boolean>;
  /** Deletes every membership of the user (both items of each). */
  dropUser(accountId: string, userId: string): Promise<void>;
  /** Deletes every membership of the team (both items of each). */
  dropTeam(accountId: string, teamId: string): Promise<void>;
}

export interface TeamDeps extends AccountDeps {
  teams: TeamStore;
}

export interface TeamNumberDeps extends TeamDeps {
  numbers: Pick<NumberRepository, 'list'>;
}

// --- views ---------------------------------------------------------------------

export function teamViewOf(team: Team): TeamView {
  return {
    teamId: team.teamId,
    name: team.name,
    createdAt: team.createdAt,
    whatsapp_phnos: team.whatsapp_phnos ? [...team.whatsapp_phnos] : null,
  };
}

// --- use cases ---------------------------------------------------------------------

/** `GET /v1/teams`: the teams, each with the numbers it covers. */
export async function listTeamViews(deps: AccountDeps, accountId: string, page: PageRequest): Promise<Page<TeamView>> {
  const teams = await listTeams(deps, accountId, page);
  return { items: teams.items.map(teamViewOf), nextCursor: teams.nextCursor };
}

/** `GET /v1/teams/{teamId}`: the team with its members. */
export async function getTeamDetail(deps: TeamDeps, accountId: string, teamId: string): Promise<TeamDetail> {
  await requireAccount(deps, accountId);
  const team = await deps.accounts.getTeam(accountId, teamId);
  if (!team) throw new NotFound('The team');
  return { ...teamViewOf(team), members: await deps.teams.members(accountId, teamId) };
}

/**
 * Replaces the team's members: every id must be a user of the account (400
 * naming `body.userIds[i]`); repeats count once. The answer is the team as it
 * is now.
 */
export async function replaceTeamMembers(deps: TeamDeps, accountId: string, teamId: string, userIds: readonly string[]): Promise<TeamDetail> {
  await requireAccount(deps, accountId);
  const team = await deps.accounts.getTeam(accountId, teamId);
  if (!team) throw new NotFound('The team');
  const wanted = [...new Set(userIds)];
  if (wanted.length > TEAM_MEMBER_LIMIT) {
    throw new ValidationFailed([{ path: ['body', 'userIds'], message: `A team holds at most ${TEAM_MEMBER_LIMIT} members.`, code: 'too_big' }]);
  }
  const existing = await deps.teams.existingUsers(accountId, wanted);
  const unknown = userIds.flatMap((userId, index) => (existing.has(userId) ? [] : [{ userId, index }]));
  if (unknown.length > 0) {
    throw new ValidationFailed(
      unknown.map(({ userId, index }) => ({ path: ['body', 'userIds', index], message: `No user ${userId} on this account.`, code: 'not_found' })),
    );
  }
  await deps.teams.replaceMembers(accountId, teamId, wanted, deps.clock.now().toISOString());
  return getTeamDetail(deps, accountId, teamId);
}

/**
 * Limits the team to some of the account's numbers (each must be one: 400
 * naming `body.whatsapp_phnos[i]`), or with `null` lets it cover every number.
 */
export async function setTeamNumbers(
  deps: TeamNumberDeps,
  accountId: string,
  teamId: string,
  whatsappPhnos: readonly string[] | null,
): Promise<TeamDetail> {
  await requireAccount(deps, accountId);
  if (!(await deps.accounts.getTeam(accountId, teamId))) throw new NotFound('The team');
  let numbers: string[] | null = null;
  if (whatsappPhnos !== null) {
    const connected = new Set((await deps.numbers.list(accountId)).map((n) => n.whatsapp_phno));
    const unknown = whatsappPhnos.flatMap((phno, index) => (connected.has(phno) ? [] : [{ phno, index }]));
    if (unknown.length > 0) {
      throw new ValidationFailed(
        unknown.map(({ phno, index }) => ({ path: ['body', 'whatsapp_phnos', index], message: `${phno} is not a number of this account.`, code: 'not_found' })),
      );
    }
    numbers = [...new Set(whatsappPhnos)].sort();
  }
  if (!(await deps.teams.setNumbers(accountId, teamId, numbers))) throw new NotFound('The team');
  return getTeamDetail(deps, accountId, teamId);
}

/** `DELETE /v1/users/{userId}`: frees the seat and drops the user's memberships. */
export async function removeUserAndMemberships(deps: TeamDeps, accountId: string, userId: string, idempotencyKey: string): Promise<void> {
  await requireAccount(deps, accountId);
  if (!(await deps.accounts.getUser(accountId, userId))) throw new NotFound('The user');
  await deps.teams.dropUser(accountId, userId);
  await removeUser(deps, accountId, userId, idempotencyKey);
  await deps.teams.dropUser(accountId, userId);
}

/** `DELETE /v1/teams/{teamId}`: frees the unit and drops the team's memberships. */
export async function removeTeamAndMemberships(deps: TeamDeps, accountId: string, teamId: string, idempotencyKey: string): Promise<void> {
  await requireAccount(deps, accountId);
  if (!(await deps.accounts.getTeam(accountId, teamId))) throw new NotFound('The team');
  await deps.teams.dropTeam(accountId, teamId);
  await removeTeam(deps, accountId, teamId, idempotencyKey);
  await deps.teams.dropTeam(accountId, teamId);
}
