/**
 * Live updates (docs/data-model.md, "Live connections"): one item per open
 * dashboard WebSocket connection of API Gateway, in a partition of its own per
 * account (`LIVE#{accountId}`), so a push reads the account's connections
 * with one Query and the account's own partition stays untouched by
 * connection churn. The scope the connection was opened with (the numbers it
 * may see) is stored on it; `expiresAt` (TTL) is a little over API Gateway's
 * two-hour connection limit, and a connection read past it counts as gone.
 */
import * as z from 'zod';
import { role } from '../../../../schemas/common.js';
import { defineEntity } from './entity.js';

export const liveConnection = defineEntity({
  type: 'liveConnection',
  key: { pk: 'LIVE#{accountId}', sk: 'CONN#{connectionId}' },
  schema: z.object({
    connectionId: z.string(),
    accountId: z.string(),
    role,
    subject: z.string(),
    userId: z.string().optional(),
    access: z.union([z.object({ all: z.literal(true) }), z.object({ all: z.literal(false), numbers: z.array(z.string()) })]),
    connectedAt: z.string(),
    expiresAt: z.number(),
  }),
});
