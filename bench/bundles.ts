/**
 * Bundles every function exactly as the CDK does (`lib/bundling.ts`, the
 * options `AppFunction` hands to `NodejsFunction`), plus the baselines the
 * figures are compared with: the webhook's SDK floor, an empty handler and
 * the peer implementation. Sizes are of the `.mjs` Lambda loads (the source
 * map beside it is only read on an error).
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Metafile, build } from 'esbuild';
import { esbuildOptions } from '../lib/bundling.js';
import type { FigureBook } from './figures.js';

/** The functions on the message path: bundled and cold-started (bench/cold-start.ts has a first event for each). */
export const FUNCTIONS = ['api', 'webhook', 'inbox', 'automation', 'broadcast', 'sender'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
/** The others the stacks deploy: bundled and sized, so none grows unseen (`bundle.max.kb` covers them all). */
export const OTHER_FUNCTIONS = ['authorizer', 'media', 'integration', 'live', 'live-authorizer', 'webhook-dispatch', 'webhook-delivery'] as const;
const BUNDLED = [...FUNCTIONS, ...OTHER_FUNCTIONS];

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every bundle the bench builds, by name: every function and three baselines. */
export const ENTRIES: Record<string, string> = {
  ...Object.fromEntries(BUNDLED.map((fn) => [fn, join(root, 'functions', fn, 'handler.ts')])),
  sdk_floor: join(root, 'bench/entries/webhook-sdk-floor.ts'),
  bare: join(root, 'bench/entries/bare.ts'),
  peer: join(root, 'bench/peer/handler.ts'),
};

export interface Bundle {
  file: string;
  bytes: number;
  metafile: Metafile;
}

export async function buildBundles(): Promise<Record<string, Bundle>> {
  const outDir = mkdtempSync(join(tmpdir(), 'whatsapp-bench-'));
  const built = await Promise.all(
    Object.entries(ENTRIES).map(async ([name, entry]) => {
      const file = join(outDir, name, 'index.mjs');
      const result = await build({ ...esbuildOptions(entry, file), metafile: true, logLevel: 'error' });
      return [name, { file, bytes: statSync(file).size, metafile: result.metafile }] as const;
    }),
  );
  return Object.fromEntries(built);
}

const kb = (bytes: number) => bytes / 1000;

/** The largest contributors a bundle has beyond the SDK floor, by package (or our folder), for the note. */
function overheadByPackage(bundle: Bundle, floor: Bundle): [string, number][] {
  const inFloor = new Set(Object.values(floor.metafile.outputs).flatMap((output) => Object.keys(output.inputs)));
  const byPackage = new Map<string, number>();
  for (const output of Object.values(bundle.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      if (inFloor.has(path)) continue;
      const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)?.pop()?.replace('node_modules/', '') ?? path.split('/').slice(0, 2).join('/');
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + input.bytesInOutput);
    }
  }
  return [...byPackage.entries()].sort((a, b) => b[1] - a[1]);
}

export function bundleFigures(bundles: Record<string, Bundle>, book: FigureBook): void {
  for (const fn of BUNDLED) book.set(`bundle.${fn}.kb`, kb(bundles[fn]!.bytes), 'kB', `functions/${fn}/handler.ts, minified ESM as the CDK bundles it (lib/bundling.ts), AWS SDK included`);
  const largest = BUNDLED.reduce((a, b) => (bundles[a]!.bytes >= bundles[b]!.bytes ? a : b));
  book.set('bundle.max.kb', kb(bundles[largest]!.bytes), 'kB', `the largest function bundle: ${largest}`);
  const floor = bundles.sdk_floor!;
  book.set('bundle.webhook_sdk_floor.kb', kb(floor.bytes), 'kB', 'only the SDK clients and commands the webhook uses (bench/entries/webhook-sdk-floor.ts), built the same way');
  const top = overheadByPackage(bundles.webhook!, floor)
    .slice(0, 6)
    .map(([pkg, bytes]) => `${pkg} ${kb(bytes).toFixed(1)}`)
    .join(', ');
  book.set('peer.bundle.kb', kb(bundles.peer!.bytes), 'kB', 'the peer (bench/peer/handler.ts) built the same way');
  book.set('bundle.webhook.ratio_to_peer', bundles.webhook!.bytes / bundles.peer!.bytes, 'x', 'bundle.webhook.kb ÷ peer.bundle.kb');
  book.set('bundle.webhook.overhead_kb', kb(bundles.webhook!.bytes - floor.bytes), 'kB', `webhook bundle minus its SDK floor; largest parts (kB): ${top}`);
}
