/**
 * Who is calling (docs/architecture.md, "Auth model"). In AWS the HTTP API
 * has verified the caller before the function runs: on `/v1/…` its JWT
 * authorizer hands us the token's claims (`requestContext.authorizer.jwt`),
 * on `/api/v1/…` the API-key authorizer (`functions/authorizer/`) hands us
 * its context (`requestContext.authorizer.lambda`). The local runtime
 * verifies both itself and passes the same shapes the same way.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiKeyAuthorizerContext } from '../../schemas/api-keys.js';
import { role as roleSchema, type Role } from '../../schemas/common.js';
import { API_KEY_ROLE } from '../core/api-keys.js';
import { Forbidden, Unauthenticated } from '../core/errors.js';

export interface Principal {
  subject: string;
  role: Role;
  /** The account the token belongs to; support staff may have none. */
  accountId?: string;
  /** A dashboard token (JWT) or an API key. */
  via: 'jwt' | 'apiKey';
  /** The API key's id, for a request made with one. */
  keyId?: string;
  /**
   * The seat (`usr_…`) the token names: claim `custom:userId`, which the
   * identity provider sets (docs/architecture.md, "Auth model"). An agent
   * needs one to see any conversation (per-number access).
   */
  userId?: string;
}

/** `support` ⊃ `owner` ⊃ `admin` ⊃ `agent`. */
const RANK: Record<Role, number> = { agent: 1, admin: 2, owner: 3, support: 4 };

type JwtClaims = Record<string, string | number | boolean | string[]>;

interface Authorizers {
  jwt?: { claims?: JwtClaims };
  lambda?: Record<string, unknown>;
}

export function principalOf(event: APIGatewayProxyEventV2): Principal {
  const authorizer = (event.requestContext as { authorizer?: Authorizers }).authorizer;
  if (authorizer?.lambda) return keyPrincipal(authorizer.lambda);
  const claims = authorizer?.jwt?.claims;
  if (!claims) throw new Unauthenticated();
  const role = roleSchema.safeParse(claims['custom:role']);
  if (!role.success) throw new Forbidden('The token carries no known role.');
  const accountId = typeof claims['custom:accountId'] === 'string' && claims['custom:accountId'] ? claims['custom:accountId'] : undefined;
  if (!accountId && role.data !== 'support') throw new Forbidden('The token is not bound to an account.');
  const userId = typeof claims['custom:userId'] === 'string' && claims['custom:userId'] ? claims['custom:userId'] : undefined;
  return { subject: String(claims.sub ?? 'unknown'), role: role.data, accountId, via: 'jwt', ...(userId ? { userId } : {}) };
}

/** The API-key authorizer's context; a key never acts above `admin`, whatever the context says. */
function keyPrincipal(context: Record<string, unknown>): Principal {
  const parsed = apiKeyAuthorizerContext.safeParse(context);
  if (!parsed.success) throw new Unauthenticated('The API key was not accepted.');
  const { accountId, keyId } = parsed.data;
  const role = RANK[parsed.data.role] > RANK[API_KEY_ROLE] ? API_KEY_ROLE : parsed.data.role;
  return { subject: `apiKey:${keyId}`, role, accountId, via: 'apiKey', keyId };
}

export function requireRole(principal: Principal, minimum: Role): void {
  if (RANK[principal.role] < RANK[minimum]) throw new Forbidden(`This needs the ${minimum} role or higher.`);
}
