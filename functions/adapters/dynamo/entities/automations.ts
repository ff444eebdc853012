/**
 * Automations (reserved, docs/data-model.md): nothing writes them yet; their
 * prefix is defined so that a merge already copies them.
 */
import * as z from 'zod';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

export const automation = defineEntity({
  type: 'automation',
  key: { pk: ACCOUNT_PARTITION, sk: 'AUTO#{kind}#{automationId}' },
  schema: z.record(z.string(), z.unknown()),
});
