/**
 * Broadcasts (docs/data-model.md, "Broadcasts"): the broadcast under its
 * account; its chunks, chunk counters and recipient states in the
 * `BRD#{broadcastId}` partition; a wamid pointer per sent message.
 */
import * as z from 'zod';
import type { FailureReason, SkipReason } from '../../../core/broadcast-ports.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity, word } from './entity.js';

const BROADCAST_PARTITION = 'BRD#{broadcastId}';
/** Chunks and their counters sort in order: `00000`, `00001`, … */
const chunkNumber = { chunk: (value: string | number) => String(value).padStart(5, '0') };
const BROADCAST_ORDER = '{createdAt}#{broadcastId}';

export const broadcast = defineEntity({
  type: 'broadcast',
  key: { pk: ACCOUNT_PARTITION, sk: 'BROADCAST#{broadcastId}' },
  indexes: {
    gsi1: { pk: 'A#{accountId}#BROADCAST', sk: BROADCAST_ORDER },
    gsi2: { pk: 'A#{accountId}#BROADCAST#{whatsappPhno}', sk: BROADCAST_ORDER },
  },
  schema: z.object({
    accountId: z.string(),
    broadcastId: z.string(),
    whatsapp_phno: z.string(),
    phoneNumberId: z.string(),
    template: z.object({ name: z.string(), language: z.string(), category: z.string() }),
    recipients: z.number(),
    chunkCount: z.number(),
    status: z.enum(['queued', 'sending']),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    enqueuedAt: z.string().optional(),
  }),
});

/** Up to `BROADCAST_CHUNK_SIZE` recipients: they never travel on the bus or the queue. */
export const broadcastChunk = defineEntity({
  type: 'broadcastChunk',
  key: { pk: BROADCAST_PARTITION, sk: 'CHUNK#{chunk}' },
  format: chunkNumber,
  schema: z.object({ chunk: z.number(), recipients: z.array(z.string()) }),
});

/** `fail_{reason}` counts each failure reason. */
export const FAILED_PREFIX = 'fail_';

/** One counter item per chunk, created by its first increment (`ADD`), summed on read. */
export const broadcastCounter = defineEntity({
  key: { pk: BROADCAST_PARTITION, sk: 'COUNT#{chunk}' },
  format: chunkNumber,
  schema: z
    .object({
      sent: z.number().default(0),
      delivered: z.number().default(0),
      read: z.number().default(0),
      failed: z.number().default(0),
      replied: z.number().default(0),
      done: z.number().default(0),
      creditsSpentMicros: z.number().default(0),
      /** Recipients skipped because they opted out of marketing messages (also in `done`). */
      skippedOptOut: z.number().default(0),
      /** Recipients of the chunk's current round waiting for the messaging limit, and when they are tried again (set, not added). */
      deferred: z.number().default(0),
      resumesAt: z.string().optional(),
    })
    .catchall(z.unknown()),
});

/** Put before the send, so only one run ever sends to a recipient. */
export const broadcastRecipient = defineEntity({
  type: 'broadcastRecipient',
  key: { pk: BROADCAST_PARTITION, sk: 'R#{waId}' },
  schema: z.object({
    waId: z.string(),
    chunk: z.number(),
    status: z.enum(['sending', 'sent', 'failed', 'skipped']),
    rank: z.number().default(0),
    priceMicros: z.number().default(0),
    charged: z.unknown().optional().transform((value) => value === true),
    // A recipient failed before any send (no credits, number gone) was never priced in a period.
    period: z.string().default(''),
    claimedAt: z.string(),
    wamid: z.string().optional(),
    sentAt: z.string().optional(),
    deliveredAt: z.string().optional(),
    readAt: z.string().optional(),
    failedAt: z.string().optional(),
    skippedAt: z.string().optional(),
    reason: word<FailureReason | SkipReason>().optional(),
    failureDetail: z.string().optional(),
    refunded: z.boolean().optional(),
    repliedAt: z.string().optional(),
  }),
});

/** Leads a status, or a reply quoting the message (`context.id`), to its broadcast and recipient. */
export const broadcastWamid = defineEntity({
  type: 'broadcastWamid',
  key: { pk: 'BRWAMID#{wamid}', sk: 'BRWAMID' },
  schema: z.object({
    accountId: z.string(),
    broadcastId: z.string(),
    whatsapp_phno: z.string(),
    waId: z.string(),
    chunk: z.number(),
    wamid: z.string(),
  }),
});
