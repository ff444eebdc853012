import { accountIdParams } from '../../../schemas/accounts.js';
import { adminNumberParams, mergeBody, mergeView, removeNumberQuery } from '../../../schemas/numbers.js';
import { type MergeDeps, mergeAccounts } from '../../core/merge.js';
import { type NumberDeps, removeNumber } from '../../core/numbers.js';
import { defineRoute } from '../router.js';

/** Operator routes: numbers are removed and accounts merged by support staff, never by the account itself. */
export const adminNumberRoutes = [
  defineRoute<NumberDeps, never, typeof removeNumberQuery, typeof adminNumberParams>({
    method: 'DELETE',
    path: '/v1/admin/accounts/{accountId}/numbers/{phno}',
    summary: 'Remove a number: frees it platform-wide and its add-on slot. Removing the default while others remain needs ?newDefault=.',
    role: 'support',
    scope: 'platform',
    params: adminNumberParams,
    query: removeNumberQuery,
    response: { status: 204 },
    handle: async ({ params, query, deps, idempotencyKey }) => {
      await removeNumber(deps, params.accountId, params.phno, { newDefault: query.newDefault }, idempotencyKey);
      return { statusCode: 204 };
    },
  }),
  defineRoute<MergeDeps, typeof mergeBody, never, typeof accountIdParams>({
    method: 'POST',
    path: '/v1/admin/accounts/{accountId}/merge',
    summary: 'Merge another account into this one: numbers, add-ons, credits, contacts, conversations, templates, automations. Re-runnable.',
    role: 'support',
    scope: 'platform',
    params: accountIdParams,
    body: mergeBody,
    response: { status: 200, schema: mergeView },
    handle: async ({ params, body, deps }) => ({
      statusCode: 200,
      body: await mergeAccounts(deps, params.accountId, body.sourceAccountId),
    }),
  }),
];
