import {
  broadcastAccepted,
  broadcastIdParams,
  broadcastPage,
  broadcastView,
  createBroadcastBody,
  listBroadcastsQuery,
} from '../../../schemas/broadcasts.js';
import { type KeyNumberDeps, numberFilterForCaller, requireNumberForCaller } from '../../core/api-keys.js';
import type { BroadcastApiDeps } from '../../core/broadcast-ports.js';
import { createBroadcast, getBroadcast, listBroadcasts } from '../../core/broadcasts.js';
import { defineRoute } from '../router.js';

/** Broadcasts: sent from one number, measured and listed per number. */
export const broadcastRoutes = [
  defineRoute<BroadcastApiDeps & KeyNumberDeps, typeof createBroadcastBody>({
    method: 'POST',
    path: '/v1/broadcasts',
    summary: 'Broadcast an APPROVED template from one number to up to 100,000 recipients (normalised, de-duplicated).',
    role: 'admin',
    scope: 'account',
    apiKey: true,
    body: createBroadcastBody,
    response: { status: 202, schema: broadcastAccepted },
    handle: async ({ accountId, body, deps, idempotencyKey, principal }) => {
      // An API key broadcasts from the current default number only (403 FEATURE_UNAVAILABLE otherwise).
      await requireNumberForCaller(deps, principal, accountId, body.whatsapp_phno);
      return { statusCode: 202, body: await createBroadcast(deps, accountId, body, idempotencyKey) };
    },
  }),
  defineRoute<BroadcastApiDeps & KeyNumberDeps, never, typeof listBroadcastsQuery>({
    method: 'GET',
    path: '/v1/broadcasts',
    summary: "Broadcasts newest first, optionally one number's, with their counts and credits spent.",
    role: 'agent',
    scope: 'account',
    apiKey: true,
    query: listBroadcastsQuery,
    response: { status: 200, schema: broadcastPage },
    handle: async ({ accountId, query, deps, principal }) => {
      const whatsappPhno = await numberFilterForCaller(deps, principal, accountId, query.whatsapp_phno);
      return { statusCode: 200, body: await listBroadcasts(deps, accountId, { whatsappPhno }, { limit: query.limit, cursor: query.cursor }) };
    },
  }),
  defineRoute<BroadcastApiDeps & KeyNumberDeps, never, never, typeof broadcastIdParams>({
    method: 'GET',
    path: '/v1/broadcasts/{broadcastId}',
    summary: 'One broadcast: status, counts (recipients, sent, delivered, read, failed, replied) and credits spent.',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    params: broadcastIdParams,
    response: { status: 200, schema: broadcastView },
    handle: async ({ accountId, params, deps, principal }) => {
      const broadcast = await getBroadcast(deps, accountId, params.broadcastId);
      await requireNumberForCaller(deps, principal, accountId, broadcast.whatsapp_phno);
      return { statusCode: 200, body: broadcast };
    },
  }),
];
