/**
 * The API reference of `npm start`: `/openapi.json` is the route table's
 * document naming this runtime in `servers`, and `/docs` (Swagger UI from
 * node_modules) renders every route in a real headless Chromium, with no
 * request leaving the runtime's origin. Both without a token.
 *
 * The browser is Debian's `chromium` (`/usr/bin/chromium`) driven by
 * playwright-core; no browser is ever downloaded. Without it the browser test
 * fails and says how to install it.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../functions/api/openapi.js';
import { apiRoutes } from '../../functions/api/routes/index.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

let runtime: LocalRuntime;
// Chromium starts while the runtime does (the browser test says what to install when it is missing).
let launching: Promise<Browser> | undefined;

beforeAll(async () => {
  if (existsSync(CHROMIUM)) {
    launching = chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    launching.catch(() => undefined);
  }
  runtime = await startLocalRuntime({ port: 0 });
});

afterAll(async () => {
  await Promise.all([runtime?.stop(), launching?.then((browser) => browser.close()).catch(() => undefined)]);
});

/** A GET with the path sent exactly as written (fetch would normalise `..` away before sending). */
function rawGet(path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /openapi.json', () => {
  it('answers the route table’s document without a token, its servers naming this runtime', async () => {
    const res = await fetch(`${runtime.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([expect.objectContaining({ url: runtime.url })]);
    expect(doc.paths).toEqual(JSON.parse(JSON.stringify(buildOpenApi(apiRoutes).paths)));
  });
});

describe('GET /docs', () => {
  it('answers the page and its assets from swagger-ui-dist with their content types, without a token', async () => {
    const page = await fetch(`${runtime.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('/docs/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    for (const [asset, type] of [
      ['swagger-ui.css', /^text\/css/],
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['api-reference.js', /^text\/javascript/],
      ['favicon-32x32.png', /^image\/png/],
    ] as const) {
      const res = await fetch(`${runtime.url}/docs/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toMatch(type);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
  });

  it('serves nothing outside the package’s files: traversal and other file types answer 404', async () => {
    for (const path of [
      '/docs/../package.json',
      '/docs/..%2fpackage.json',
      '/docs/%2e%2e/package.json',
      '/docs/%2e%2e%2f%2e%2e%2fpackage.json',
      '/docs/..%5c..%5cpackage.json',
      '/docs/package.json',
      '/docs/README.md',
      '/docs/oauth2-redirect.html',
      '/docs//etc/passwd',
      '/docs/%2fetc%2fpasswd',
      '/docs/no-such-file.js',
    ]) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"dependencies"');
      expect(res.body, path).not.toContain('root:');
    }
  });
});

describe('the API reference in a browser', () => {
  it('renders every route of the route table: method, path and summary', async () => {
    if (!existsSync(CHROMIUM) || !launching) {
      throw new Error(
        `This test drives Debian's Chromium at ${CHROMIUM}, which is missing. Install it: sudo apt-get update && sudo apt-get install -y chromium (.ci/run does this in CI).`,
      );
    }
    const browser = await launching;
    const page = await browser.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(`${runtime.url}/`) && !req.url().startsWith('data:')) foreign.push(req.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${runtime.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 10_000 }).toBe(apiRoutes.length);

    const rendered = await page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map((block) => {
        const text = (selector: string) => ((block.querySelector(selector) as unknown as { innerText: string } | null)?.innerText ?? '').replace(/\u200b/g, '').trim();
        return { method: text('.opblock-summary-method'), path: text('.opblock-summary-path'), summary: text('.opblock-summary-description') };
      }),
    );
    for (const route of apiRoutes) {
      expect(rendered, `${route.method} ${route.path}`).toContainEqual({ method: route.method, path: route.path, summary: route.summary });
    }
    // The title, and the servers list naming this runtime.
    await expect.poll(() => page.locator('.info .title').innerText()).toContain('WhatsApp multi-number backend');
    expect(await page.locator('.servers select').innerText()).toContain(runtime.url);
    expect(foreign, 'requests outside the runtime (a CDN, a validator)').toEqual([]);
    expect(errors, 'browser console errors').toEqual([]);
  });
});
