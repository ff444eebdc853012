/**
 * The OpenAPI 3.1 document, generated from the route table and its zod
 * schemas: what the router validates is what the document says.
 */
import * as z from 'zod';
import { errorBody } from '../../schemas/api.js';
import type { Route } from './router.js';

const ERROR_STATUSES: Record<string, string> = {
  '400': 'VALIDATION_FAILED: the body, query or path is not valid (every issue has its path).',
  '401': 'UNAUTHENTICATED',
  '403': 'FORBIDDEN or FEATURE_UNAVAILABLE',
  '404': 'NOT_FOUND (also for another account’s resources)',
  '409': 'A rule refused the change: QUOTA_EXCEEDED, NUMBER_ALREADY_CONNECTED, WINDOW_CLOSED, REQUEST_IN_PROGRESS, …',
  '422': 'IDEMPOTENCY_KEY_REUSED (the same Idempotency-Key with another body), or WhatsApp refused the message',
  '503': 'SERVICE_BUSY or WhatsApp throttling/unavailable: safe to retry',
};

function schemaOf(schema: z.ZodType, io: 'input' | 'output') {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

export function buildOpenApi(routes: Route<unknown>[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
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
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
