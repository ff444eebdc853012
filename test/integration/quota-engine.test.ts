/**
 * The shared-quota rules of docs/quotas.md, proven on DynamoDB Local with real
 * concurrent races: never over a limit, nothing counted twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getAccountView, purchaseAddon } from '../../functions/core/accounts.js';
import { IdempotencyKeyReused, QuotaExceeded } from '../../functions/core/errors.js';
import { billingPeriod } from '../../functions/core/plan.js';
import { adaptersFor, allLedger as allLedgerOf, newAccount, race } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';

let table: TestTable;
let deps: ReturnType<typeof adaptersFor>;

beforeAll(async () => {
  table = await createTestTable('quota-engine');
  deps = adaptersFor(table);
});

const periodOf = async (accountId: string) => billingPeriod((await deps.accounts.get(accountId))!.billingAnchor, new Date()).key;

const allLedger = (accountId: string, resource: Parameters<typeof allLedgerOf>[2]) => allLedgerOf(deps, accountId, resource);

describe('period quotas (chatbot sessions, AI responses)', () => {
  it('gives exactly N of 200 concurrent consumers a unit when the limit is N', async () => {
    const account = await newAccount(deps, { chatbotSessions: 37 });
    const period = await periodOf(account.accountId);
    const { ok, errors } = await race(
      Array.from({ length: 200 }, (_, i) => () =>
        deps.quotas.consume({
          accountId: account.accountId,
          resource: 'chatbotSessions',
          amount: 1,
          period,
          limit: 37,
          idempotencyKey: `session-${i}`,
          reason: 'chatbot:start',
          whatsappPhno: i % 2 ? '15550001001' : '15550001002',
        }),
      ),
    );
    expect(ok).toHaveLength(37);
    expect(errors).toHaveLength(163);
    expect(errors.every((e) => e instanceof QuotaExceeded)).toBe(true);
    expect((errors[0] as QuotaExceeded).details).toEqual({ resource: 'chatbotSessions', limit: 37, used: 37 });
    const view = await getAccountView(deps, account.accountId);
    expect(view.usage.chatbotSessions).toBe(37);
    expect(await allLedger(account.accountId, 'chatbotSessions')).toHaveLength(37);
  });

  it('counts usage from every number in one shared counter', async () => {
    const account = await newAccount(deps, { aiResponses: 3 });
    const period = await periodOf(account.accountId);
    const consume = (key: string, phno: string) =>
      deps.quotas.consume({ accountId: account.accountId, resource: 'aiResponses', amount: 1, period, limit: 3, idempotencyKey: key, reason: 'ai', whatsappPhno: phno });
    await consume('a', '15550001001');
    await consume('b', '15550001002');
    await consume('c', '5511900001003');
    await expect(consume('d', '15550001001')).rejects.toBeInstanceOf(QuotaExceeded);
    const ledger = await allLedger(account.accountId, 'aiResponses');
    expect(ledger.map((e) => e.whatsapp_phno).sort()).toEqual(['15550001001', '15550001002', '5511900001003']);
  });

  it('lets add-ons bought during a race raise the limit without ever exceeding it', async () => {
    const account = await newAccount(deps, { chatbotSessions: 10 });
    const period = await periodOf(account.accountId);
    const consumers = Array.from({ length: 200 }, (_, i) => () =>
      deps.quotas.consume({ accountId: account.accountId, resource: 'chatbotSessions', amount: 1, period, limit: 10, idempotencyKey: `s-${i}`, reason: 'chatbot:start' }),
    );
    const addons = Array.from({ length: 3 }, (_, i) => () =>
      purchaseAddon(deps, account.accountId, { type: 'chatbotSessions', quantity: 5 }, `addon-${i}`),
    );
    const tasks: (() => Promise<unknown>)[] = [...consumers];
    tasks.splice(50, 0, addons[0]!);
    tasks.splice(100, 0, addons[1]!);
    tasks.splice(150, 0, addons[2]!);
    const { ok, errors } = await race(tasks);
    const consumed = ok.length - 3;
    expect(errors.every((e) => e instanceof QuotaExceeded)).toBe(true);
    const view = await getAccountView(deps, account.accountId);
    expect(view.limits.chatbotSessions).toBe(25);
    expect(view.usage.chatbotSessions).toBe(consumed);
    expect(consumed).toBeLessThanOrEqual(25);
    // Whatever the interleaving, the room left is exactly limit - used.
    const rest = await race(
      Array.from({ length: 30 }, (_, i) => () =>
        deps.quotas.consume({ accountId: account.accountId, resource: 'chatbotSessions', amount: 1, period, limit: 10, idempotencyKey: `after-${i}`, reason: 'chatbot:start' }),
      ),
    );
    expect(rest.ok).toHaveLength(25 - consumed);
  });
});

describe('gauge quotas (seats, teams, number slots)', () => {
  it('gives exactly the limit to 200 concurrent acquirers', async () => {
    const account = await newAccount(deps, { users: 50 });
    const { ok, errors } = await race(
      Array.from({ length: 200 }, (_, i) => () =>
        deps.quotas.acquire({ accountId: account.accountId, resource: 'users', amount: 1, idempotencyKey: `seat-${i}`, reason: 'test' }),
      ),
    );
    expect(ok).toHaveLength(50);
    expect(errors.filter((e) => e instanceof QuotaExceeded)).toHaveLength(150);
    expect((await getAccountView(deps, account.accountId)).usage.users).toBe(50);
  });

  it('ends at the right count when acquires and releases interleave', async () => {
    const account = await newAccount(deps, { teams: 300 });
    for (let i = 0; i < 60; i++) {
      await deps.quotas.acquire({ accountId: account.accountId, resource: 'teams', amount: 1, idempotencyKey: `pre-${i}`, reason: 'test' });
    }
    const tasks = Array.from({ length: 150 }, (_, i) =>
      i % 3 === 0
        ? () => deps.quotas.release({ accountId: account.accountId, resource: 'teams', amount: 1, idempotencyKey: `rel-${i}`, reason: 'test' })
        : () => deps.quotas.acquire({ accountId: account.accountId, resource: 'teams', amount: 1, idempotencyKey: `acq-${i}`, reason: 'test' }),
    );
    const { ok, errors } = await race(tasks);
    expect(errors).toEqual([]);
    expect(ok).toHaveLength(150);
    // 60 before, +100 acquires, -50 releases.
    expect((await getAccountView(deps, account.accountId)).usage.teams).toBe(110);
  });

  it('never connects more than 15 additional numbers, whatever add-ons were bought', async () => {
    const account = await newAccount(deps);
    await purchaseAddon(deps, account.accountId, { type: 'number', quantity: 20 }, 'numbers-20');
    const { ok, errors } = await race(
      Array.from({ length: 40 }, (_, i) => () =>
        deps.quotas.acquire({ accountId: account.accountId, resource: 'additionalNumbers', amount: 1, idempotencyKey: `num-${i}`, reason: 'test' }),
      ),
    );
    expect(ok).toHaveLength(15);
    expect((errors[0] as QuotaExceeded).details).toEqual({ resource: 'additionalNumbers', limit: 15, used: 15 });
    const view = await getAccountView(deps, account.accountId);
    expect(view.limits.additionalNumbers).toBe(15);
    expect(view.usage.additionalNumbers).toBe(15);
  });

  it('refuses an additional number without a number add-on', async () => {
    const account = await newAccount(deps);
    await expect(
      deps.quotas.acquire({ accountId: account.accountId, resource: 'additionalNumbers', amount: 1, idempotencyKey: 'n', reason: 'test' }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { resource: 'additionalNumbers', limit: 0, used: 0 } });
  });
});

describe('the credit pool', () => {
  it('never goes below zero under 200 concurrent debits', async () => {
    const account = await newAccount(deps, {}, 1_000_000);
    const { ok, errors } = await race(
      Array.from({ length: 200 }, (_, i) => () =>
        deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 7_000, idempotencyKey: `msg-${i}`, reason: 'message', whatsappPhno: '15550001001' }),
      ),
    );
    expect(ok).toHaveLength(142); // floor(1,000,000 / 7,000)
    expect(errors.every((e) => e instanceof QuotaExceeded)).toBe(true);
    expect(await deps.accounts.balance(account.accountId)).toBe(1_000_000 - 142 * 7_000);
  });

  it('reports the pool in the refusal', async () => {
    const account = await newAccount(deps, {}, 5_000);
    const refusal = deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 6_000, idempotencyKey: 'big', reason: 'message' });
    await expect(refusal).rejects.toMatchObject({ details: { resource: 'credits', limit: 5_000, used: 0, balanceMicros: 5_000, requestedMicros: 6_000 } });
  });

  it('applies 50 concurrent replays of one key once and answers each with the first entry', async () => {
    const account = await newAccount(deps, {}, 100_000);
    const { ok, errors } = await race(
      Array.from({ length: 50 }, () => () =>
        deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 1_500, idempotencyKey: 'wamid.ONE', reason: 'message' }),
      ),
    );
    expect(errors).toEqual([]);
    expect(ok.filter((o) => !o.replayed)).toHaveLength(1);
    expect(new Set(ok.map((o) => o.entry.at)).size).toBe(1);
    expect(await deps.accounts.balance(account.accountId)).toBe(98_500);
  });

  it('refuses a key reused for a different change', async () => {
    const account = await newAccount(deps, {}, 100_000);
    await deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 1_000, idempotencyKey: 'k', reason: 'message' });
    await expect(
      deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 2_000, idempotencyKey: 'k', reason: 'message' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReused);
  });

  it('reserves a block in one write and gives back what was not used', async () => {
    const account = await newAccount(deps, {}, 1_000_000);
    await deps.quotas.reserveCredits({ accountId: account.accountId, reservationId: 'brd_1-c0', amountMicros: 400_000, idempotencyKey: 'reserve:brd_1-c0', reason: 'broadcast:reserve', whatsappPhno: '15550001002' });
    expect(await deps.accounts.balance(account.accountId)).toBe(600_000);
    await deps.quotas.settleReservation({ accountId: account.accountId, reservationId: 'brd_1-c0', usedMicros: 250_000, idempotencyKey: 'settle:brd_1-c0', reason: 'broadcast:settle', whatsappPhno: '15550001002' });
    expect(await deps.accounts.balance(account.accountId)).toBe(750_000);
    // Settling again changes nothing.
    const again = await deps.quotas.settleReservation({ accountId: account.accountId, reservationId: 'brd_1-c0', usedMicros: 250_000, idempotencyKey: 'settle:brd_1-c0', reason: 'broadcast:settle', whatsappPhno: '15550001002' });
    expect(again.replayed).toBe(true);
    expect(await deps.accounts.balance(account.accountId)).toBe(750_000);
  });

  it('settles a reservation once when settlements race', async () => {
    const account = await newAccount(deps, {}, 1_000_000);
    await deps.quotas.reserveCredits({ accountId: account.accountId, reservationId: 'r', amountMicros: 100_000, idempotencyKey: 'reserve:r', reason: 'test' });
    const { ok } = await race(
      Array.from({ length: 20 }, (_, i) => () =>
        deps.quotas.settleReservation({ accountId: account.accountId, reservationId: 'r', usedMicros: 0, idempotencyKey: `settle-${i}`, reason: 'test' }),
      ),
    );
    expect(ok).toHaveLength(1);
    expect(await deps.accounts.balance(account.accountId)).toBe(1_000_000);
  });

  it('refunds into the pool and records the number', async () => {
    const account = await newAccount(deps, {}, 10_000);
    await deps.quotas.debitCredits({ accountId: account.accountId, amountMicros: 4_000, idempotencyKey: 'debit:w1', reason: 'message', whatsappPhno: '15550001002' });
    await deps.quotas.refundCredits({ accountId: account.accountId, amountMicros: 4_000, idempotencyKey: 'refund:w1', reason: 'message:failed', whatsappPhno: '15550001002' });
    expect(await deps.accounts.balance(account.accountId)).toBe(10_000);
    const page = await deps.accounts.listLedger(account.accountId, { resource: 'credits', whatsappPhno: '15550001002' }, { limit: 10 });
    expect(page.items.map((e) => e.amount)).toEqual([4_000, -4_000]);
  });
});
