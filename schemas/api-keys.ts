/**
 * API keys as the API takes and answers them (`/v1/api-keys`;
 * docs/architecture.md, "Auth model"), and the context the API-key
 * authorizer hands the API function for a request made with one.
 *
 * A key reads `wak_<prefix>_<secret>`: `wak_` says what it is (so secret
 * scanners and people recognise it), the 8-character prefix identifies it
 * (shown in listings; the key's id is `key_<prefix>`), the secret is 32
 * random bytes in base64url. Only the key's SHA-256 is stored.
 */
import * as z from 'zod';
import { entityId, role } from './common.js';

/** What every key begins with. */
export const API_KEY_TAG = 'wak_';

/** Keys an account may hold at once. */
export const API_KEY_LIMIT = 10;

/** The header an API key is sent in. */
export const API_KEY_HEADER = 'x-api-key';

/** The path prefix of requests made with an API key: `/api/v1/…` serves the same routes as `/v1/…`. */
export const API_KEY_PATH_PREFIX = '/api';

export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100).meta({ description: 'What the key is for, e.g. "CRM sync".', example: 'CRM sync' }),
});

export const apiKeyIdParams = z.object({ id: entityId.meta({ description: 'The key id (`key_…`), as listed.', example: 'key_3kq9x2ab' }) });

export const apiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  /** `wak_<8 characters>`: how the key is recognised; the rest is never shown again. */
  prefix: z.string(),
  createdAt: z.string(),
  /** Updated at most once a minute. */
  lastUsedAt: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof apiKeyView>;

/** The answer to a creation: the only time the key itself is shown. */
export const apiKeyCreated = z.object({
  id: z.string(),
  name: z.string(),
  key: z.string().meta({ description: 'The key: shown in this answer only, stored as its SHA-256. Send it as `x-api-key` to `/api/v1/…`.' }),
  prefix: z.string(),
  createdAt: z.string(),
});
export type ApiKeyCreated = z.infer<typeof apiKeyCreated>;

export const apiKeyList = z.object({ items: z.array(apiKeyView) });

/**
 * What the API-key authorizer returns as its context (`requestContext.authorizer.lambda`
 * in the API function's event): the account, the role the key acts with and its id.
 */
export const apiKeyAuthorizerContext = z.object({
  accountId: entityId,
  role,
  keyId: entityId,
  via: z.literal('apiKey'),
});
export type ApiKeyAuthorizerContext = z.infer<typeof apiKeyAuthorizerContext>;
