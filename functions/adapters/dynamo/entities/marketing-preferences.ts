/**
 * Marketing preferences (docs/data-model.md, "Marketing preferences"): the
 * latest `user_preferences` word of one contact of one number for one
 * category, under the account (a merge copies them with the contacts).
 */
import * as z from 'zod';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

/** Replaced only by a later one (`at`, Meta's time; at the same time `stop` wins). */
export const marketingPreference = defineEntity({
  type: 'marketingPreference',
  key: { pk: ACCOUNT_PARTITION, sk: 'MKTPREF#{whatsappPhno}#{contactKey}#{category}' },
  schema: z.object({
    whatsapp_phno: z.string(),
    contactKey: z.string(),
    waId: z.string().optional(),
    userId: z.string().optional(),
    category: z.string(),
    value: z.string(),
    at: z.string(),
    updatedAt: z.string(),
  }),
});
