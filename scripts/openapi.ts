/** `npm run openapi`: writes docs/openapi.json from the route table. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildOpenApi } from '../functions/api/openapi.js';
import { apiRoutes } from '../functions/api/routes/index.js';

const doc = buildOpenApi(apiRoutes);
mkdirSync('docs', { recursive: true });
writeFileSync('docs/openapi.json', `${JSON.stringify(doc, null, 2)}\n`);
console.log(`docs/openapi.json: ${Object.keys(doc.paths).length} paths`);
