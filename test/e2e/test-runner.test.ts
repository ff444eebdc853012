/**
 * `npm test` itself, as a newcomer meets it: without Java it says in one line
 * what to install; with Java it leaves no temporary folders behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const vitestCli = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');

function runVitest(file: string, env: NodeJS.ProcessEnv) {
  const run = spawnSync(process.execPath, [vitestCli, 'run', file], {
    cwd: process.cwd(),
    env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npm test', () => {
  it('says in one line how to install Java when it is missing, with no stack trace', () => {
    // node is started by its absolute path; PATH holds no java.
    const empty = mkdtempSync(join(tmpdir(), 'no-java-'));
    try {
      const { status, output } = runVitest('test/integration/quota-engine.test.ts', { PATH: empty });
      expect(status).toBe(1);
      const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !/^RUN\b/.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Java runtime.*apt-get install -y default-jre-headless/);
      expect(output).not.toMatch(/No test files found|❯|at .*\.js:\d+/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('removes the CDK assembly folders its synth tests create', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'test-tmp-'));
    try {
      const { status, output } = runVitest('test/infra/cdk-nag.test.ts', { TMPDIR: tmp });
      expect(status, output).toBe(0);
      expect(output).toMatch(/Tests\s+\d+ passed/);
      expect(readdirSync(tmp).filter((name) => name.startsWith('cdk-test-'))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
