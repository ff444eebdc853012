/**
 * Integrations (docs/integrations.md; docs/data-model.md, "Integrations"): the
 * account's one integration, at a fixed sort key in the account's partition.
 * The fixed key IS the one-per-account rule: creation is a Put with
 * `attribute_not_exists`, so of concurrent creations one is stored. The
 * signing secret is not stored (it is derived from a master key and the id).
 * Merges do not copy it: an integration stays with its account.
 */
import * as z from 'zod';
import { INTEGRATION_TYPES, httpIntegrationConfig } from '../../../../schemas/integrations.js';
import { ACCOUNT_PARTITION } from './account-partition.js';
import { defineEntity } from './entity.js';

export const integration = defineEntity({
  type: 'integration',
  key: { pk: ACCOUNT_PARTITION, sk: 'INTEGRATION' },
  schema: z.object({
    integrationId: z.string(),
    accountId: z.string(),
    integrationType: z.enum(INTEGRATION_TYPES),
    config: httpIntegrationConfig,
    createdAt: z.string(),
  }),
});
