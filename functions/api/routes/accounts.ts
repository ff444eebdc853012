import {
  accountIdParams,
  accountView,
  addonBody,
  balanceView,
  createAccountBody,
  ledgerEntryView,
  ledgerQuery,
  patchAccountBody,
  topupBody,
} from '../../../schemas/accounts.js';
import { pageOf } from '../../../schemas/api.js';
import { accountWithLimitView } from '../../../schemas/messaging-limit.js';
import {
  type AccountDeps,
  type AccountSettingsRepository,
  createAccount,
  getAccountView,
  listLedger,
  purchaseAddon,
  setAccountTimeZone,
  topUpCredits,
} from '../../core/accounts.js';
import { type MessagingLimitViewDeps, messagingLimitOf } from '../../core/messaging-limit-views.js';
import { defineRoute } from '../router.js';

export const accountRoutes = [
  defineRoute<AccountDeps, typeof createAccountBody>({
    method: 'POST',
    path: '/v1/admin/accounts',
    summary: 'Create an account with its plan limits and credit pool (operators).',
    role: 'support',
    scope: 'platform',
    body: createAccountBody,
    response: { status: 201, schema: accountView },
    handle: async ({ body, deps, idempotencyKey }) => ({
      statusCode: 201,
      body: await createAccount(deps, body, idempotencyKey),
    }),
  }),
  defineRoute<AccountDeps & MessagingLimitViewDeps, never, never, typeof accountIdParams>({
    method: 'GET',
    path: '/v1/admin/accounts/{accountId}',
    summary: 'Read any account (operators), with its portfolio messaging limit.',
    role: 'support',
    scope: 'platform',
    params: accountIdParams,
    response: { status: 200, schema: accountWithLimitView },
    handle: async ({ params, deps }) => ({ statusCode: 200, body: await accountWithLimit(deps, params.accountId) }),
  }),
  defineRoute<AccountDeps & MessagingLimitViewDeps>({
    method: 'GET',
    path: '/v1/account',
    summary: "The account: limits shared by all its numbers, usage, credit balance, and the portfolio's messaging limit with each number's part.",
    role: 'admin',
    scope: 'account',
    response: { status: 200, schema: accountWithLimitView },
    handle: async ({ accountId, deps }) => ({ statusCode: 200, body: await accountWithLimit(deps, accountId) }),
  }),
  defineRoute<AccountDeps & { accounts: AccountSettingsRepository }, typeof patchAccountBody>({
    method: 'PATCH',
    path: '/v1/account',
    summary: "Change the account's settings: its IANA time zone (default UTC), in which sequence steps' sendBetween hours are judged.",
    role: 'admin',
    scope: 'account',
    body: patchAccountBody,
    response: { status: 200, schema: accountView },
    handle: async ({ accountId, body, deps }) => ({ statusCode: 200, body: await setAccountTimeZone(deps, accountId, body.timeZone) }),
  }),
  defineRoute<AccountDeps, typeof addonBody>({
    method: 'POST',
    path: '/v1/addons',
    summary: 'Buy add-ons: raises a shared limit for every number at once.',
    role: 'owner',
    scope: 'account',
    body: addonBody,
    response: { status: 200, schema: accountView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => ({
      statusCode: 200,
      body: await purchaseAddon(deps, accountId, body, idempotencyKey),
    }),
  }),
  defineRoute<AccountDeps, typeof topupBody>({
    method: 'POST',
    path: '/v1/credits/topups',
    summary: 'Add money to the shared credit pool.',
    role: 'owner',
    scope: 'account',
    body: topupBody,
    response: { status: 200, schema: balanceView },
    handle: async ({ accountId, body, deps, idempotencyKey }) => {
      const { balanceMicros } = await topUpCredits(deps, accountId, body.amountMicros, idempotencyKey);
      return { statusCode: 200, body: { balanceMicros } };
    },
  }),
  defineRoute<AccountDeps, never, typeof ledgerQuery>({
    method: 'GET',
    path: '/v1/credits/ledger',
    summary: 'Ledger of one resource (credits by default), newest first, optionally for one number.',
    role: 'admin',
    scope: 'account',
    query: ledgerQuery,
    response: { status: 200, schema: pageOf(ledgerEntryView) },
    handle: async ({ accountId, query, deps }) => ({
      statusCode: 200,
      body: await listLedger(
        deps,
        accountId,
        { resource: query.resource, whatsappPhno: query.whatsapp_phno },
        { limit: query.limit, cursor: query.cursor },
      ),
    }),
  }),
];

async function accountWithLimit(deps: AccountDeps & MessagingLimitViewDeps, accountId: string) {
  const account = await getAccountView(deps, accountId);
  return { ...account, messagingLimit: await messagingLimitOf(deps, accountId) };
}
