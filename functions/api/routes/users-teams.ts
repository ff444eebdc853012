import { addTeamBody, addUserBody, teamDetailView, teamIdParams, teamMembersBody, teamNumbersBody, teamView, userIdParams, userView } from '../../../schemas/accounts.js';
import { pageOf } from '../../../schemas/api.js';
import { pageQuery } from '../../../schemas/common.js';
import { type AccountDeps, addTeam, addUser, listUsers } from '../../core/accounts.js';
import {
  type TeamDeps,
  type TeamNumberDeps,
  getTeamDetail,
  listTeamViews,
  removeTeamAndMemberships,
  removeUserAndMemberships,
  replaceTeamMembers,
  setTeamNumbers,
  teamViewOf,
} from '../../core/teams.js';
import { defineRoute } from '../router.js';

/** Seats and teams: every role lists them (an agent assigns to them); admins and up manage them; each takes one unit of the shared quota. */
export const userAndTeamRoutes = [
  defineRoute<AccountDeps, never, typeof pageQuery>({
    method: 'GET',
    path: '/v1/users',
    summary: "The account's users (seats), by id, with their roles.",
    role: 'agent',
    scope: 'account',
    query: pageQuery,
    response: { status: 200, schema: pageOf(userView) },
    handle: async ({ accountId, query, deps }) => ({ statusCode: 200, body: await listUsers(deps, accountId, query) }),
  }),
  defineRoute<AccountDeps, never, typeof pageQuery>({
    method: 'GET',
    path: '/v1/teams',
    summary: "The account's teams, by id, each with the numbers it covers (null: every number).",
    role: 'agent',
    scope: 'account',
    query: pageQuery,
    response: { status: 200, schema: pageOf(teamView) },
    handle: async ({ accountId, query, deps }) => ({ statusCode: 200, body: await listTeamViews(deps, accountId, query) }),
  }),
  defineRoute<TeamDeps, never, never, typeof teamIdParams>({
    method: 'GET',
    path: '/v1/teams/{teamId}',
    summary: 'A team with its members (user ids) and the numbers it covers (null: every number).',
    role: 'agent',
    scope: 'account',
    params: teamIdParams,
    response: { status: 200, schema: teamDetailView },
    handle: async ({ accountId, params, deps }) => ({ statusCode: 200, body: await getTeamDetail(deps, accountId, params.teamId) }),
  }),
  defineRoute<TeamDeps, typeof teamMembersBody, never, typeof teamIdParams>({
    method: 'PUT',
    path: '/v1/teams/{teamId}/members',
    summary: "Replace the team's members (at most 100, each a user of the account; a set: repeats count once, a retry converges). An agent sees the conversations of the numbers their teams cover.",
    role: 'admin',
    scope: 'account',
    params: teamIdParams,
    body: teamMembersBody,
    response: { status: 200, schema: teamDetailView },
    handle: async ({ accountId, params, body, deps }) => ({
      statusCode: 200,
      body: await replaceTeamMembers(deps, accountId, params.teamId, body.userIds),
    }),
  }),
  defineRoute<TeamNumberDeps, typeof teamNumbersBody, never, typeof teamIdParams>({
    method: 'PUT',
    path: '/v1/teams/{teamId}/numbers',
    summary: 'Limit the team to some of the account\'s numbers (its members see only their conversations), or with null let it cover every number.',
    role: 'admin',
    scope: 'account',
    params: teamIdParams,
    body: teamNumbersBody,
    response: { status: 200, schema: teamDetailView },
    handle: async ({ accountId, params, body, deps }) => ({
      statusCode: 200,
      body: await setTeamNumbers(deps, accountId, params.teamId, body.whatsapp_phnos),
    }),
  }),
  defineRoute<AccountDeps, typeof addUserBody>({
    method: 'POST',
    path: '/v1/users',
    summary: 'Add a user: takes one seat of the shared users limit.',
    role: 'admin',
    scope: 'account',
    body: addUserBody,
    response: { status: 201, schema: userView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => ({
      statusCode: 201,
      body: await addUser(deps, accountId, body, idempotencyKey),
    }),
  }),
  defineRoute<TeamDeps, never, never, typeof userIdParams>({
    method: 'DELETE',
    path: '/v1/users/{userId}',
    summary: 'Remove a user: frees the seat and drops the user from every team.',
    role: 'admin',
    scope: 'account',
    params: userIdParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps, idempotencyKey }) => {
      await removeUserAndMemberships(deps, accountId, params.userId, idempotencyKey);
      return { statusCode: 204 };
    },
  }),
  defineRoute<AccountDeps, typeof addTeamBody>({
    method: 'POST',
    path: '/v1/teams',
    summary: 'Create a team: takes one unit of the shared teams limit.',
    role: 'admin',
    scope: 'account',
    body: addTeamBody,
    response: { status: 201, schema: teamView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => ({
      statusCode: 201,
      body: teamViewOf(await addTeam(deps, accountId, body, idempotencyKey)),
    }),
  }),
  defineRoute<TeamDeps, never, never, typeof teamIdParams>({
    method: 'DELETE',
    path: '/v1/teams/{teamId}',
    summary: 'Delete a team: frees the unit and drops its memberships.',
    role: 'admin',
    scope: 'account',
    params: teamIdParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps, idempotencyKey }) => {
      await removeTeamAndMemberships(deps, accountId, params.teamId, idempotencyKey);
      return { statusCode: 204 };
    },
  }),
];
