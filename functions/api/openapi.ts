/**
 * The OpenAPI 3.1 document, generated from the route table and its zod
 * schemas: what the router validates is what the document says.
 */
import * as z from 'zod';
import { errorBody } from '../../schemas/api.js';
import { InternalError } from '../core/errors.js';
import type { Route } from './router.js';

const ERROR_STATUSES: Record<string, string> = {
  '400': 'VALIDATION_FAILED: the body, query or path is not valid (every issue has its path).',
  '401': 'UNAUTHENTICATED',
  '403': 'FORBIDDEN or FEATURE_UNAVAILABLE',
  '404': 'NOT_FOUND (also for another account’s resources)',
  '409': 'A rule refused the change: QUOTA_EXCEEDED, NUMBER_ALREADY_CONNECTED, WINDOW_CLOSED, REQUEST_IN_PROGRESS, …',
  '422': 'IDEMPOTENCY_KEY_REUSED (the same Idempotency-Key with another body), or WhatsApp refused the message',
  '429': 'MESSAGING_LIMIT_REACHED: the portfolio messaging limit has no room for this user now (error.resumesAt)',
  '503': 'SERVICE_BUSY or WhatsApp throttling/unavailable: safe to retry',
};

/** A Server Object of the document. */
export interface OpenApiServer {
  url: string;
  description?: string;
  variables?: Record<string, { default: string; description?: string }>;
}

/**
 * The servers of the committed `docs/openapi.json`: `npm start`'s default
 * address (the running runtime serves its own copy at `/openapi.json`, naming
 * the port it listens on) and the deployed HTTP API.
 */
export const DEFAULT_SERVERS: OpenApiServer[] = [
  { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`, default port)' },
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
    description: 'The deployed HTTP API: the stateless stack\'s `ApiUrl` output, without `/v1`',
    variables: {
      apiId: { default: 'API_ID', description: 'The HTTP API id (from `ApiUrl`)' },
      region: { default: 'us-east-1', description: 'The AWS region of the deployment' },
    },
  },
];

export interface OpenApiOptions {
  /** Default: `DEFAULT_SERVERS`. */
  servers?: OpenApiServer[];
}

/** `POST /v1/admin/accounts/{accountId}/merge` → `postAdminAccountsByAccountIdMerge`: stable, unique per method and path. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'v1')
    .map((segment) => (segment.startsWith('{') ? `by-${segment.slice(1, -1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+|(?=[A-Z])/))
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1));
  return `${method.toLowerCase()}${words.join('')}`;
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output') {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

export function buildOpenApi(routes: Route<unknown>[], options: OpenApiOptions = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    const operationId = operationIdOf(route.method, route.path);
    if (operationIds.has(operationId)) throw new InternalError(`Two routes have the operationId ${operationId}: rename one (${route.method} ${route.path}).`);
    operationIds.add(operationId);
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
      if (!schema) continue;
      const json = schemaOf(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: property });
      }
    }
    if (route.method === 'POST') {
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 }, description: 'Replays the first answer for the same key; 409 REQUEST_IN_PROGRESS while it runs.' });
    }
    const success = route.response ?? { status: 200 };
    const responses: Record<string, unknown> = {
      [String(success.status)]: success.schema
        ? { description: 'OK', content: { 'application/json': { schema: schemaOf(success.schema, 'output') } } }
        : { description: 'OK' },
    };
    for (const [status, description] of Object.entries(ERROR_STATUSES)) {
      responses[status] = { description, content: { 'application/json': { schema: schemaOf(errorBody, 'output') } } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId,
      summary: route.summary,
      description: `Role: ${route.role} or higher.`,
      security: [{ bearer: [] }],
      parameters,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'WhatsApp multi-number backend: dashboard API', version: '1.0.0' },
    servers: options.servers ?? DEFAULT_SERVERS,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
