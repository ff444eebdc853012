/**
 * `npm start` as a newcomer runs it: real child processes, real HTTP, real
 * DynamoDB Local; Ctrl-C (SIGINT) stops everything, Java included.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { type StartedProcess, mintToken as token, portOpen, startLocalProcess, stopProcess } from '../support/local-process.js';

const started: StartedProcess[] = [];
afterAll(() => {
  for (const s of started) s.child.kill('SIGKILL');
});

async function npmStart(): Promise<StartedProcess> {
  const s = await startLocalProcess(['--port', '0']);
  started.push(s);
  return s;
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
      expect(await stopProcess(s.child, 'SIGINT')).toBe(0);
      expect(await portOpen(s.dynamoPort)).toBe(false);
    }
  });
});

describe('npm start options', () => {
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
