import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../lib/app.js';

/** Every assembly folder synthApp made and not yet removed. */
const outdirs: string[] = [];

/**
 * Removes the assembly folders made so far. Run after every infra file by `test/support/cdk-cleanup.ts` (a setup
 * file of the infra project): infra files share a process, so a hook registered here would run for the first only.
 */
export function removeSynthFolders(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

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
