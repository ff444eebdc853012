/**
 * `npm start` as a newcomer runs it: real child processes, real HTTP, real
 * DynamoDB Local; Ctrl-C (SIGINT) stops everything, Java included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

interface Started {
  child: ChildProcess;
  url: string;
  dynamoPort: number;
  output: () => string;
}

const started: Started[] = [];
afterAll(() => {
  for (const s of started) s.child.kill('SIGKILL');
});

async function npmStart(extraArgs: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', '0', ...extraArgs], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 45_000;
  while (!/Ctrl-C/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
  const dynamoPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  const s = { child, url, dynamoPort, output: () => output };
  started.push(s);
  return s;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function token(url: string, body: object) {
  const res = await fetch(`${url}/local/token`, { method: 'POST', body: JSON.stringify(body) });
  return ((await res.json()) as { token: string }).token;
}

describe('npm start', () => {
  it('serves the walkthrough: token, account, seats until refused, one top-up for two requests', async () => {
    const { url } = await npmStart();
    const support = await token(url, { role: 'support' });
    const created = await fetch(`${url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Acme', plan: { users: 1, teams: 1, chatbotSessions: 10, aiResponses: 10 }, creditsMicros: 50_000_000 }),
    });
    expect(created.status).toBe(201);
    const { accountId } = (await created.json()) as { accountId: string };
    const owner = await token(url, { role: 'owner', accountId });
    const headers = { authorization: `Bearer ${owner}`, 'content-type': 'application/json' };
    const seat = (email: string) => fetch(`${url}/v1/users`, { method: 'POST', headers, body: JSON.stringify({ email, role: 'agent' }) });
    expect((await seat('a@example.com')).status).toBe(201);
    const refused = await seat('b@example.com');
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('QUOTA_EXCEEDED');
    const topup = () =>
      fetch(`${url}/v1/credits/topups`, { method: 'POST', headers: { ...headers, 'idempotency-key': 'walkthrough-1' }, body: JSON.stringify({ amountMicros: 5_000_000 }) });
    expect(await (await topup()).json()).toEqual({ balanceMicros: 55_000_000 });
    expect(await (await topup()).json()).toEqual({ balanceMicros: 55_000_000 });
  });

  it("answers Meta's verification handshake", async () => {
    const { url } = started[0] ?? (await npmStart());
    const ok = await fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=local-verify-token&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${url}/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  it('refuses a missing or forged token with 401', async () => {
    const { url } = started[0] ?? (await npmStart());
    expect((await fetch(`${url}/v1/account`)).status).toBe(401);
    const forged = 'eyJhbGciOiJub25lIn0.eyJjdXN0b206cm9sZSI6InN1cHBvcnQifQ.';
    expect((await fetch(`${url}/v1/account`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it('runs a second instance beside the first, each with its own data', async () => {
    const first = started[0] ?? (await npmStart());
    const second = await npmStart();
    expect(second.url).not.toBe(first.url);
    expect(second.dynamoPort).not.toBe(first.dynamoPort);
    const support = await token(second.url, { role: 'support' });
    // A token of the first instance is not valid on the second: each generates its own key.
    const foreign = await token(first.url, { role: 'support' });
    expect((await fetch(`${second.url}/v1/account`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
    expect((await fetch(`${second.url}/v1/account`, { headers: { authorization: `Bearer ${support}`, 'x-account-id': 'acc_doesnotexist' } })).status).toBe(404);
  });

  it('stops everything on Ctrl-C, DynamoDB Local included', async () => {
    for (const s of started) {
      expect(await portOpen(s.dynamoPort)).toBe(true);
      const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
      s.child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(await portOpen(s.dynamoPort)).toBe(false);
    }
  });
});

describe('npm start options', () => {
  it('keeps data across restarts with --persist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'persist-'));
    try {
      const first = await npmStart(['--persist', dir]);
      const support = await token(first.url, { role: 'support' });
      const created = await fetch(`${first.url}/v1/admin/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Kept', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 } }),
      });
      const { accountId } = (await created.json()) as { accountId: string };
      first.child.kill('SIGINT');
      await new Promise((resolve) => first.child.once('exit', resolve));

      const second = await npmStart(['--persist', dir]);
      const owner = await token(second.url, { role: 'owner', accountId });
      const res = await fetch(`${second.url}/v1/account`, { headers: { authorization: `Bearer ${owner}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { name: string }).name).toBe('Kept');
      second.child.kill('SIGINT');
      await new Promise((resolve) => second.child.once('exit', resolve));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says in one line how to install Java when it is missing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', '0'], {
      cwd: process.cwd(),
      env: { ...process.env, PATH: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Java runtime.*apt-get install -y default-jre-headless/);
  });
});
