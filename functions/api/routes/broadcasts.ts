import {
  broadcastAccepted,
  broadcastIdParams,
  broadcastPage,
  broadcastView,
  createBroadcastBody,
  listBroadcastsQuery,
} from '../../../schemas/broadcasts.js';
import type { BroadcastApiDeps } from '../../core/broadcast-ports.js';
import { createBroadcast, getBroadcast, listBroadcasts } from '../../core/broadcasts.js';
import { defineRoute } from '../router.js';

/** Broadcasts: sent from one number, measured and listed per number. */
export const broadcastRoutes = [
  defineRoute<BroadcastApiDeps, typeof createBroadcastBody>({
    method: 'POST',
    path: '/v1/broadcasts',
    summary: 'Broadcast an APPROVED template from one number to up to 100,000 recipients (normalised, de-duplicated).',
    role: 'admin',
    scope: 'account',
    body: createBroadcastBody,
    response: { status: 202, schema: broadcastAccepted },
    handle: async ({ accountId, body, deps, idempotencyKey }) => ({
      statusCode: 202,
      body: await createBroadcast(deps, accountId, body, idempotencyKey),
    }),
  }),
  defineRoute<BroadcastApiDeps, never, typeof listBroadcastsQuery>({
    method: 'GET',
    path: '/v1/broadcasts',
    summary: "Broadcasts newest first, optionally one number's, with their counts and credits spent.",
    role: 'agent',
    scope: 'account',
    query: listBroadcastsQuery,
    response: { status: 200, schema: broadcastPage },
    handle: async ({ accountId, query, deps }) => ({
      statusCode: 200,
      body: await listBroadcasts(deps, accountId, { whatsappPhno: query.whatsapp_phno }, { limit: query.limit, cursor: query.cursor }),
    }),
  }),
  defineRoute<BroadcastApiDeps, never, never, typeof broadcastIdParams>({
    method: 'GET',
    path: '/v1/broadcasts/{broadcastId}',
    summary: 'One broadcast: status, counts (recipients, sent, delivered, read, failed, replied) and credits spent.',
    role: 'agent',
    scope: 'account',
    params: broadcastIdParams,
    response: { status: 200, schema: broadcastView },
    handle: async ({ accountId, params, deps }) => ({ statusCode: 200, body: await getBroadcast(deps, accountId, params.broadcastId) }),
  }),
];
