/**
 * A sequence step's timer across a restart of `npm start --persist DIR`: a
 * contact is enrolled (first step a minute later), the process gets SIGTERM
 * before the step is due, and while it is down the step's time passes. Started
 * again on the same folder, it sends the step once, at once, schedules the
 * next one, and keeps nothing of the fired timer for a later start.
 *
 * Each start is a real process (a JVM with DynamoDB Local and the runtime).
 * The minute the step waits is not waited for: the persisted timer's time is
 * moved to the past while the process is down, which is what a restart after
 * the due time finds (`functions/adapters/local/timers.ts` arms a timer whose
 * time passed at once).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../local/runtime.js';
import { eventually } from '../support/local-client.js';
import { mintToken, startLocalProcess, stopProcess } from '../support/local-process.js';
import { inboundTexts, messagesDelivery } from '../support/meta-payloads.js';
import { sign } from '../support/webhook.js';

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'persist-timers-'));
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const NUMBER = { displayPhoneNumber: '15550008001', phoneNumberId: '110000000008001', wabaId: '210000000008001' };
const ANA = '5511988880001';
const TIMERS_FILE = join(dir, 'sequence-steps.json');

async function start() {
  const started = await startLocalProcess(['--port', '0', '--persist', dir], { via: 'node' });
  children.push(started.child);
  return started;
}

function client(url: string) {
  return async (method: string, path: string, bearer?: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Ana writes to the number, as Meta delivers it: signed with the local app secret, stamped now. */
async function anaWrites(url: string, text: string) {
  const raw = JSON.stringify(messagesDelivery([NUMBER, inboundTexts(ANA, 'Ana', [{ id: `wamid.PERSIST_${Date.now()}`, body: text }])]));
  const res = await fetch(`${url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw, LOCAL_DEFAULTS.WHATSAPP_APP_SECRET) }, body: raw });
  expect(res.status).toBe(200);
}

interface StepTimer {
  name: string;
  at: string;
  due: { enrollmentId: string; step: number };
}

const sentToAna = async (url: string) => ((await client(url)('GET', '/local/graph/messages')).body.items as { to: string; text?: string }[]).filter((m) => m.to === ANA);

describe('sequence step timers across a --persist restart', () => {
  it('fire once after a SIGTERM and a restart on the same folder, the next step scheduled', async () => {
    // ---- first run: an account, a number, Ana's message, a two-step sequence, Ana enrolled.
    const first = await start();
    const api = client(first.url);
    const support = await mintToken(first.url, { role: 'support' });
    const created = await api('POST', '/v1/admin/accounts', support, { name: 'Timers', plan: { users: 2, teams: 1, chatbotSessions: 1, aiResponses: 1 }, creditsMicros: 1_000_000 });
    expect(created.status).toBe(201);
    const owner = await mintToken(first.url, { role: 'owner', accountId: created.body.accountId });
    expect((await api('POST', '/v1/numbers', owner, { name: 'Main', ...NUMBER })).status).toBe(201);
    await anaWrites(first.url, 'Oi!');
    const conversationId = `${NUMBER.displayPhoneNumber}_${ANA}`;
    const conversation = await eventually(
      async () => (await api('GET', `/v1/conversations/${conversationId}/messages`, owner)).body?.items ?? [],
      (items: unknown[]) => items.length === 1,
      15_000,
    );
    expect(conversation).toHaveLength(1);
    const sequence = await api('POST', '/v1/automations/sequences', owner, {
      name: 'Onboarding',
      steps: [
        { delay: { minutes: 1 }, message: { text: 'Step one: welcome!' } },
        { delay: { days: 1 }, message: { text: 'Step two: how is it going?' } },
      ],
    });
    expect(sequence.status).toBe(201);
    const enrolled = await api('POST', `/v1/sequences/${sequence.body.id}/enrollments`, owner, { conversationId });
    expect(enrolled.status).toBe(201);
    const { enrollmentId } = enrolled.body;

    const waiting = (await api('GET', '/local/sequence-steps')).body.items as StepTimer[];
    expect(waiting).toEqual([expect.objectContaining({ due: expect.objectContaining({ enrollmentId, step: 0 }) })]);
    const stepOne = waiting[0]!;
    expect(Date.parse(stepOne.at) - Date.parse(enrolled.body.enrolledAt)).toBe(60_000);
    // Not due yet: nothing went to Ana in this run.
    expect(await sentToAna(first.url)).toEqual([]);
    expect(await stopProcess(first.child, 'SIGTERM')).toBe(0);

    // ---- down: the step's time passes. The timer was kept in the folder.
    const kept = JSON.parse(readFileSync(TIMERS_FILE, 'utf8')) as StepTimer[];
    expect(kept).toEqual([stepOne]);
    writeFileSync(TIMERS_FILE, JSON.stringify([{ ...stepOne, at: new Date(Date.now() - 1_000).toISOString() }], null, 2));

    // ---- second run on the same folder: the step goes once, the next one is scheduled.
    const second = await start();
    const again = client(second.url);
    const sent = await eventually(() => sentToAna(second.url), (items) => items.length >= 1, 20_000);
    expect(sent.map((m) => m.text)).toEqual(['Step one: welcome!']);
    const next = await eventually(
      async () => (await again('GET', '/local/sequence-steps')).body.items as StepTimer[],
      (items) => items.some((t) => t.due.step === 1),
      10_000,
    );
    expect(next).toEqual([expect.objectContaining({ due: expect.objectContaining({ enrollmentId, step: 1 }) })]);
    expect(next.map((t) => t.name)).not.toContain(stepOne.name);
    const enrollments = await again('GET', `/v1/sequences/${sequence.body.id}/enrollments`, owner);
    expect(enrollments.status).toBe(200);
    expect(enrollments.body.items).toEqual([expect.objectContaining({ enrollmentId, status: 'active', nextStep: 1, steps: [expect.objectContaining({ step: 0, outcome: 'sent' })] })]);
    // Whatever is still under way settles, and still one message went.
    await again('POST', '/local/bus/drain');
    expect((await sentToAna(second.url)).map((m) => m.text)).toEqual(['Step one: welcome!']);
    expect(await stopProcess(second.child, 'SIGTERM')).toBe(0);

    // What a third start would arm: the next step only, never the one that fired.
    const left = JSON.parse(readFileSync(TIMERS_FILE, 'utf8')) as StepTimer[];
    expect(left.map((t) => [t.due.enrollmentId, t.due.step])).toEqual([[enrollmentId, 1]]);
  }, 120_000);
});
