/**
 * `Broadcast Requested` v1 (docs/events.md): published by the API function
 * once `POST /v1/broadcasts` has stored the broadcast and its recipient
 * chunks (recipients never travel on the bus). Routed to the broadcasts, which
 * put one send-queue message per chunk.
 */
import * as z from 'zod';
import { SOURCES, type EventContract } from './contract.js';

export const broadcastRequested = z.object({
  accountId: z.string(),
  whatsapp_phno: z.string(),
  /** `brq:{broadcastId}`. */
  eventId: z.string(),
  broadcastId: z.string(),
  chunkCount: z.int().min(1),
});
export type BroadcastRequested = z.infer<typeof broadcastRequested>;

export const broadcastRequestedContract = {
  name: 'broadcast-requested',
  source: SOURCES.api,
  detailType: 'Broadcast Requested',
  version: 1,
  schema: broadcastRequested,
} as const satisfies EventContract;
