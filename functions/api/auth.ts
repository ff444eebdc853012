/**
 * Who is calling. In AWS the HTTP API's JWT authorizer has verified the token
 * and hands us its claims; the local runtime verifies its own tokens and
 * passes the same claims the same way. Either way the handler only reads
 * `requestContext.authorizer.jwt.claims`.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { role as roleSchema, type Role } from '../../schemas/common.js';
import { Forbidden, Unauthenticated } from '../core/errors.js';

export interface Principal {
  subject: string;
  role: Role;
  /** The account the token belongs to; support staff may have none. */
  accountId?: string;
}

/** `support` ⊃ `owner` ⊃ `admin` ⊃ `agent`. */
const RANK: Record<Role, number> = { agent: 1, admin: 2, owner: 3, support: 4 };

type JwtClaims = Record<string, string | number | boolean | string[]>;

export function principalOf(event: APIGatewayProxyEventV2): Principal {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: JwtClaims } } }).authorizer?.jwt?.claims;
  if (!claims) throw new Unauthenticated();
  const role = roleSchema.safeParse(claims['custom:role']);
  if (!role.success) throw new Forbidden('The token carries no known role.');
  const accountId = typeof claims['custom:accountId'] === 'string' && claims['custom:accountId'] ? claims['custom:accountId'] : undefined;
  if (!accountId && role.data !== 'support') throw new Forbidden('The token is not bound to an account.');
  return { subject: String(claims.sub ?? 'unknown'), role: role.data, accountId };
}

export function requireRole(principal: Principal, minimum: Role): void {
  if (RANK[principal.role] < RANK[minimum]) throw new Forbidden(`This needs the ${minimum} role or higher.`);
}
