/**
 * The API reference of `npm start`, without a token:
 *   GET /openapi.json   the OpenAPI document of the route table, its `servers`
 *                       naming this runtime's URL (the committed
 *                       docs/openapi.json is the same document with default servers)
 *   GET /docs           Swagger UI on that document, its assets served from the
 *                       `swagger-ui-dist` package in node_modules (no CDN)
 */
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';
import { buildOpenApi } from '../functions/api/openapi.js';
import { apiRoutes } from '../functions/api/routes/index.js';

/** Answers the request when it is one of the reference's; `false` leaves it to the caller. */
export type ApiReferenceHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const DIST_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** What may be served from the package: its css, scripts, source maps and icons, nothing else (no package.json, no html). */
const ASSET_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/** Swagger UI draws with inline styles and data: icons; everything else comes from this origin. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>WhatsApp multi-number backend: dashboard API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/api-reference.js"></script>
  </body>
</html>
`;

/** The page's own script (not inline, so the policy above can forbid inline scripts). */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** The reference for a runtime listening on `baseUrl` (e.g. `http://127.0.0.1:3000`): the document is built here, once. */
export function apiReference(baseUrl: string): ApiReferenceHandler {
  const document = Buffer.from(JSON.stringify(buildOpenApi(apiRoutes, { servers: [{ url: baseUrl, description: 'This local runtime (npm start)' }] }), null, 2));
  const assets = new Map<string, Buffer>();

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/openapi.json') return send(req, res, 200, 'application/json; charset=utf-8', document, 'no-cache');
    if (path === '/docs' || path === '/docs/' || path === '/docs/index.html') {
      return send(req, res, 200, 'text/html; charset=utf-8', Buffer.from(PAGE), 'no-cache', { 'content-security-policy': CONTENT_SECURITY_POLICY });
    }
    if (path === '/docs/api-reference.js') return send(req, res, 200, ASSET_TYPES['.js']!, Buffer.from(INIT_SCRIPT), 'no-cache');
    if (!path.startsWith('/docs/')) return false;
    const asset = readAsset(path.slice('/docs/'.length), assets);
    if (!asset) return send(req, res, 404, 'application/json; charset=utf-8', Buffer.from(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No such file of the API reference.' } })), 'no-cache');
    return send(req, res, 200, asset.type, asset.body, 'max-age=3600');
  };
}

/** One file directly inside the package's folder, by a known extension; anything else (`..`, `/`, `\`, other types) is not found. */
function readAsset(encodedName: string, cache: Map<string, Buffer>): { type: string; body: Buffer } | undefined {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    return undefined;
  }
  const type = ASSET_TYPES[extname(name)];
  if (!type || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) return undefined;
  const file = join(DIST_DIR, name);
  if (dirname(file) !== DIST_DIR || !file.startsWith(DIST_DIR + sep)) return undefined;
  let body = cache.get(name);
  if (!body) {
    try {
      if (!statSync(file).isFile()) return undefined;
      body = readFileSync(file);
    } catch {
      return undefined;
    }
    cache.set(name, body);
  }
  return { type, body };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer, cacheControl: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
