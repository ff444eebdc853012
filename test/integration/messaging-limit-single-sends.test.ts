/**
 * Single business-initiated sends under the portfolio messaging limit, on
 * DynamoDB Local (`functions/core/single-send.ts`, docs/quotas.md): a
 * sequence's template step and an agent's template take a unit of the same
 * shared limit as broadcasts, in one transaction with their credits, and a
 * step the limit has no room for waits until it has.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { createSequenceDeps } from '../../functions/automation/sequence-deps.js';
import { createAutomation } from '../../functions/core/automations.js';
import { portfolioOf } from '../../functions/core/messaging-limit.js';
import { updateNumber } from '../../functions/core/numbers.js';
import { processSequenceStepDue } from '../../functions/core/sequence-runner.js';
import type { StepScheduler } from '../../functions/core/sequence-ports.js';
import { sequenceEnrolments } from '../../functions/core/sequences.js';
import { type SendAdmission, admitSend, noteSent } from '../../functions/core/single-send.js';
import type { SequenceStepDue } from '../../schemas/automation-timers.js';
import { sequenceBody } from '../../schemas/automations.js';
import { FLAT_RATE_CARD, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { PRICE, limitView, limitWorld, limitedAccount, openWindow, setTier } from '../support/messaging-limit.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('messaging-limit-single');
});

const HOUR = 3_600_000;

async function portfolio(numbers: number) {
  const world = limitWorld(table);
  const account = await limitedAccount(world, numbers);
  await setTier(world, account.accountId, account.numbers[0]!.whatsapp_phno, 'TIER_250');
  const deps = { messagingLimits: world.sender.messagingLimits, credits: world.sender.credits, clock: world.clock };
  let n = 0;
  const admit = (number: { whatsapp_phno: string }, waId: string, options: { reservationId?: string; paid?: boolean } = {}) =>
    admitSend(deps, {
      accountId: account.accountId,
      whatsappPhno: number.whatsapp_phno,
      portfolioId: portfolioOf({ accountId: account.accountId }),
      waId,
      reservationId: options.reservationId ?? `test:${++n}:${waId}`,
      reason: 'test:reserve',
      refId: 'test',
      ...(options.paid === false ? {} : { credits: { amountMicros: PRICE, spend: { period: '2026-01', capMicros: null } } }),
    });
  const sent = (waId: string, admission: SendAdmission) => noteSent(deps, { accountId: account.accountId, waId }, admission, world.clock.now());
  return { world, ...account, deps, admit, sent };
}

const admitted = (results: SendAdmission[]) => results.filter((r) => r.admitted).length;

describe('single sends on a TIER_250 portfolio', () => {
  it('never take more than the limit leaves, two numbers racing, while a third number keeps its reserved count', async () => {
    const { world, accountId, numbers, admit } = await portfolio(3);
    const [main, sales, support] = numbers as [(typeof numbers)[0], (typeof numbers)[0], (typeof numbers)[0]];
    // The support number keeps 245 of the 250: the other two share 5.
    await updateNumber(world.deps, accountId, support.whatsapp_phno, { messagingLimitShare: { reserved: 245 } });
    const balance = await world.deps.accounts.balance(accountId);
    const results = await Promise.all([
      ...recipients(8, '1311').map((waId) => admit(main, waId)),
      ...recipients(8, '1312').map((waId) => admit(sales, waId)),
    ]);
    expect(admitted(results)).toBe(5);
    // Those that did not fit learn when capacity returns: after the bucket the admitted ones were counted in is released.
    const limited = results.filter((r): r is Extract<SendAdmission, { admitted: false }> => !r.admitted);
    expect(limited).toHaveLength(11);
    for (const r of limited) expect(Date.parse(r.resumesAt)).toBeGreaterThan(world.clock.now().getTime() + 24 * HOUR);
    // Paid exactly for the admitted ones: a limited send holds no credit.
    expect(await world.deps.accounts.balance(accountId)).toBe(balance - 5 * PRICE);

    // The reserved count is still there for its number, even raced.
    const theirs = await Promise.all(recipients(6, '1313').map((waId) => admit(support, waId)));
    expect(admitted(theirs)).toBe(6);
    const view = await limitView(world, accountId);
    expect(view.usedLast24h).toBe(11);
    expect(view.byNumber.find((n) => n.whatsapp_phno === support.whatsapp_phno)).toMatchObject({ usedLast24h: 6, available: 239 });
  });

  it('take one unit and one charge for one message however often its admission runs at once', async () => {
    const { world, accountId, numbers, admit } = await portfolio(1);
    const balance = await world.deps.accounts.balance(accountId);
    const results = await Promise.all(Array.from({ length: 6 }, () => admit(numbers[0]!, '13140000001', { reservationId: 'seq:same:0' })));
    expect(admitted(results)).toBe(6);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect((await limitView(world, accountId)).usedLast24h).toBe(1);
    expect(await world.deps.accounts.balance(accountId)).toBe(balance - PRICE);
  });

  it('cost no unit to a user whose window is open, nor to one reached within 24 hours', async () => {
    const { world, accountId, numbers, admit, sent } = await portfolio(2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    const [open, reached] = recipients(2, '1315') as [string, string];
    await openWindow(world, accountId, main.whatsapp_phno, [open]);
    const free = await admit(main, open, { paid: false });
    expect(free).toEqual({ admitted: true });

    const first = await admit(main, reached);
    expect(first.admitted).toBe(true);
    await sent(reached, first);
    expect((await limitView(world, accountId)).usedLast24h).toBe(1);
    // An hour later another number writes to the same user: still one unit, now held from this hour.
    world.clock.advance(HOUR);
    const again = await admit(sales, reached);
    expect(again).toMatchObject({ admitted: true, reach: { owner: main.whatsapp_phno } });
    expect((await limitView(world, accountId)).usedLast24h).toBe(1);
  });
});

/** Keeps the first schedule of each name, as EventBridge Scheduler does. */
class RecordingScheduler implements StepScheduler {
  readonly schedules = new Map<string, { name: string; at: Date; due: SequenceStepDue }>();
  async schedule(request: { name: string; at: Date; due: SequenceStepDue }): Promise<void> {
    if (!this.schedules.has(request.name)) this.schedules.set(request.name, request);
  }
  latest() {
    return [...this.schedules.values()].at(-1)!;
  }
}

describe('a sequence template step', () => {
  it('waits, unpaid, while the portfolio is full, and is sent once and charged once when capacity returns', async () => {
    const { world, accountId, numbers, admit } = await portfolio(2);
    const [main, sales] = numbers as [(typeof numbers)[0], (typeof numbers)[0]];
    // The sales number may use 1% (2 users): it uses both.
    await updateNumber(world.deps, accountId, sales.whatsapp_phno, { messagingLimitShare: { percent: 1 } });
    const early = await Promise.all(recipients(2, '1316').map((waId) => admit(sales, waId)));
    expect(admitted(early)).toBe(2);

    const scheduler = new RecordingScheduler();
    const deps = createSequenceDeps(table.doc, table.tableName, { messaging: world.messaging, scheduler, clock: world.clock, rateCard: FLAT_RATE_CARD });
    const automations = new DynamoAutomationRepository(table.doc, table.tableName);
    const sequence = await createAutomation(
      { ...world.deps, automations },
      accountId,
      'sequences',
      sequenceBody.parse({ name: 'Win back', steps: [{ delay: { minutes: 1 }, message: { template: { name: 'promo', language: 'en_US' } } }] }),
    );
    const waId = '13170000001';
    // The user wrote two days ago: the conversation exists, its window is closed.
    await openWindow(world, accountId, sales.whatsapp_phno, [waId], 48 * HOUR);
    const ref = { accountId, whatsappPhno: sales.whatsapp_phno, contactKey: waId };
    await sequenceEnrolments(deps).enroll({ ref, sequenceId: sequence.id, by: 'api', at: world.clock.now() });
    const balance = await world.deps.accounts.balance(accountId);

    const first = scheduler.latest();
    world.clock.set(first.at);
    expect(await processSequenceStepDue(deps, first.due)).toBe('limited');
    const waiting = scheduler.latest();
    expect(waiting.name).not.toBe(first.name);
    expect(waiting.at.getTime()).toBeGreaterThan(world.clock.now().getTime() + 24 * HOUR);
    const { items } = await deps.sequences.list(accountId, sequence.id, { limit: 10 });
    expect(items[0]).toMatchObject({ status: 'active', nextStep: 0, nextDueAt: waiting.at.toISOString(), steps: [] });
    expect(await world.deps.accounts.balance(accountId)).toBe(balance);
    expect(world.messaging.sends.filter((s) => s.to === waId)).toEqual([]);
    // The default number is not held back by the sales number's cap.
    expect((await admit(main, '13180000001')).admitted).toBe(true);

    // Capacity returns: the waiting step runs (delivered twice at once, as at-least-once delivery may).
    world.clock.set(waiting.at);
    const outcomes = await Promise.allSettled([processSequenceStepDue(deps, waiting.due), processSequenceStepDue(deps, waiting.due)]);
    const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).name));
    expect(values.filter((v) => v === 'sent')).toHaveLength(1);
    expect(values.every((v) => ['sent', 'duplicate', 'stale', 'StepInFlight'].includes(v))).toBe(true);
    expect(world.messaging.sends.filter((s) => s.to === waId)).toHaveLength(1);
    expect(await world.deps.accounts.balance(accountId)).toBe(balance - PRICE - PRICE);
    const view = await limitView(world, accountId);
    expect(view.byNumber.find((n) => n.whatsapp_phno === sales.whatsapp_phno)).toMatchObject({ usedLast24h: 1 });
  });
});
