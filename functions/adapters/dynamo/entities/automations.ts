/**
 * Automations (docs/data-model.md, docs/automations.md): one item per
 * automation under its account, sorted by kind and then by id. Ids are time
 * ordered, so a kind's items read oldest first in key order, and one Query on
 * `AUTO#` reads an account's whole set (the consumer's `loadSet`). Merges
 * copy the prefix as is (`merge-history.ts`).
 *
 * `body` is stored as the API validated it (defaults filled) and read back
 * without re-validating, so a rule the schema tightens later never makes a
 * stored item unreadable. `scopePhno` repeats `body.scope.whatsapp_phno`
 * (absent for account-wide items) so a listing for one number filters on it.
 */
import * as z from 'zod';
import { AUTOMATION_KINDS } from '../../../../schemas/automations.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

export const automation = defineEntity({
  type: 'automation',
  key: { pk: ACCOUNT_PARTITION, sk: 'AUTO#{kind}#{automationId}' },
  schema: z.object({
    accountId: z.string(),
    kind: z.enum(AUTOMATION_KINDS),
    id: z.string(),
    body: z.record(z.string(), z.unknown()),
    scopePhno: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
});
