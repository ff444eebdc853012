/**
 * What a new user meets in the first minutes of `npm start`: nothing answers
 * before it is ready, an oversize body gets a readable 413, tokens survive a
 * `--persist` restart, and `kill <pid>` stops the whole tree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { mintToken as token, portOpen, startLocalProcess, stopProcess, until } from '../support/local-process.js';

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

describe('ready means ready', () => {
  it('never answers 5xx to requests fired from the instant the port accepts connections', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', String(port)], {
      cwd: process.cwd(),
      env: { ...process.env, PORT: '' },
      stdio: 'ignore',
    });
    children.push(child);
    expect(await until(() => portOpen(port), 45_000, 2)).toBe(true);
    const url = `http://127.0.0.1:${port}`;
    const statuses: number[] = [];
    const deadline = Date.now() + 1_500;
    while (Date.now() < deadline) {
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
    child.kill('SIGTERM');
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // The first requests got real answers: a token, a 404 for an unknown account with it, 401 without, the handshake.
    expect(new Set(statuses)).toEqual(new Set([200, 404, 401]));
  });
});

describe('an oversize body', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime({ port: 0 });
  });
  afterAll(() => runtime.stop());

  for (const megabytes of [6, 20]) {
    it(`gets its 413 through fetch, not a connection reset (${megabytes} MB)`, async () => {
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
    const runtime = await startLocalRuntime({ port: 0 });
    try {
      const res = await fetch(`${runtime.url}/v1/account`, { headers: { authorization: 'Bearer not-a-token' } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/key made for this run.*--persist/);
    } finally {
      await runtime.stop();
    }
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
    const started = await start('node', ['--port', '0']);
    started.child.kill('SIGKILL');
    expect(await until(async () => !(await portOpen(started.dynamoPort)), 15_000)).toBe(true);
  });
});
