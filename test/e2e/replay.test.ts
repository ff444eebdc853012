/**
 * `npm run replay` (scripts/replay.ts) as an operator runs it, a child process
 * against a running local runtime: every fixture, rewritten to a number the
 * fixtures never name, answers 200 and lands on that number without a dead
 * letter; a file that is not JSON, and a consumer that fails, are reported and
 * fail the run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../functions/adapters/local/event-bus.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { localClient } from '../support/local-client.js';
import { FIXTURES_DIR, fixtureNames } from '../support/webhook.js';

/** Connected to the test's account and named by no fixture: every routed event proves a rewrite. */
const NUMBER = { displayPhoneNumber: '15550009901', phoneNumberId: '110000000009901', wabaId: '210000000009901' };

let runtime: LocalRuntime;
let accountId: string;
const scratch = mkdtempSync(join(tmpdir(), 'replay-e2e-'));

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, bus: { retryDelayMs: 5 } });
  const client = localClient(runtime);
  const support = await client.token({ role: 'support' });
  const created = await client.api('POST', '/v1/admin/accounts', support, {
    name: 'Replay',
    plan: { users: 2, teams: 1, chatbotSessions: 10, aiResponses: 10 },
    creditsMicros: 10_000_000,
  });
  expect(created.status).toBe(201);
  accountId = created.body.accountId;
  const owner = await client.token({ role: 'owner', accountId });
  expect((await client.api('POST', '/v1/numbers', owner, { name: 'Replay', ...NUMBER })).status).toBe(201);
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the script as `npm run replay` does (`tsx scripts/replay.ts …`), to its exit. */
function replay(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const webhookEvents = async () =>
  ((await (await fetch(`${runtime.url}/local/bus/events`)).json()) as { items: RecordedEvent[] }).items.filter((r) => r.event.source === 'whatsapp.webhook');

describe('npm run replay', () => {
  it('replays every fixture onto the --to number: all 200, all routed, no dead letter, exit 0', async () => {
    const files = fixtureNames();
    const run = await replay([FIXTURES_DIR, '--to', NUMBER.displayPhoneNumber, '--account', accountId, '--url', runtime.url, '--json']);
    expect(run.stderr).toContain(`${files.length}/${files.length}`);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      files: files.length,
      byStatus: { '200': files.length },
      failed: [],
      target: { whatsappPhno: NUMBER.displayPhoneNumber, phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId },
      deadLetters: [],
    });
    // unknown-number.json names a number connected nowhere: rewritten, it routes like the rest.
    expect(report.totals.unrouted).toBe(0);
    expect(report.totals.published).toBeGreaterThanOrEqual(files.length);
    expect(run.code).toBe(0);

    const events = await webhookEvents();
    expect(events.length).toBeGreaterThanOrEqual(report.totals.published);
    expect(new Set(events.map((r) => (r.event.detail as { whatsapp_phno: string }).whatsapp_phno))).toEqual(new Set([NUMBER.displayPhoneNumber]));
    expect(events.map((r) => (r.event.detail as { eventId: string }).eventId)).toEqual(expect.arrayContaining(['wamid.IN_TEXT_0001', 'wamid.OUT_BROADCAST_0001:read']));
  });

  it('reports a file that is not JSON with its answer, skips MANIFEST.json, and exits 1', async () => {
    const folder = join(scratch, 'mixed');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    copyFileSync(join(FIXTURES_DIR, 'text-message.json'), join(folder, 'text-message.json'));
    copyFileSync(join(FIXTURES_DIR, 'status-delivered.json'), join(folder, 'nested', 'status-delivered.json'));
    writeFileSync(join(folder, 'broken.json'), '{"object": "whatsapp_business_account", "entry": [');
    // Posted, it would answer 400: skipping it is what keeps the count at 3.
    writeFileSync(join(folder, 'MANIFEST.json'), '{"about": "an index, not a delivery"}');
    const run = await replay([folder, '--to', NUMBER.displayPhoneNumber, '--account', accountId, '--url', runtime.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('replay: 3 files');
    expect(run.stdout).toContain('answers: 200 ×2, 400 ×1');
    expect(run.stdout).toMatch(/not 200: 1\n\s+\S*broken\.json: 400 .*\(not JSON .*posted unchanged\)/);
    expect(run.stdout).toContain('dead letters during the run: 0');
  });

  it('reports the dead letters that appear during the run, with the file they came from, and exits 1', async () => {
    // A consumer that reports every record of its batch failed, as a partial-batch Lambda does.
    const failEvery = async (batch: { Records: { messageId: string }[] }) => ({ batchItemFailures: batch.Records.map((r) => ({ itemIdentifier: r.messageId })) });
    const unregister = runtime.bus.register('automation', failEvery, 'failing-automation');
    try {
      const run = await replay([join(FIXTURES_DIR, 'image-message.json'), '--to', NUMBER.displayPhoneNumber, '--account', accountId, '--url', runtime.url, '--json']);
      const report = JSON.parse(run.stdout);
      expect(report.byStatus).toEqual({ '200': 1 });
      expect(report.deadLetters).toEqual([
        expect.objectContaining({ consumer: 'failing-automation', rule: 'automation', error: 'reported in batchItemFailures', files: [join(FIXTURES_DIR, 'image-message.json')] }),
      ]);
      expect(run.code).toBe(1);
    } finally {
      unregister();
    }
  });

  it('refuses --to without the account, and a number the account does not have, with exit 2', async () => {
    const noAccount = await replay([FIXTURES_DIR, '--to', NUMBER.displayPhoneNumber, '--url', runtime.url]);
    expect(noAccount.code).toBe(2);
    expect(noAccount.stderr).toContain('--to needs the account');
    const elsewhere = await replay([FIXTURES_DIR, '--to', '15550001001', '--account', accountId, '--url', runtime.url]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`15550001001 is not connected to that account (its numbers: ${NUMBER.displayPhoneNumber})`);
  });
});
