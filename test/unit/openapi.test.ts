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

  it('is committed as docs/openapi.json in its current form (run npm run openapi)', () => {
    const committed = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});
