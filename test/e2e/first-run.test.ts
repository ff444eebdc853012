/**
 * What a new user meets in the first minutes of `npm start`: nothing answers
 * before it is ready, an oversize body gets a readable 413, tokens survive a
 * `--persist` restart, and `kill <pid>` stops the whole tree.
 *
 * Each start is a JVM (DynamoDB Local) and a runtime: the process the first
 * test starts serves the tests that only need a running, in-memory `npm start`
 * and is, last, the one killed without cleaning up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { banner, bannerPorts, collectOutput, mintToken as token, portOpen, startLocalProcess, stopProcess, until } from '../support/local-process.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the runtime as `npm start` does (through npm, or as its script execs it) and waits for its banner. */
async function start(via: 'npm' | 'node', args: string[]) {
  const started = await startLocalProcess(args, { via });
  children.push(started.child);
  return started;
}

/** The in-memory runtime the first test starts (as `npm start`'s script execs it), once its port is open. */
let shared: { child: ChildProcess; url: string; output: () => string } | undefined;

async function startShared(): Promise<{ child: ChildProcess; url: string; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', String(port)], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  shared = { child, url: `http://127.0.0.1:${port}`, output: collectOutput(child) };
  return { child, url: shared.url, port };
}

/** The shared runtime, started (and waited for) here when its test was not run. */
async function sharedRuntime(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  if (!shared) await startShared();
  expect(await banner(shared!.child, shared!.output, 45_000), shared!.output()).toBe(true);
  return shared!;
}

describe('ready means ready', () => {
  it('never answers 5xx to requests fired from the instant the port accepts connections', async () => {
    const { port, url } = await startShared();
    expect(await until(() => portOpen(port), 45_000, 2)).toBe(true);
    const statuses: number[] = [];
    const deadline = Date.now() + 1_500;
    // For 1.5 s, and at least four rounds (a loaded machine answers fewer in that time).
    for (let round = 0; Date.now() < deadline || round < 4; round++) {
      const answers = await Promise.all([
        fetch(`${url}/local/token`, { method: 'POST', body: '{"role":"support"}' }).then(async (r) => {
          if (r.status !== 200) return [r.status];
          const { token: bearer } = (await r.json()) as { token: string };
          const account = await fetch(`${url}/v1/account`, { headers: { authorization: `Bearer ${bearer}`, 'x-account-id': 'acc_doesnotexist' } });
          return [r.status, account.status];
        }),
        fetch(`${url}/v1/account`).then((r) => [r.status]),
        fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=local-verify-token&hub.challenge=7`).then((r) => [r.status]),
      ]);
      statuses.push(...answers.flat());
    }
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // The first requests got real answers: a token, a 404 for an unknown account with it, 401 without, the handshake.
    expect(new Set(statuses)).toEqual(new Set([200, 404, 401]));
  });
});

describe('an oversize body', () => {
  for (const megabytes of [6, 20]) {
    it(`gets its 413 through fetch, not a connection reset (${megabytes} MB)`, async () => {
      const runtime = await sharedRuntime();
      const res = await fetch(`${runtime.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(megabytes * 1024 * 1024, 0x20) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
      // The server goes on answering.
      expect((await fetch(`${runtime.url}/v1/account`)).status).toBe(401);
    });
  }
});

describe('tokens and restarts', () => {
  it('keeps a token valid across a restart with --persist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'persist-token-'));
    try {
      const first = await start('node', ['--port', '0', '--persist', dir]);
      const support = await token(first.url, { role: 'support' });
      const created = await fetch(`${first.url}/v1/admin/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Kept', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 } }),
      });
      const { accountId } = (await created.json()) as { accountId: string };
      const owner = await token(first.url, { role: 'owner', accountId });
      await stopProcess(first.child, 'SIGTERM');

      const second = await start('node', ['--port', '0', '--persist', dir]);
      const res = await fetch(`${second.url}/v1/account`, { headers: { authorization: `Bearer ${owner}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe('Kept');
      await stopProcess(second.child, 'SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says in the 401 that in-memory tokens are minted per run', async () => {
    const runtime = await sharedRuntime();
    const res = await fetch(`${runtime.url}/v1/account`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/key made for this run.*--persist/);
  });
});

describe('stopping', () => {
  it('`kill <pid of npm start>` stops the server and DynamoDB Local', async () => {
    const started = await start('npm', ['--port', '0']);
    expect(await portOpen(started.dynamoPort)).toBe(true);
    started.child.kill('SIGTERM');
    expect(await until(async () => !(await portOpen(started.port)) && !(await portOpen(started.dynamoPort)), 15_000)).toBe(true);
  });

  it('DynamoDB Local dies with its parent even when the parent is killed without cleaning up', async () => {
    const started = await sharedRuntime();
    const { dynamoPort } = bannerPorts(started.output());
    expect(await portOpen(dynamoPort)).toBe(true);
    started.child.kill('SIGKILL');
    expect(await until(async () => !(await portOpen(dynamoPort)), 15_000)).toBe(true);
  });
});
