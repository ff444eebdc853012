/**
 * Who listens to live updates (`live-updates.ts`): a dashboard connection,
 * opened with the same JWT as the HTTP API (`?token=` on the WebSocket URL,
 * where browsers and API Gateway's authorizers can put it), scoped at connect
 * time to one account and to the numbers the caller may see
 * (`number-access.ts`, resolved once per connection).
 *
 * - An owner, admin or agent listens to the account their token names
 *   (`custom:accountId`); an agent only to the numbers their teams cover.
 * - Support staff name the account with `?accountId=acc_…` (else their
 *   token's own account, if any); with neither they are refused. Support sees
 *   every number of that account. Another role's `?accountId=` is ignored, as
 *   the HTTP API ignores its `X-Account-Id`.
 * - The scope is a snapshot: a change of teams or of a team's numbers applies
 *   from the next connection (API Gateway closes every connection after two
 *   hours at the latest, and a dashboard reconnects).
 *
 * In AWS a connection is kept in the table (`LiveConnectionStore`) until
 * `$disconnect`, a push answered 410 Gone, or its TTL; locally the runtime
 * keeps the socket in memory (`functions/adapters/local/live-hub.ts`).
 */
import { entityId, role as roleSchema, type Role } from '../../schemas/common.js';
import { Forbidden, Unauthenticated } from './errors.js';
import { type AccessCaller, type NumberAccess, numberAccessOf } from './number-access.js';

/** API Gateway closes a WebSocket connection after 2 hours; the stored connection outlives that a little. */
export const LIVE_CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

/** Who is listening, and to what. */
export interface LiveSubscriber {
  accountId: string;
  role: Role;
  /** The token's subject (`sub`). */
  subject: string;
  /** The seat the token names (claim `custom:userId`), when it names one. */
  userId?: string;
  access: NumberAccess;
}

export interface LiveConnection extends LiveSubscriber {
  connectionId: string;
  connectedAt: string;
  /** Epoch seconds: the table's TTL; a connection read past it is treated as gone (TTL deletion may lag). */
  expiresAt: number;
}

export interface LiveConnectionStore {
  put(connection: LiveConnection): Promise<void>;
  get(accountId: string, connectionId: string): Promise<LiveConnection | undefined>;
  /** Every connection of the account that has not expired. */
  listByAccount(accountId: string): Promise<LiveConnection[]>;
  remove(accountId: string, connectionId: string): Promise<void>;
}

/** The first message on a connection (locally on open, in AWS in answer to any message the client sends). */
export interface LiveConnected {
  type: 'connected';
  accountId: string;
  /** The numbers this connection receives updates of: `all`, or a list (an agent's; empty means none). */
  whatsapp_phnos: 'all' | string[];
}

/** Verified JWT claims (the HTTP API's claims: `custom:role`, `custom:accountId`, `custom:userId`, `sub`). */
export type LiveClaims = Record<string, unknown>;

/** What a connection may be scoped by: the verified claims and the `?accountId=` a support caller may add. */
export interface LiveConnectRequest {
  claims: LiveClaims;
  requestedAccountId?: string;
}

/** Who opens a connection, for which account: decided from the claims alone (no table read). */
export interface LiveCaller {
  caller: AccessCaller;
  accountId: string;
  /** The token's subject (`sub`). */
  subject: string;
}

/** Checks a token's JWT claims (and the `?accountId=` of support staff): 403 `Forbidden` when they name no account. */
export function liveCallerOf(request: LiveConnectRequest): LiveCaller {
  const { claims } = request;
  const role = roleSchema.safeParse(claims['custom:role']);
  if (!role.success) throw new Forbidden('The token carries no known role.');
  const own = stringClaim(claims['custom:accountId']);
  let accountId = own;
  if (role.data === 'support' && request.requestedAccountId !== undefined) {
    if (!entityId.safeParse(request.requestedAccountId).success) throw new Forbidden('accountId: not an account id this API issued (acc_…).');
    accountId = request.requestedAccountId;
  }
  if (!accountId) {
    throw new Forbidden(role.data === 'support' ? 'Support staff name the account to listen to: add ?accountId=acc_… to the URL.' : 'The token is not bound to an account.');
  }
  const userId = stringClaim(claims['custom:userId']);
  return {
    caller: { role: role.data, via: 'jwt', ...(userId ? { userId } : {}) },
    accountId,
    subject: stringClaim(claims.sub) ?? 'unknown',
  };
}

/**
 * The authorizer's context (API Gateway keeps it for every route of the
 * connection, `$disconnect` included): strings only, as API Gateway requires.
 */
export type LiveAuthorizerContext = { accountId: string; role: Role; subject: string; userId?: string };

export function liveContextOf(live: LiveCaller): LiveAuthorizerContext {
  return { accountId: live.accountId, role: live.caller.role, subject: live.subject, ...(live.caller.userId ? { userId: live.caller.userId } : {}) };
}

/** The caller back from the authorizer's context; undefined when it is not one `liveContextOf` made. */
export function liveCallerOfContext(context: Record<string, unknown> | undefined): LiveCaller | undefined {
  if (!context) return undefined;
  const role = roleSchema.safeParse(context.role);
  const accountId = stringClaim(context.accountId);
  if (!role.success || !accountId) return undefined;
  const userId = stringClaim(context.userId);
  return { caller: { role: role.data, via: 'jwt', ...(userId ? { userId } : {}) }, accountId, subject: stringClaim(context.subject) ?? 'unknown' };
}

/** Verifies a dashboard JWT (the HTTP API's issuer and audience): its claims, or undefined when it is not valid. */
export interface TokenVerifier {
  verify(token: string): Promise<LiveClaims | undefined>;
}

/** The authorizer's decision: a caller, or why not (`unauthenticated`: 401, `forbidden`: 403). */
export async function authorizeLive(
  deps: { tokens: TokenVerifier },
  token: string | undefined,
  requestedAccountId?: string,
): Promise<{ ok: true; live: LiveCaller } | { ok: false; why: 'unauthenticated' | 'forbidden'; message: string }> {
  const claims = token ? await deps.tokens.verify(token) : undefined;
  if (!claims) return { ok: false, why: 'unauthenticated', message: 'A valid token is required: ?token=JWT.' };
  try {
    return { ok: true, live: liveCallerOf({ claims, ...(requestedAccountId !== undefined ? { requestedAccountId } : {}) }) };
  } catch (error) {
    if (error instanceof Forbidden) return { ok: false, why: 'forbidden', message: error.message };
    throw error;
  }
}

export type LiveAccessDeps = Parameters<typeof numberAccessOf>[0];

/** The subscriber a connection becomes: its account and the numbers it may see, resolved now. */
export async function subscriberOf(deps: LiveAccessDeps, live: LiveCaller): Promise<LiveSubscriber> {
  const { caller, accountId, subject } = live;
  const access = await numberAccessOf(deps, caller, accountId);
  return { accountId, role: caller.role, subject, ...(caller.userId ? { userId: caller.userId } : {}), access };
}

export function connectedMessageOf(subscriber: Pick<LiveSubscriber, 'accountId' | 'access'>): LiveConnected {
  return {
    type: 'connected',
    accountId: subscriber.accountId,
    whatsapp_phnos: subscriber.access.all ? 'all' : [...subscriber.access.numbers],
  };
}

// ------------------------------------------------------ AWS: the $connect, $disconnect and $default routes

export interface LiveConnectionDeps {
  access: LiveAccessDeps;
  connections: LiveConnectionStore;
  clock: { now(): Date };
}

/** `$connect`: the authorizer verified the token; the connection is stored with its scope and TTL. */
export async function openConnection(deps: LiveConnectionDeps, connectionId: string, live: LiveCaller): Promise<LiveConnection> {
  const subscriber = await subscriberOf(deps.access, live);
  const now = deps.clock.now();
  const connection: LiveConnection = {
    ...subscriber,
    connectionId,
    connectedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + LIVE_CONNECTION_TTL_SECONDS,
  };
  await deps.connections.put(connection);
  return connection;
}

/** `$disconnect`: forgets the connection (idempotent). */
export async function closeConnection(deps: Pick<LiveConnectionDeps, 'connections'>, accountId: string, connectionId: string): Promise<void> {
  await deps.connections.remove(accountId, connectionId);
}

/** `$default` (any message from the client): answers with the connection's scope. */
export async function describeConnection(deps: Pick<LiveConnectionDeps, 'connections'>, accountId: string, connectionId: string): Promise<LiveConnected> {
  const connection = await deps.connections.get(accountId, connectionId);
  if (!connection) throw new Unauthenticated('The connection is not known (expired or closed): reconnect.');
  return connectedMessageOf(connection);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
