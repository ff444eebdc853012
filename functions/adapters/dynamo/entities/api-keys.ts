/**
 * API keys (docs/data-model.md, "API keys"; docs/architecture.md, "Auth model"):
 *
 * - `apiKey`: one item per key in its own partition, keyed by the key's id
 *   (`key_<prefix>`, which the presented key itself names), so verifying a
 *   key is one strongly consistent `GetItem`. It holds the SHA-256 of the
 *   key, never the key. The account's keys are listed on gsi1, newest first.
 * - `apiKeyCount`: how many keys the account holds, changed in the same
 *   transaction as each create and delete; its condition caps the count.
 */
import * as z from 'zod';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

export const apiKey = defineEntity({
  type: 'apiKey',
  key: { pk: 'APIKEY#{keyId}', sk: 'APIKEY' },
  indexes: { gsi1: { pk: 'A#{accountId}#APIKEY', sk: '{createdAt}#{keyId}' } },
  schema: z.object({
    keyId: z.string(),
    accountId: z.string(),
    name: z.string(),
    prefix: z.string(),
    keyHash: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().optional(),
  }),
});

export const apiKeyCount = defineEntity({
  key: { pk: ACCOUNT_PARTITION, sk: 'APIKEYS' },
  schema: z.object({ used: z.number(), updatedAt: z.string().optional() }),
});
