/**
 * Integrations (docs/integrations.md): the account's one integration, bound
 * to its default number. Admins and up create, read and delete.
 *
 * - `POST /v1/integrations {type, config, whatsapp_phno?}`: 201 with the
 *   integration and its signing `secret` (shown once); 400 on `body.type`
 *   for an unknown type, on the config's fields (`body.config.url`, also
 *   when the request-forgery guard refuses it); 403 `FEATURE_UNAVAILABLE`
 *   when `whatsapp_phno` names an additional number; 409
 *   `INTEGRATION_EXISTS` (with `id`) when the account has one, 409
 *   `NO_DEFAULT_NUMBER` without a default number.
 * - `GET /v1/integrations`: `{items}`, zero or one.
 * - `GET /v1/integrations/{id}`, `DELETE /v1/integrations/{id}` (204): 404
 *   for an id that is not the account's integration.
 */
import { createIntegrationBody, createdIntegrationView, integrationList, integrationParams, integrationView } from '../../../schemas/integrations.js';
import { type IntegrationApiDeps, createIntegration, deleteIntegration, getIntegration, listIntegrations } from '../../core/integrations.js';
import { defineRoute } from '../router.js';

export type { IntegrationApiDeps } from '../../core/integrations.js';

export const integrationRoutes = [
  defineRoute<IntegrationApiDeps, typeof createIntegrationBody>({
    method: 'POST',
    path: '/v1/integrations',
    summary:
      "Create the account's integration (one per account) on the default number: its records (contacts, conversations) are pushed to it, signed with the secret answered here once.",
    role: 'admin',
    scope: 'account',
    // The secret is answered once: an Idempotency-Key replay answers the integration without it.
    shownOnce: ['secret'],
    body: createIntegrationBody,
    response: { status: 201, schema: createdIntegrationView },
    handle: async ({ accountId, body, deps }) => ({ statusCode: 201, body: await createIntegration(deps, accountId, body) }),
  }),
  defineRoute<IntegrationApiDeps>({
    method: 'GET',
    path: '/v1/integrations',
    summary: "The account's integration, as a list of zero or one, with the default number its records come from.",
    role: 'admin',
    scope: 'account',
    response: { status: 200, schema: integrationList },
    handle: async ({ accountId, deps }) => ({ statusCode: 200, body: { items: await listIntegrations(deps, accountId) } }),
  }),
  defineRoute<IntegrationApiDeps, never, never, typeof integrationParams>({
    method: 'GET',
    path: '/v1/integrations/{id}',
    summary: "The account's integration.",
    role: 'admin',
    scope: 'account',
    params: integrationParams,
    response: { status: 200, schema: integrationView },
    handle: async ({ accountId, params, deps }) => ({ statusCode: 200, body: await getIntegration(deps, accountId, params.id) }),
  }),
  defineRoute<IntegrationApiDeps, never, never, typeof integrationParams>({
    method: 'DELETE',
    path: '/v1/integrations/{id}',
    summary: 'Delete the integration: nothing is pushed to it from then on.',
    role: 'admin',
    scope: 'account',
    params: integrationParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps }) => {
      await deleteIntegration(deps, accountId, params.id);
      return { statusCode: 204 };
    },
  }),
];
