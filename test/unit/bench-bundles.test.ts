/**
 * The bench sizes every function the stacks deploy: a new `functions/<name>/handler.ts`
 * that bench/bundles.ts does not know would grow unseen.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTRIES, FUNCTIONS, OTHER_FUNCTIONS } from '../../bench/bundles.js';

const handlers = readdirSync('functions').filter((dir) => existsSync(join('functions', dir, 'handler.ts')));

describe('bench bundles', () => {
  it('bundles every function that has a handler, once', () => {
    const bundled = [...FUNCTIONS, ...OTHER_FUNCTIONS];
    expect(new Set(bundled).size).toBe(bundled.length);
    expect([...bundled].sort()).toEqual([...handlers].sort());
  });

  it('points each bundle at its function’s handler', () => {
    for (const name of handlers) expect(ENTRIES[name], name).toMatch(new RegExp(`functions/${name}/handler\\.ts$`));
  });
});
