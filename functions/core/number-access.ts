/**
 * Which numbers' conversations a caller may see and answer (per-number
 * access). Owners, admins, support staff and API keys (the key rule of
 * `api-keys.ts` still applies on top) see every number; an agent sees the
 * numbers their teams cover (`teams.ts`): the union over the agent's teams,
 * a team without a number limit covering every number. An agent token must
 * name a seat of the account (claim `custom:userId`, `Principal.userId`),
 * else 403; an agent in no team sees nothing.
 *
 * HOW TO USE IT (every inbox route, the WebSocket connect, anything that
 * shows or acts on a conversation):
 * - a route acting on ONE conversation/number calls
 *   `await requireCallerNumber(deps, principal, accountId, whatsappPhno)` first:
 *   an API key on another number than the default answers 403
 *   `FEATURE_UNAVAILABLE`, an agent who does not cover the number 404 (the
 *   conversation is simply not found for them);
 * - a LIST calls `const scope = await callerNumberScope(deps, principal, accountId, query.whatsapp_phno)`
 *   and spreads it into the repository's filter (`{whatsappPhno}` or
 *   `{whatsappPhnos}`; an empty `whatsappPhnos` means an empty page);
 * - a long-lived reader (a WebSocket connection) resolves
 *   `numberAccessOf(deps, caller, accountId)` once and asks `canSee` per event.
 * `deps` needs `accounts.getUser`, `teams.teamsOfUser` and, for the key rule,
 * `numbers.defaultOf` (the API's deps have all three).
 *
 * CONTRACT:
 * - `numberAccessOf` resolves a caller once per request (or per WebSocket connection);
 * - `canSee` answers for one number;
 * - `requireNumberAccess` throws `NotFound(what)` when the caller may not see the number
 *   (another number's conversation is simply not found for that agent);
 * - `scopeOf` turns access plus an optional requested number into a list filter.
 */
import type { Role } from '../../schemas/common.js';
import { type KeyNumberDeps, numberFilterForCaller, requireNumberForCaller } from './api-keys.js';
import { Conflict, Forbidden, NotFound } from './errors.js';
import type { AccountRepository, User } from './ports.js';
import type { TeamStore } from './teams.js';

export interface AccessCaller {
  role: Role;
  via: 'jwt' | 'apiKey';
  /** The seat the token names (claim `custom:userId`). */
  userId?: string;
}

export type NumberAccess = { all: true } | { all: false; numbers: readonly string[] };

/** A list's number filter: one number, or a set of them (an agent's), or none (every number). */
export interface NumberScope {
  whatsappPhno?: string;
  /** Only these numbers; empty means nothing at all is visible. */
  whatsappPhnos?: readonly string[];
}

/** What resolving a caller's access reads: the seat and the seat's teams. */
export interface NumberAccessDeps {
  accounts: Pick<AccountRepository, 'getUser'>;
  teams: Pick<TeamStore, 'teamsOfUser'>;
}

/** What the route helpers read: access, and the account's default number for the API-key rule. */
export type CallerNumberDeps = NumberAccessDeps & KeyNumberDeps;

export const AGENT_WITHOUT_SEAT = 'This agent token names no user of the account: set the custom:userId claim.';

export async function numberAccessOf(deps: NumberAccessDeps, caller: AccessCaller, accountId: string): Promise<NumberAccess> {
  if (caller.via === 'apiKey' || caller.role !== 'agent') return { all: true };
  const seat = caller.userId ? await deps.accounts.getUser(accountId, caller.userId) : undefined;
  if (!seat) throw new Forbidden(AGENT_WITHOUT_SEAT);
  return teamAccessOf(deps, accountId, seat.userId);
}

/** What a seat sees by its own role (an assignee's, not a caller's): owners and admins every number, agents their teams'. */
export async function seatAccessOf(deps: NumberAccessDeps, accountId: string, seat: User): Promise<NumberAccess> {
  return seat.role === 'agent' ? teamAccessOf(deps, accountId, seat.userId) : { all: true };
}

/** The union rule: every number when one of the teams has no limit, else the numbers the teams name. */
export function unionOfTeams(teams: readonly { whatsapp_phnos?: readonly string[] }[]): NumberAccess {
  if (teams.some((t) => t.whatsapp_phnos === undefined)) return { all: true };
  return { all: false, numbers: [...new Set(teams.flatMap((t) => t.whatsapp_phnos ?? []))].sort() };
}

async function teamAccessOf(deps: NumberAccessDeps, accountId: string, userId: string): Promise<NumberAccess> {
  return unionOfTeams(await deps.teams.teamsOfUser(accountId, userId));
}

export function canSee(access: NumberAccess, whatsappPhno: string): boolean {
  return access.all || access.numbers.includes(whatsappPhno);
}

export function requireNumberAccess(access: NumberAccess, whatsappPhno: string, what = 'The conversation'): void {
  if (!canSee(access, whatsappPhno)) throw new NotFound(what);
}

export function scopeOf(access: NumberAccess, requested?: string): NumberScope {
  if (requested !== undefined) return access.all || access.numbers.includes(requested) ? { whatsappPhno: requested } : { whatsappPhnos: [] };
  return access.all ? {} : { whatsappPhnos: access.numbers };
}

/**
 * A list's number filter for the caller: an API key's is its default number
 * (another requested: 403 `FEATURE_UNAVAILABLE`), an agent's the numbers
 * their teams cover (narrowed to `requested`; not covered: nothing), anyone
 * else's the one requested or every number.
 */
export async function callerNumberScope(deps: CallerNumberDeps, caller: AccessCaller, accountId: string, requested?: string): Promise<NumberScope> {
  if (caller.via === 'apiKey') {
    const whatsappPhno = await numberFilterForCaller(deps, caller, accountId, requested);
    return whatsappPhno === undefined ? {} : { whatsappPhno };
  }
  return scopeOf(await numberAccessOf(deps, caller, accountId), requested);
}

/**
 * The caller may act on this number's conversation: an API key only on the
 * default number (403 `FEATURE_UNAVAILABLE`), an agent only on a number their
 * teams cover (404 `what`: not found for them). Answers the caller's access.
 */
export async function requireCallerNumber(
  deps: CallerNumberDeps,
  caller: AccessCaller,
  accountId: string,
  whatsappPhno: string,
  what = 'The conversation',
): Promise<NumberAccess> {
  await requireNumberForCaller(deps, caller, accountId, whatsappPhno);
  const access = await numberAccessOf(deps, caller, accountId);
  requireNumberAccess(access, whatsappPhno, what);
  return access;
}

/**
 * An assignee must be able to see the conversation: a user who is an agent
 * whose teams do not cover the number, or a team limited to other numbers,
 * answers 409 `ASSIGNEE_CANNOT_SEE_NUMBER` naming the field. Unknown users
 * and teams are left to the assignment (404).
 */
export async function requireAssigneeCanSee(
  deps: NumberAccessDeps & { accounts: Pick<AccountRepository, 'getUser' | 'getTeam'> },
  accountId: string,
  whatsappPhno: string,
  assignee: { teamId?: string | null; userId?: string | null },
): Promise<void> {
  const [team, seat] = await Promise.all([
    assignee.teamId ? deps.accounts.getTeam(accountId, assignee.teamId) : undefined,
    assignee.userId ? deps.accounts.getUser(accountId, assignee.userId) : undefined,
  ]);
  if (team?.whatsapp_phnos && !team.whatsapp_phnos.includes(whatsappPhno)) {
    throw new Conflict('ASSIGNEE_CANNOT_SEE_NUMBER', `body.teamId: the team ${team.teamId} does not cover ${whatsappPhno}.`, {
      field: 'body.teamId',
      teamId: team.teamId,
      whatsapp_phno: whatsappPhno,
    });
  }
  if (seat && !canSee(await seatAccessOf(deps, accountId, seat), whatsappPhno)) {
    throw new Conflict('ASSIGNEE_CANNOT_SEE_NUMBER', `body.userId: the user ${seat.userId} is in no team covering ${whatsappPhno}.`, {
      field: 'body.userId',
      userId: seat.userId,
      whatsapp_phno: whatsappPhno,
    });
  }
}
