/**
 * Sequence enrolments through the same router the Lambda runs, on DynamoDB
 * Local: `POST/GET/DELETE /v1/sequences/{id}/enrollments` (201 / 200 when
 * already enrolled / 204 / 404 / 400 naming the field), roles, cursor paging
 * and account isolation; and `PATCH /v1/account {timeZone}`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoSequenceStore } from '../../functions/adapters/dynamo/sequence-store.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { purchaseAddon } from '../../functions/core/accounts.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import { connectNumber } from '../../functions/core/numbers.js';
import type { StepScheduler } from '../../functions/core/sequence-ports.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { type FixtureNumber, RecordingSender, textEvent } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;
let deps: ReturnType<typeof adaptersFor>;
let inbox: DynamoInboxRepository;
const scheduled: { name: string; at: Date; due: SequenceStepDue }[] = [];

beforeAll(async () => {
  table = await createTestTable('sequences-api');
  deps = adaptersFor(table);
  inbox = new DynamoInboxRepository(table.doc, table.tableName, { now: () => new Date() });
  const stepScheduler: StepScheduler = { schedule: async (request) => void scheduled.push(request) };
  const base = createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() });
  // What the API composition root adds for sequences.
  api = createApi({ ...base, sequences: new DynamoSequenceStore(table.doc, table.tableName), stepScheduler }, { onUnexpectedError: (error) => console.error('UNEXPECTED', error) });
});

const send = (request: ApiRequest) => call(api, request);
const admin = (accountId: string) => ({ role: 'admin' as const, accountId });
const agent = (accountId: string) => ({ role: 'agent' as const, accountId });
const MARIA = '5511987650001';
const JOAO = '5511987650002';

let numberSeq = 0;
const numbers = new Map<string, { main: FixtureNumber; other: FixtureNumber }>();

/** An account with two connected numbers and a conversation of Maria on the first. */
async function account() {
  const { accountId } = await newAccount(deps);
  const pair = [] as FixtureNumber[];
  for (const name of ['Support', 'Vendas']) {
    if (pair.length > 0) await purchaseAddon(deps, accountId, { type: 'number', quantity: 1 }, `addon-${accountId}`);
    const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++numberSeq).padStart(3, '0')}`;
    const number = { whatsapp_phno: `1556${n}`, phoneNumberId: `4${n}01`, wabaId: `3${n}01` };
    await connectNumber(deps, accountId, { name, ...number }, `connect-${number.whatsapp_phno}`);
    pair.push(number);
  }
  numbers.set(accountId, { main: pair[0]!, other: pair[1]! });
  await writes(accountId, MARIA);
  return accountId;
}

async function writes(accountId: string, from: string) {
  await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(textEvent(accountId, { from, number: numbers.get(accountId)!.main }))));
}

/** Every account's conversations are on numbers of its own; the ids differ only by the number. */
let current = '';
const conversationId = (from: string, accountId = current) => `${numbers.get(accountId)!.main.whatsapp_phno}_${from}`;

/** The fields a 400 names. */
const paths = (body: { error: { issues: { path: (string | number)[] }[] } }) => body.error.issues.map((issue) => issue.path.join('.'));

async function sequence(accountId: string, body: Record<string, unknown> = {}) {
  const res = await send({
    method: 'POST',
    path: '/v1/automations/sequences',
    as: admin(accountId),
    body: { name: 'Onboarding', steps: [{ delay: { minutes: 5 }, message: { text: 'Welcome!' } }], ...body },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('POST /v1/sequences/{id}/enrollments', () => {
  it('enrols (201), answers the active enrolment when enrolled already (200), and schedules the first step once', async () => {
    const accountId = await account();
    current = accountId;
    const id = await sequence(accountId);
    const path = `/v1/sequences/${id}/enrollments`;
    const first = await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: conversationId(MARIA) } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      sequenceId: id,
      conversationId: conversationId(MARIA),
      whatsapp_phno: numbers.get(accountId)!.main.whatsapp_phno,
      status: 'active',
      nextStep: 0,
      enrolledBy: 'api',
      steps: [],
      endedAt: null,
    });
    expect(Date.parse(first.body.nextDueAt) - Date.parse(first.body.enrolledAt)).toBe(5 * 60_000);
    const again = await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: conversationId(MARIA) } });
    expect(again.status).toBe(200);
    expect(again.body.enrollmentId).toBe(first.body.enrollmentId);
    const names = new Set(scheduled.filter((s) => s.due.enrollmentId === first.body.enrollmentId).map((s) => s.name));
    expect(names).toEqual(new Set([`seq-${first.body.enrollmentId}-0`]));
  });

  it('answers 400 naming the field, 404 for an unknown sequence or conversation, 409 for a disabled sequence, 403 for an agent', async () => {
    const accountId = await account();
    current = accountId;
    const id = await sequence(accountId);
    const path = `/v1/sequences/${id}/enrollments`;

    const bad = await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(paths(bad.body)).toEqual(['body.conversationId']);
    const missing = await send({ method: 'POST', path, as: admin(accountId), body: {} });
    expect(missing.status).toBe(400);
    expect(paths(missing.body)).toEqual(['body.conversationId']);

    expect((await send({ method: 'POST', path: '/v1/sequences/seq_unknown000/enrollments', as: admin(accountId), body: { conversationId: conversationId(MARIA) } })).status).toBe(404);
    expect((await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: conversationId(JOAO) } })).status).toBe(404);

    const rule = await sequence(accountId, { scope: { whatsapp_phno: numbers.get(accountId)!.other.whatsapp_phno } });
    const otherNumber = await send({ method: 'POST', path: `/v1/sequences/${rule}/enrollments`, as: admin(accountId), body: { conversationId: conversationId(MARIA) } });
    expect(otherNumber.status).toBe(400);
    expect(paths(otherNumber.body)).toEqual(['body.conversationId']);

    const off = await sequence(accountId, { enabled: false });
    const disabled = await send({ method: 'POST', path: `/v1/sequences/${off}/enrollments`, as: admin(accountId), body: { conversationId: conversationId(MARIA) } });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.code).toBe('SEQUENCE_DISABLED');

    expect((await send({ method: 'POST', path, as: agent(accountId), body: { conversationId: conversationId(MARIA) } })).status).toBe(403);
  });

  it("never reaches another account's sequence or conversation", async () => {
    const mine = await account();
    const theirs = await account();
    const id = await sequence(theirs);
    // Their sequence with my conversation, and my sequence with their conversation: neither exists for me.
    const res = await send({ method: 'POST', path: `/v1/sequences/${id}/enrollments`, as: admin(mine), body: { conversationId: conversationId(MARIA, mine) } });
    expect(res.status).toBe(404);
    const own = await sequence(mine);
    const across = await send({ method: 'POST', path: `/v1/sequences/${own}/enrollments`, as: admin(mine), body: { conversationId: conversationId(MARIA, theirs) } });
    expect(across.status).toBe(404);
  });
});

describe('GET and DELETE /v1/sequences/{id}/enrollments', () => {
  it('lists oldest first with cursor paging (agents read), and DELETE ends the active enrolment (204, then 404)', async () => {
    const accountId = await account();
    current = accountId;
    const id = await sequence(accountId);
    const path = `/v1/sequences/${id}/enrollments`;
    const contacts = [MARIA, JOAO, '5511987650003'];
    for (const from of contacts.slice(1)) await writes(accountId, from);
    for (const from of contacts) {
      expect((await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: conversationId(from) } })).status).toBe(201);
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await send({ method: 'GET', path, as: agent(accountId), query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e: { conversationId: string }) => e.conversationId));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(contacts.map((from) => conversationId(from)));
    expect((await send({ method: 'GET', path, as: agent(accountId), query: { cursor: 'forged' } })).status).toBe(400);

    const del = `${path}/${conversationId(JOAO)}`;
    expect((await send({ method: 'DELETE', path: del, as: agent(accountId) })).status).toBe(403);
    expect((await send({ method: 'DELETE', path: del, as: admin(accountId) })).status).toBe(204);
    expect((await send({ method: 'DELETE', path: del, as: admin(accountId) })).status).toBe(404);
    expect((await send({ method: 'DELETE', path: `${path}/not-a-conversation`, as: admin(accountId) })).status).toBe(400);

    const { body } = await send({ method: 'GET', path, as: agent(accountId) });
    expect(body.items.find((e: { conversationId: string }) => e.conversationId === conversationId(JOAO))).toMatchObject({ status: 'left', endReason: 'deleted' });
    // Ended: the contact may be enrolled again, as a new enrolment.
    expect((await send({ method: 'POST', path, as: admin(accountId), body: { conversationId: conversationId(JOAO) } })).status).toBe(201);
  });
});

describe('PATCH /v1/account {timeZone}', () => {
  it('sets an IANA time zone (UTC by default) and refuses another with 400 on body.timeZone', async () => {
    const { accountId } = await newAccount(deps);
    expect((await send({ method: 'GET', path: '/v1/account', as: admin(accountId) })).body.timeZone).toBe('UTC');
    const set = await send({ method: 'PATCH', path: '/v1/account', as: admin(accountId), body: { timeZone: 'America/Sao_Paulo' } });
    expect(set.status).toBe(200);
    expect(set.body.timeZone).toBe('America/Sao_Paulo');
    expect((await deps.accounts.get(accountId))!.timeZone).toBe('America/Sao_Paulo');

    const bad = await send({ method: 'PATCH', path: '/v1/account', as: admin(accountId), body: { timeZone: 'Mars/Olympus' } });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(['body.timeZone']);
    expect((await send({ method: 'PATCH', path: '/v1/account', as: agent(accountId), body: { timeZone: 'UTC' } })).status).toBe(403);
  });

  it('takes a time zone when an operator creates the account', async () => {
    const res = await send({
      method: 'POST',
      path: '/v1/admin/accounts',
      as: { role: 'support' },
      body: { name: 'Zoned', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 }, timeZone: 'Europe/Lisbon' },
    });
    expect(res.status).toBe(201);
    expect(res.body.timeZone).toBe('Europe/Lisbon');
    const bad = await send({ method: 'POST', path: '/v1/admin/accounts', as: { role: 'support' }, body: { name: 'Bad', plan: { users: 1, teams: 1, chatbotSessions: 1, aiResponses: 1 }, timeZone: 'Nowhere' } });
    expect(bad.status).toBe(400);
    expect(paths(bad.body)).toEqual(['body.timeZone']);
  });
});
