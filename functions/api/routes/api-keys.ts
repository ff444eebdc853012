/**
 * API keys (docs/architecture.md, "Auth model"): owners create, list and
 * delete them; the keys call `/api/v1/…` on the routes marked `apiKey`.
 *
 * - `POST /v1/api-keys {name}`: 201 `{id, name, key, prefix, createdAt}`,
 *   the key shown in this answer only (an `Idempotency-Key` replay answers
 *   the rest without it); 409 `QUOTA_EXCEEDED` (`apiKeys`) past the limit.
 * - `GET /v1/api-keys`: newest first, never the key or its hash.
 * - `DELETE /v1/api-keys/{id}`: 204; the key is refused from the next request.
 */
import { apiKeyCreated, apiKeyIdParams, apiKeyList, createApiKeyBody } from '../../../schemas/api-keys.js';
import { type ApiKeyDeps, createApiKey, deleteApiKey, listApiKeys } from '../../core/api-keys.js';
import { defineRoute } from '../router.js';

export type { ApiKeyDeps } from '../../core/api-keys.js';

export const apiKeyRoutes = [
  defineRoute<ApiKeyDeps, typeof createApiKeyBody>({
    method: 'POST',
    path: '/v1/api-keys',
    summary: 'Create an API key for /api/v1/… (default number only): the key is shown in this answer once, then only its prefix.',
    role: 'owner',
    scope: 'account',
    body: createApiKeyBody,
    shownOnce: ['key'],
    response: { status: 201, schema: apiKeyCreated },
    handle: async ({ accountId, body, deps }) => ({ statusCode: 201, body: await createApiKey(deps, accountId, body.name) }),
  }),
  defineRoute<ApiKeyDeps>({
    method: 'GET',
    path: '/v1/api-keys',
    summary: "The account's API keys, newest first: id, name, prefix and last use (never the key).",
    role: 'owner',
    scope: 'account',
    response: { status: 200, schema: apiKeyList },
    handle: async ({ accountId, deps }) => ({ statusCode: 200, body: { items: await listApiKeys(deps, accountId) } }),
  }),
  defineRoute<ApiKeyDeps, never, never, typeof apiKeyIdParams>({
    method: 'DELETE',
    path: '/v1/api-keys/{id}',
    summary: 'Delete an API key: requests made with it are refused from then on.',
    role: 'owner',
    scope: 'account',
    params: apiKeyIdParams,
    response: { status: 204 },
    handle: async ({ accountId, params, deps }) => {
      await deleteApiKey(deps, accountId, params.id);
      return { statusCode: 204 };
    },
  }),
];
