import type { AccountDeps } from '../../core/accounts.js';
import type { Route, RouterDeps } from '../router.js';
import { accountRoutes } from './accounts.js';
import { userAndTeamRoutes } from './users-teams.js';

/** What the API's routes need, together. Each capability adds its deps and its route module here. */
export type ApiDeps = AccountDeps & RouterDeps;

export const apiRoutes: Route<ApiDeps>[] = [...accountRoutes, ...userAndTeamRoutes];
