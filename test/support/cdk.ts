import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { buildApp } from '../../lib/app.js';

/**
 * Synthesises the app without bundling functions or running CloudFormation's
 * own validation (fast: ~0.3 s), into a temporary folder removed afterwards.
 */
export function synthApp(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  return buildApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], builtinCloudFormationValidation: false, ...context },
  });
}
