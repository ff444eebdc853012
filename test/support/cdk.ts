import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { buildApp } from '../../lib/app.js';

/** Every assembly folder this test file made; removed when the file's tests are done. */
const outdirs: string[] = [];
// Registered when the test file imports this module, so it runs whether synthApp was called in a describe or an it.
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Synthesises the app without bundling functions or running CloudFormation's
 * own validation (fast: ~0.3 s), into a temporary folder removed afterwards.
 */
export function synthApp(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  outdirs.push(outdir);
  return buildApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], builtinCloudFormationValidation: false, ...context },
  });
}
