import { addTeamBody, addUserBody, teamIdParams, teamView, userIdParams, userView } from '../../../schemas/accounts.js';
import { pageOf } from '../../../schemas/api.js';
import { pageQuery } from '../../../schemas/common.js';
import { type AccountDeps, addTeam, addUser, listTeams, listUsers, removeTeam, removeUser } from '../../core/accounts.js';
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
    summary: "The account's teams, by id.",
    role: 'agent',
    scope: 'account',
    query: pageQuery,
    response: { status: 200, schema: pageOf(teamView) },
    handle: async ({ accountId, query, deps }) => ({ statusCode: 200, body: await listTeams(deps, accountId, query) }),
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
  defineRoute<AccountDeps, never, never, typeof userIdParams>({
    method: 'DELETE',
    path: '/v1/users/{userId}',
    summary: 'Remove a user: frees the seat.',
    role: 'admin',
    scope: 'account',
    params: userIdParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps, idempotencyKey }) => {
      await removeUser(deps, accountId, params.userId, idempotencyKey);
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
      body: await addTeam(deps, accountId, body, idempotencyKey),
    }),
  }),
  defineRoute<AccountDeps, never, never, typeof teamIdParams>({
    method: 'DELETE',
    path: '/v1/teams/{teamId}',
    summary: 'Delete a team: frees the unit.',
    role: 'admin',
    scope: 'account',
    params: teamIdParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps, idempotencyKey }) => {
      await removeTeam(deps, accountId, params.teamId, idempotencyKey);
      return { statusCode: 204 };
    },
  }),
];
