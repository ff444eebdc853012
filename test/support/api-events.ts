import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Role } from '../../schemas/common.js';

export interface Caller {
  role: Role;
  accountId?: string;
  sub?: string;
  /** The seat the token names (claim `custom:userId`): an agent needs one to see conversations. */
  userId?: string;
}

export interface ApiRequest {
  method: string;
  path: string;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Omit for an anonymous request (no authorizer claims). */
  as?: Caller;
}

/** An API Gateway v2 event as the HTTP API hands it to the function after its JWT authorizer. */
export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const claims = request.as
    ? {
        sub: request.as.sub ?? `user-${request.as.role}`,
        'custom:role': request.as.role,
        ...(request.as.accountId ? { 'custom:accountId': request.as.accountId } : {}),
        ...(request.as.userId ? { 'custom:userId': request.as.userId } : {}),
      }
    : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
    queryStringParameters: request.query,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

/** Calls an API built with `createApi` and decodes its JSON answer. */
export async function call(api: (event: APIGatewayProxyEventV2) => Promise<{ statusCode: number; body?: string; headers?: Record<string, unknown> }>, request: ApiRequest) {
  const response = await api(apiEvent(request));
  return {
    status: response.statusCode,
    body: response.body ? JSON.parse(response.body) : undefined,
    headers: (response.headers ?? {}) as Record<string, string>,
  };
}
