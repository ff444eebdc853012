/**
 * `npm test` itself, as a newcomer meets it: without Java it says in one line
 * what to install; with Java it leaves no temporary folders behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const vitestCli = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');

function runVitest(file: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitestCli, 'run', file], {
      cwd: process.cwd(),
      env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // As spawnSync's timeout did: a hung run is killed, and its test fails on the status.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output: `${stdout}${stderr}` });
    });
  });
}

// The two runs are independent: both start at once, each test waits for its own.
// node is started by its absolute path; PATH holds no java.
const empty = mkdtempSync(join(tmpdir(), 'no-java-'));
const tmp = mkdtempSync(join(tmpdir(), 'test-tmp-'));
let withoutJava: ReturnType<typeof runVitest>;
let synthRun: ReturnType<typeof runVitest>;
beforeAll(() => {
  withoutJava = runVitest('test/integration/quota-engine.test.ts', { PATH: empty });
  synthRun = runVitest('test/infra/cdk-nag.test.ts', { TMPDIR: tmp });
});
afterAll(async () => {
  await Promise.allSettled([withoutJava, synthRun]);
  rmSync(empty, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
}, 130_000);

describe('npm test', () => {
  it('says in one line how to install Java when it is missing, with no stack trace', async () => {
    const { status, output } = await withoutJava;
    expect(status).toBe(1);
    const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !/^RUN\b/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Java runtime.*apt-get install -y default-jre-headless/);
    expect(output).not.toMatch(/No test files found|❯|at .*\.js:\d+/);
  }, 120_000);

  it('removes the CDK assembly folders its synth tests create', async () => {
    const { status, output } = await synthRun;
    expect(status, output).toBe(0);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(readdirSync(tmp).filter((name) => name.startsWith('cdk-test-'))).toEqual([]);
  }, 120_000);
});
