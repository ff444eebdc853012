/**
 * The dashboard API's router: a table of routes, each declaring its method,
 * path, minimum role, whether API keys may call it, zod schemas and one core
 * call. The router does the rest for every route alike: auth, account
 * scoping, validation, `Idempotency-Key` replay and error mapping. The
 * OpenAPI document is generated from the same table (`openapi.ts`).
 *
 * Requests made with an API key arrive on `/api/v1/…` (the HTTP API's second
 * route, behind the API-key authorizer): the prefix is cut here, in one
 * place, and the same table serves them (docs/architecture.md, "Auth model").
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { API_KEY_PATH_PREFIX } from '../../schemas/api-keys.js';
import type { Role } from '../../schemas/common.js';
import { entityId } from '../../schemas/common.js';
import { AppError, Forbidden, IdempotencyKeyReused, MethodNotAllowed, NotFound, RequestInProgress, Unauthenticated, ValidationFailed } from '../core/errors.js';
import type { IdempotencyStore } from '../core/ports.js';
import { type Principal, principalOf, requireRole } from './auth.js';
import { type HttpResponse, errorResponse, header, json, jsonBody, validate } from '../commons/http.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<B, Q, P, D> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  /** The account the request acts on: the token's, or for support staff `X-Account-Id` / the path's `accountId`. */
  accountId: string;
  /** Derived from the request: `api:{Idempotency-Key}` when one was sent, else unique to this request. */
  idempotencyKey: string;
  deps: D;
  event: APIGatewayProxyEventV2;
}

export interface RouteResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route<D> {
  method: Method;
  /** With `{param}` segments, e.g. `/v1/users/{userId}`. */
  path: string;
  summary: string;
  /** The lowest role allowed. */
  role: Role;
  /** `account`: acts on one account; `platform`: operator routes that name accounts themselves. */
  scope: 'account' | 'platform';
  /**
   * API keys may call it (with `/api/v1/…`), acting as `admin` at most and on
   * the default number only: the handler asks `requireNumberForCaller` /
   * `numberFilterForCaller`. Any other route answers a key 403 `FORBIDDEN`.
   * @default false
   */
  apiKey?: boolean;
  /**
   * Top-level fields of the answer shown once (a created key, a secret):
   * left out of the record an `Idempotency-Key` replays, so they are never stored.
   */
  shownOnce?: readonly string[];
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** Success status and answer shape, for the OpenAPI document. */
  response?: { status: number; schema?: z.ZodType };
  /**
   * `self`: the route makes a retried `Idempotency-Key` safe on its own (an id derived from the key) and the
   * router stores no response for it: for answers that show a secret once, which must not sit in the table.
   */
  idempotency?: 'self';
  handle(ctx: RouteContext<any, any, any, D>): Promise<RouteResult>;
}

/** Declares a route with its handler typed from its schemas. */
export function defineRoute<D, B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
  route: Omit<Route<D>, 'handle' | 'body' | 'query' | 'params'> & {
    body?: B;
    query?: Q;
    params?: P;
    handle(ctx: RouteContext<z.infer<B>, z.infer<Q>, z.infer<P>, D>): Promise<RouteResult>;
  },
): Route<D> {
  return route as Route<D>;
}

interface CompiledRoute<D> {
  route: Route<D>;
  pattern: RegExp;
  paramNames: string[];
}

export interface RouterDeps {
  idempotency: IdempotencyStore;
}

export interface RouterOptions {
  /** Told of every failure that answers 5xx, with its stack; the caller only sees a generic body. */
  onUnexpectedError?: (error: unknown, event: APIGatewayProxyEventV2) => void;
}

/** Builds the request handler over a route table. */
export function createRouter<D extends RouterDeps>(routes: Route<D>[], deps: D, options: RouterOptions = {}) {
  const compiled: CompiledRoute<D>[] = routes.map((route) => {
    const paramNames: string[] = [];
    const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      paramNames.push(name);
      return '([^/]+)';
    });
    return { route, pattern: new RegExp(`^${source}/?$`), paramNames };
  });

  return async function handle(event: APIGatewayProxyEventV2): Promise<HttpResponse> {
    try {
      const method = event.requestContext.http.method.toUpperCase();
      const { path, viaKeyPath } = routedPath(event.rawPath ?? event.requestContext.http.path);
      const candidates = compiled.filter((c) => c.pattern.test(path));
      if (candidates.length === 0) throw new NotFound(`The route ${path}`);
      const match = candidates.find((c) => c.route.method === method);
      if (!match) throw new MethodNotAllowed([...new Set(candidates.map((c) => c.route.method))]);
      const rawParams = Object.fromEntries(
        match.paramNames.map((name, i) => [name, decodeSegment(name, match.pattern.exec(path)![i + 1]!)]),
      );
      return await dispatch(match.route, event, rawParams, deps, { path, viaKeyPath });
    } catch (error) {
      const response = errorResponse(error);
      if (response.statusCode >= 500) options.onUnexpectedError?.(error, event);
      return response;
    }
  };
}

/** A path parameter as sent; malformed percent-encoding (`%E0%A4%A`, a lone `%`) is bad input, not a failure. */
function decodeSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ValidationFailed([{ path: ['path', name], message: 'Malformed percent-encoding.', code: 'invalid_format' }]);
  }
}

/** `/api/v1/…` is `/v1/…` asked with an API key. */
function routedPath(rawPath: string): { path: string; viaKeyPath: boolean } {
  const viaKeyPath = rawPath.startsWith(`${API_KEY_PATH_PREFIX}/v1/`);
  return { path: viaKeyPath ? rawPath.slice(API_KEY_PATH_PREFIX.length) : rawPath, viaKeyPath };
}

async function dispatch<D extends RouterDeps>(
  route: Route<D>,
  event: APIGatewayProxyEventV2,
  rawParams: Record<string, string>,
  deps: D,
  routed: { path: string; viaKeyPath: boolean },
): Promise<HttpResponse> {
  const principal = principalOf(event);
  // Each authorizer guards its own prefix; a mismatch means a request reached us around it.
  if (routed.viaKeyPath !== (principal.via === 'apiKey')) {
    throw new Unauthenticated(routed.viaKeyPath ? 'Send an API key (x-api-key) to /api/v1/….' : 'API keys call /api/v1/…; /v1/… needs a dashboard token.');
  }
  if (principal.via === 'apiKey' && !route.apiKey) throw new Forbidden('This route needs a dashboard token; an API key may not call it.');
  requireRole(principal, route.role);
  const params = route.params ? validate(route.params, rawParams, 'path') : rawParams;
  const accountId = resolveAccount(route, principal, event, params as Record<string, unknown>);
  const query = route.query ? validate(route.query, event.queryStringParameters ?? {}, 'query') : undefined;
  const body = route.body ? validate(route.body, jsonBody(event), 'body') : undefined;

  const suppliedKey = header(event, 'idempotency-key');
  const keyed = route.method === 'POST' && suppliedKey !== undefined;
  const idempotent = keyed && route.idempotency !== 'self';
  if (keyed && !/^[\w\-.:]{1,200}$/.test(suppliedKey)) {
    throw new ValidationFailed([{ path: ['header', 'Idempotency-Key'], message: 'Use 1 to 200 letters, digits, -, _, . or :.', code: 'invalid_format' }]);
  }
  const ctx: RouteContext<unknown, unknown, unknown, D> = {
    body,
    query,
    params,
    principal,
    accountId,
    idempotencyKey: suppliedKey ? `api:${suppliedKey}` : `req:${event.requestContext.requestId}`,
    deps,
    event,
  };
  if (!idempotent) return toHttp(await route.handle(ctx));

  // Keys are scoped per account (or per operator) so two tenants never share one.
  const scope = accountId || `platform:${principal.subject}`;
  const fingerprint = createHash('sha256')
    .update(`${route.method} ${routed.path}\n${event.body ?? ''}`)
    .digest('hex');
  const claim = await deps.idempotency.claim(scope, suppliedKey, fingerprint);
  if (claim.state !== 'claimed') {
    if (claim.fingerprint !== fingerprint) throw new IdempotencyKeyReused();
    if (claim.state === 'in_progress') throw new RequestInProgress();
    const stored = claim.response as RouteResult;
    return toHttp({ ...stored, headers: { ...stored.headers, 'idempotent-replayed': 'true' } });
  }
  try {
    const result = toHttp(await route.handle(ctx));
    await deps.idempotency.complete(scope, suppliedKey, { statusCode: result.statusCode, body: result.body ? withoutShownOnce(route, JSON.parse(result.body)) : undefined });
    return result;
  } catch (error) {
    // A refusal (4xx) is the answer to this request and is replayed; a failure (5xx) may be retried with the same key.
    const response = errorResponse(error);
    if (error instanceof AppError && response.statusCode < 500) {
      await deps.idempotency.complete(scope, suppliedKey, { statusCode: response.statusCode, body: JSON.parse(response.body!) });
    } else {
      await deps.idempotency.release(scope, suppliedKey);
    }
    throw error;
  }
}

function resolveAccount(route: Route<unknown>, principal: Principal, event: APIGatewayProxyEventV2, params: Record<string, unknown>): string {
  if (route.scope === 'platform') return typeof params.accountId === 'string' ? params.accountId : '';
  if (principal.role !== 'support') return principal.accountId!;
  // Support staff act on any account: the one named by X-Account-Id, else the token's own.
  const named = header(event, 'x-account-id') ?? principal.accountId;
  const parsed = entityId.safeParse(named);
  if (!parsed.success) {
    const missing = named === undefined;
    throw new ValidationFailed([
      {
        path: ['header', 'X-Account-Id'],
        message: missing ? 'Support staff name the account to act on.' : 'Not an account id this API issued (acc_…).',
        code: missing ? 'invalid_type' : 'invalid_format',
      },
    ]);
  }
  return parsed.data;
}

/** The answer as replays see it: the fields shown once are not kept. */
function withoutShownOnce(route: Route<unknown>, body: unknown): unknown {
  if (!route.shownOnce?.length || typeof body !== 'object' || body === null) return body;
  return Object.fromEntries(Object.entries(body).filter(([field]) => !route.shownOnce!.includes(field)));
}

function toHttp(result: RouteResult): HttpResponse {
  return json(result.statusCode, result.body, result.headers);
}

export const emptyParams = z.object({});
