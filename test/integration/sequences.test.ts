/**
 * Sequences (timed follow-ups) on DynamoDB Local: enrolments and the step
 * runner through the same deps the automation consumer builds
 * (`createSequenceDeps`), on a virtual clock. Only Meta (a recording
 * `MessageSender`) and the scheduler (a recording `StepScheduler`, idempotent
 * by name as the port says) are faked; due events are delivered by hand, as
 * often and as concurrently as a test wants.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { DynamoTemplateRepository } from '../../functions/adapters/dynamo/template-repository.js';
import { createSequenceDeps } from '../../functions/automation/sequence-deps.js';
import { createAccount } from '../../functions/core/accounts.js';
import { createAutomation, replaceAutomation } from '../../functions/core/automations.js';
import { processInboxEvent } from '../../functions/core/inbox-consumer.js';
import type { ConversationRef } from '../../functions/core/inbox-ports.js';
import { connectNumber } from '../../functions/core/numbers.js';
import type { Clock } from '../../functions/core/ports.js';
import { processSequenceStepDue } from '../../functions/core/sequence-runner.js';
import type { StepScheduler } from '../../functions/core/sequence-ports.js';
import { cancelEnrollment, keyOf, sequenceEnrolments } from '../../functions/core/sequences.js';
import { parseInboxRecord } from '../../functions/inbox/events.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import { sequenceBody } from '../../schemas/automations.js';
import { DEFAULT_PLAN, adaptersFor } from '../support/accounts.js';
import { FLAT_RATE_CARD } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { RecordingSender, textEvent } from '../support/inbox.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('sequences');
});

// ------------------------------------------------------------------ doubles

class VirtualClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  set(at: Date | string): void {
    this.at = new Date(at).getTime();
  }
}

/** Keeps the first schedule of each name (as EventBridge Scheduler and the local timers do) and counts every call. */
class RecordingScheduler implements StepScheduler {
  readonly calls: { name: string; at: Date; due: SequenceStepDue }[] = [];
  readonly schedules = new Map<string, { name: string; at: Date; due: SequenceStepDue }>();
  async schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    this.calls.push(request);
    if (!this.schedules.has(request.name)) this.schedules.set(request.name, request);
  }
  forStep(enrollmentId: string, step: number) {
    return [...this.schedules.values()].filter((s) => s.due.enrollmentId === enrollmentId && s.due.step === step);
  }
}

// ------------------------------------------------------------------- world

let seq = 0;
const MARIA = '5511987650001';

async function world(options: { creditsMicros?: number; timeZone?: string; start?: string } = {}) {
  const clock = new VirtualClock(Date.parse(options.start ?? '2026-03-10T12:00:00Z'));
  const adapters = adaptersFor(table, clock);
  const account = await createAccount(
    adapters,
    { name: `Seq ${++seq}`, plan: DEFAULT_PLAN, creditsMicros: options.creditsMicros ?? 10_000, ...(options.timeZone ? { timeZone: options.timeZone } : {}) },
    `seq-setup-${Date.now()}-${seq}-${Math.random()}`,
  );
  const accountId = account.accountId;
  const n = `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(seq).padStart(3, '0')}`;
  const number = { whatsapp_phno: `1555${n}`, phoneNumberId: `6${n}01`, wabaId: `5${n}01` };
  await connectNumber(adapters, accountId, { name: 'Support', ...number }, `connect-${number.whatsapp_phno}`);
  const meta = new RecordingSender();
  const scheduler = new RecordingScheduler();
  const deps = { ...createSequenceDeps(table.doc, table.tableName, { messaging: meta, scheduler, clock, rateCard: FLAT_RATE_CARD }) };
  const enrolments = sequenceEnrolments(deps);
  const automations = new DynamoAutomationRepository(table.doc, table.tableName);
  const apiDeps = { ...adapters, automations };
  const inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
  const ref: ConversationRef = { accountId, whatsappPhno: number.whatsapp_phno, contactKey: MARIA };

  return {
    accountId,
    account,
    number,
    clock,
    meta,
    scheduler,
    deps,
    enrolments,
    ref,
    adapters,
    async sequence(body: unknown) {
      return createAutomation(apiDeps, accountId, 'sequences', sequenceBody.parse(body));
    },
    async disable(id: string, body: unknown) {
      return replaceAutomation(apiDeps, accountId, 'sequences', id, sequenceBody.parse({ ...(body as object), enabled: false }));
    },
    /** The contact writes (opens the 24-hour window at the clock's time). */
    async contactWrites(text = 'hi') {
      const event = textEvent(accountId, { number, from: MARIA, text, timestamp: Math.floor(clock.now().getTime() / 1000) });
      await processInboxEvent({ inbox }, parseInboxRecord(JSON.stringify(event)));
    },
    async approve(name = 'follow_up', category = 'MARKETING') {
      const templates = new DynamoTemplateRepository(table.doc, table.tableName);
      const at = clock.now().toISOString();
      await templates.createIfAbsent({ accountId, name, language: 'en_US', category, components: [], numbers: {}, wabas: {}, createdAt: at, updatedAt: at });
      await templates.applyMetaStatus({ accountId, name, language: 'en_US' }, { whatsappPhno: number.whatsapp_phno, wabaId: number.wabaId, status: 'APPROVED', occurredAt: at }, at);
    },
    /** The only enrolment of the contact in a sequence (every status). */
    async enrollment(sequenceId: string) {
      const { items } = await deps.sequences.list(accountId, sequenceId, { limit: 100 });
      expect(items).toHaveLength(1);
      return items[0]!;
    },
    /** Moves the clock to the step's schedule and delivers its due event once. */
    async runStep(enrollmentId: string, step: number) {
      const [schedule] = scheduler.forStep(enrollmentId, step).slice(-1);
      if (!schedule) throw new Error(`step ${step} of ${enrollmentId} was never scheduled`);
      clock.set(schedule.at);
      return processSequenceStepDue(deps, schedule.due);
    },
    balance: () => adapters.accounts.balance(accountId),
    texts: () => meta.texts.map((t) => t.text),
  };
}

const TWO_TEXTS = {
  name: 'Onboarding',
  steps: [
    { delay: { minutes: 5 }, message: { text: 'Welcome!' } },
    { delay: { hours: 1 }, message: { text: 'Anything we can help with?' } },
  ],
};

// ------------------------------------------------------------------- tests

describe('a sequence runs its steps in order, each after its delay', () => {
  it('sends both steps of a two-step sequence and completes the enrolment', async () => {
    const w = await world();
    const sequence = await w.sequence(TWO_TEXTS);
    await w.contactWrites();
    const enrolledAt = w.clock.now();
    expect(await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'keyword', at: enrolledAt })).toBe('enrolled');
    const { enrollmentId } = await w.enrollment(sequence.id);

    const [first] = w.scheduler.forStep(enrollmentId, 0);
    expect(first!.at.toISOString()).toBe(new Date(enrolledAt.getTime() + 5 * 60_000).toISOString());
    expect(w.scheduler.forStep(enrollmentId, 1)).toEqual([]);
    expect(await w.runStep(enrollmentId, 0)).toBe('sent');

    const [second] = w.scheduler.forStep(enrollmentId, 1);
    expect(second!.at.toISOString()).toBe(new Date(first!.at.getTime() + 60 * 60_000).toISOString());
    expect(await w.runStep(enrollmentId, 1)).toBe('sent');

    expect(w.texts()).toEqual(['Welcome!', 'Anything we can help with?']);
    expect(w.meta.texts.every((t) => t.phoneNumberId === w.number.phoneNumberId && t.to === MARIA)).toBe(true);
    const done = await w.enrollment(sequence.id);
    expect(done).toMatchObject({ status: 'completed', nextStep: 2, endReason: 'completed', steps: [{ step: 0, outcome: 'sent' }, { step: 1, outcome: 'sent' }] });
    expect(done.steps.every((s) => s.wamid?.startsWith('wamid.'))).toBe(true);
    expect(w.scheduler.schedules.size).toBe(2);
    // Completed frees the slot: the contact may be enrolled again.
    expect(await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'keyword', at: w.clock.now() })).toBe('enrolled');
  });

  it('never sends step 2 to a contact who replied (leaveAll) after step 1', async () => {
    const w = await world();
    const sequence = await w.sequence(TWO_TEXTS);
    await w.contactWrites();
    await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'keyword', at: w.clock.now() });
    const { enrollmentId } = await w.enrollment(sequence.id);
    expect(await w.runStep(enrollmentId, 0)).toBe('sent');

    expect(await w.enrolments.leaveAll(w.ref, 'replied', w.clock.now())).toEqual([sequence.id]);
    expect(await w.enrolments.leaveAll(w.ref, 'replied', w.clock.now())).toEqual([]);
    expect(await w.runStep(enrollmentId, 1)).toBe('stale');

    expect(w.texts()).toEqual(['Welcome!']);
    expect(await w.enrollment(sequence.id)).toMatchObject({ status: 'left', endReason: 'replied', nextStep: 1 });
  });
});

describe('one active enrolment per (sequence, contact, number)', () => {
  it('a race of enrolments stores one, schedules each step once and sends each step once', async () => {
    const w = await world();
    const sequence = await w.sequence(TWO_TEXTS);
    await w.contactWrites();
    const at = w.clock.now();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: i % 2 ? 'keyword' : 'api', at })));
    expect(answers.filter((a) => a === 'enrolled')).toHaveLength(1);
    expect(answers.filter((a) => a === 'already-enrolled')).toHaveLength(7);
    const { enrollmentId } = await w.enrollment(sequence.id);
    expect(w.scheduler.schedules.size).toBe(1);
    expect(new Set(w.scheduler.calls.map((c) => c.due.enrollmentId))).toEqual(new Set([enrollmentId]));

    // Enrolling again while active changes nothing.
    expect(await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'keyword', at: w.clock.now() })).toBe('already-enrolled');
    // Every schedule call (not only the first of each name) delivered: still one send per step.
    for (const call of [...w.scheduler.calls]) {
      w.clock.set(call.at);
      await processSequenceStepDue(w.deps, call.due);
    }
    expect(await w.runStep(enrollmentId, 1)).toBe('sent');
    expect(await w.runStep(enrollmentId, 1)).toBe('duplicate');
    expect(w.texts()).toEqual(['Welcome!', 'Anything we can help with?']);
    expect(w.scheduler.forStep(enrollmentId, 0)).toHaveLength(1);
    expect(w.scheduler.forStep(enrollmentId, 1)).toHaveLength(1);
  });
});

describe('the 24-hour window and the credit pool', () => {
  const LATER = {
    name: 'Win back',
    steps: [
      { delay: { hours: 25 }, message: { text: 'We miss you' } },
      { delay: { minutes: 10 }, message: { template: { name: 'follow_up', language: 'en_US' } } },
    ],
  };

  it('records WINDOW_CLOSED for a text step and sends a template step once, charged once, when delivered twice at once', async () => {
    const w = await world({ creditsMicros: 10_000 });
    await w.approve();
    const sequence = await w.sequence(LATER);
    await w.contactWrites();
    await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'api', at: w.clock.now() });
    const { enrollmentId } = await w.enrollment(sequence.id);

    expect(await w.runStep(enrollmentId, 0)).toBe('not sent: WINDOW_CLOSED');
    expect(w.meta.texts).toEqual([]);

    const [due] = w.scheduler.forStep(enrollmentId, 1);
    w.clock.set(due!.at);
    const settled = await Promise.allSettled([processSequenceStepDue(w.deps, due!.due), processSequenceStepDue(w.deps, due!.due)]);
    const outcomes = settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).name));
    expect(outcomes).toContain('sent');
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    // The loser saw the claim (in flight: retried later) or the recorded step.
    expect(outcomes.every((o) => ['sent', 'duplicate', 'StepInFlight', 'stale'].includes(o))).toBe(true);
    // The queue delivers it again later: nothing more.
    expect(await processSequenceStepDue(w.deps, due!.due)).toBe('duplicate');

    expect(w.meta.templates).toHaveLength(1);
    expect(w.meta.templates[0]).toMatchObject({ phoneNumberId: w.number.phoneNumberId, to: MARIA, template: { name: 'follow_up', language: 'en_US' } });
    expect(await w.balance()).toBe(10_000 - FLAT_RATE_CARD.default.MARKETING);
    const period = (await w.deps.accounts.get(w.accountId))!.billingAnchor;
    const { billingPeriod } = await import('../../functions/core/plan.js');
    expect(await w.adapters.quotas.numberSpend(w.accountId, billingPeriod(period, w.clock.now()).key, w.number.whatsapp_phno)).toBe(1_000);
    const reservation = await w.adapters.quotas.reservation(w.accountId, `seq:${enrollmentId}:1`);
    expect(reservation).toMatchObject({ status: 'settled', amountMicros: 1_000, usedMicros: 1_000 });
    expect(await w.enrollment(sequence.id)).toMatchObject({
      status: 'completed',
      steps: [
        { step: 0, outcome: 'WINDOW_CLOSED' },
        { step: 1, outcome: 'sent' },
      ],
    });
  });

  it('records QUOTA_EXCEEDED, CREDIT_CAP_REACHED and TEMPLATE_NOT_APPROVED without sending or charging', async () => {
    const template = { delay: { minutes: 1 }, message: { template: { name: 'follow_up', language: 'en_US' } } };
    const unapproved = { delay: { minutes: 1 }, message: { template: { name: 'never_approved', language: 'en_US' } } };

    const broke = await world({ creditsMicros: 500 });
    await broke.approve();
    await broke.contactWrites();
    const s1 = await broke.sequence({ name: 'Broke', steps: [template] });
    await broke.enrolments.enroll({ ref: broke.ref, sequenceId: s1.id, by: 'api', at: broke.clock.now() });
    expect(await broke.runStep((await broke.enrollment(s1.id)).enrollmentId, 0)).toBe('not sent: QUOTA_EXCEEDED');
    expect(await broke.balance()).toBe(500);

    const capped = await world({ creditsMicros: 10_000 });
    await capped.approve();
    const number = (await capped.adapters.numbers.get(capped.accountId, capped.number.whatsapp_phno))!;
    await capped.adapters.numbers.update(number, { creditCapMicros: 999 }, capped.clock.now().toISOString());
    await capped.contactWrites();
    const s2 = await capped.sequence({ name: 'Capped', steps: [template, unapproved] });
    await capped.enrolments.enroll({ ref: capped.ref, sequenceId: s2.id, by: 'api', at: capped.clock.now() });
    const { enrollmentId } = await capped.enrollment(s2.id);
    expect(await capped.runStep(enrollmentId, 0)).toBe('not sent: CREDIT_CAP_REACHED');
    expect(await capped.runStep(enrollmentId, 1)).toBe('not sent: TEMPLATE_NOT_APPROVED');
    expect(await capped.balance()).toBe(10_000);

    expect(broke.meta.templates).toEqual([]);
    expect(capped.meta.templates).toEqual([]);
  });
});

describe('sendBetween, in the account time zone', () => {
  it('waits outside the hours and sends at the next from', async () => {
    // 20:00 in São Paulo (UTC-3).
    const w = await world({ timeZone: 'America/Sao_Paulo', start: '2026-03-10T23:00:00Z' });
    const sequence = await w.sequence({ name: 'Office hours', steps: [{ delay: { minutes: 5 }, message: { template: { name: 'follow_up', language: 'en_US' } }, sendBetween: { from: '09:00', to: '18:00' } }] });
    await w.approve();
    await w.contactWrites();
    await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'api', at: w.clock.now() });
    const { enrollmentId } = await w.enrollment(sequence.id);

    expect(await w.runStep(enrollmentId, 0)).toBe('waiting');
    const schedules = w.scheduler.forStep(enrollmentId, 0);
    expect(schedules).toHaveLength(2);
    expect(schedules[1]!.at.toISOString()).toBe('2026-03-11T12:00:00.000Z');
    expect((await w.enrollment(sequence.id)).nextDueAt).toBe('2026-03-11T12:00:00.000Z');
    expect(w.meta.templates).toEqual([]);

    expect(await w.runStep(enrollmentId, 0)).toBe('sent');
    expect(w.meta.templates).toHaveLength(1);
  });
});

describe('ended enrolments and sequences', () => {
  it('a step of a cancelled enrolment is stale; a disabled sequence cancels the enrolment', async () => {
    const w = await world();
    const cancelled = await w.sequence(TWO_TEXTS);
    const disabled = await w.sequence({ ...TWO_TEXTS, name: 'To be disabled' });
    await w.contactWrites();
    await w.enrolments.enroll({ ref: w.ref, sequenceId: cancelled.id, by: 'api', at: w.clock.now() });
    await w.enrolments.enroll({ ref: w.ref, sequenceId: disabled.id, by: 'api', at: w.clock.now() });
    const a = await w.enrollment(cancelled.id);
    const b = await w.enrollment(disabled.id);

    await cancelEnrollment(w.deps, w.ref, cancelled.id);
    await expect(cancelEnrollment(w.deps, w.ref, cancelled.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await w.runStep(a.enrollmentId, 0)).toBe('stale');
    expect(await w.enrollment(cancelled.id)).toMatchObject({ status: 'left', endReason: 'deleted', steps: [] });

    await w.disable(disabled.id, { ...TWO_TEXTS, name: 'To be disabled' });
    expect(await w.runStep(b.enrollmentId, 0)).toBe('cancelled');
    expect(await w.enrollment(disabled.id)).toMatchObject({ status: 'cancelled', endReason: 'sequence disabled' });
    expect(await w.enrolments.enroll({ ref: w.ref, sequenceId: disabled.id, by: 'keyword', at: w.clock.now() })).toBe('unavailable');
    expect(w.meta.texts).toEqual([]);
  });
});

describe('a run that crashed mid-send', () => {
  it('is never sent again: retried while its claim is fresh, recorded SEND_OUTCOME_UNKNOWN once stale, and the next step goes on', async () => {
    const w = await world();
    const sequence = await w.sequence(TWO_TEXTS);
    await w.contactWrites();
    await w.enrolments.enroll({ ref: w.ref, sequenceId: sequence.id, by: 'api', at: w.clock.now() });
    const enrollment = await w.enrollment(sequence.id);
    const [due] = w.scheduler.forStep(enrollment.enrollmentId, 0);
    w.clock.set(due!.at);
    // A run claimed step 0 and died before recording anything.
    expect(await w.deps.sequences.claimStep(keyOf(enrollment), 0, w.clock.now().toISOString())).toBe(true);

    await expect(processSequenceStepDue(w.deps, due!.due)).rejects.toMatchObject({ name: 'StepInFlight', retryable: true });
    w.clock.set(new Date(due!.at.getTime() + (w.deps.settings.staleClaimSeconds + 1) * 1000));
    expect(await processSequenceStepDue(w.deps, due!.due)).toBe('not sent: SEND_OUTCOME_UNKNOWN');
    expect(await processSequenceStepDue(w.deps, due!.due)).toBe('duplicate');
    expect(w.meta.texts).toEqual([]);
    expect(await w.runStep(enrollment.enrollmentId, 1)).toBe('sent');
    expect(w.texts()).toEqual(['Anything we can help with?']);
  });
});
