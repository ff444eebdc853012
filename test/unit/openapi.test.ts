import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../functions/api/openapi.js';
import { apiRoutes } from '../../functions/api/routes/index.js';

describe('the OpenAPI document', () => {
  const doc = buildOpenApi(apiRoutes);

  it('describes every route of the router', () => {
    for (const route of apiRoutes) {
      expect(doc.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it('takes request bodies from the zod schemas', () => {
    const post = doc.paths['/v1/admin/accounts']!.post as { requestBody: { content: { 'application/json': { schema: { required: string[] } } } } };
    expect(post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['name', 'plan']));
  });

  it('names its servers: the local runtime by default, or the ones given', () => {
    expect(doc.servers.map((server) => server.url)).toEqual(['http://127.0.0.1:3000', 'https://{apiId}.execute-api.{region}.amazonaws.com']);
    expect(buildOpenApi(apiRoutes, { servers: [{ url: 'http://127.0.0.1:4321' }] }).servers).toEqual([{ url: 'http://127.0.0.1:4321' }]);
  });

  it('gives every operation a unique operationId', () => {
    const ids = Object.values(doc.paths).flatMap((operations) => Object.values(operations).map((operation) => (operation as { operationId: string }).operationId));
    expect(ids).toHaveLength(apiRoutes.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect((doc.paths['/v1/admin/accounts/{accountId}/merge']!.post as { operationId: string }).operationId).toBe('postAdminAccountsByAccountIdMerge');
  });

  it('is committed as docs/openapi.json in its current form (run npm run openapi)', () => {
    const committed = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
