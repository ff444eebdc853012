/**
 * The account use cases of core on in-memory fakes of their ports: what core
 * itself decides (the view it assembles, normalised input, unknown and closed
 * accounts, refusals passed through), with no Java and no network.
 */
import { describe, expect, it } from 'vitest';
import { addTeam, addUser, createAccount, getAccountView, purchaseAddon, topUpCredits } from '../../functions/core/accounts.js';
import { NotFound, QuotaExceeded } from '../../functions/core/errors.js';
import { inMemoryAccounts } from '../support/in-memory-accounts.js';

function deps(now = new Date('2026-03-15T12:00:00Z')) {
  let n = 0;
  return { ...inMemoryAccounts(), clock: { now: () => now }, ids: { newId: (prefix: string) => `${prefix}_${String(++n).padStart(8, '0')}` } };
}
const plan = { users: 2, teams: 1, chatbotSessions: 100, aiResponses: 50 };

describe('account use cases (in memory)', () => {
  it('creates an account whose view starts empty, with its credits and the billing period of its anchor', async () => {
    const d = deps();
    const view = await createAccount(d, { name: 'Acme', plan, creditsMicros: 50_000_000 }, 'k1');
    expect(view).toMatchObject({
      name: 'Acme',
      status: 'active',
      limits: { users: 2, teams: 1, chatbotSessions: 100, aiResponses: 50, additionalNumbers: 0 },
      usage: { users: 0, teams: 0 },
      credits: { balanceMicros: 50_000_000 },
      billingPeriod: { start: '2026-03-15T00:00:00.000Z', end: '2026-04-15T00:00:00.000Z' },
    });
  });

  it('answers the first account again for a repeated creation key', async () => {
    const d = deps();
    const first = await createAccount(d, { name: 'Acme', plan, creditsMicros: 0 }, 'same');
    const again = await createAccount(d, { name: 'Acme', plan, creditsMicros: 0 }, 'same');
    expect(again.accountId).toBe(first.accountId);
  });

  it('stores e-mails lower-cased and passes the seat refusal through', async () => {
    const d = deps();
    const { accountId } = await createAccount(d, { name: 'Acme', plan, creditsMicros: 0 }, 'k');
    expect((await addUser(d, accountId, { email: 'Ana@Example.COM', role: 'agent' }, 'u1')).email).toBe('ana@example.com');
    await addUser(d, accountId, { email: 'bruno@example.com', role: 'agent' }, 'u2');
    const refused = addUser(d, accountId, { email: 'carla@example.com', role: 'agent' }, 'u3');
    await expect(refused).rejects.toBeInstanceOf(QuotaExceeded);
    await expect(refused).rejects.toMatchObject({ details: { resource: 'users', limit: 2, used: 2 } });
    expect((await getAccountView(d, accountId)).usage.users).toBe(2);
  });

  it('raises a limit by an add-on, once per key', async () => {
    const d = deps();
    const { accountId } = await createAccount(d, { name: 'Acme', plan, creditsMicros: 0 }, 'k');
    await addTeam(d, accountId, { name: 'Vendas' }, 't1');
    await expect(addTeam(d, accountId, { name: 'Suporte' }, 't2')).rejects.toBeInstanceOf(QuotaExceeded);
    await purchaseAddon(d, accountId, { type: 'teams', quantity: 1 }, 'a1');
    const view = await purchaseAddon(d, accountId, { type: 'teams', quantity: 1 }, 'a1');
    expect(view.limits.teams).toBe(2);
    expect((await addTeam(d, accountId, { name: 'Suporte' }, 't2')).name).toBe('Suporte');
  });

  it('tops up once per key and reports the replay', async () => {
    const d = deps();
    const { accountId } = await createAccount(d, { name: 'Acme', plan, creditsMicros: 1_000 }, 'k');
    expect(await topUpCredits(d, accountId, 500, 'top')).toEqual({ balanceMicros: 1_500, replayed: false });
    expect(await topUpCredits(d, accountId, 500, 'top')).toEqual({ balanceMicros: 1_500, replayed: true });
  });

  it('answers NotFound for an account that does not exist, before any change', async () => {
    const d = deps();
    await expect(addUser(d, 'acc_missing1', { email: 'a@example.com', role: 'agent' }, 'u')).rejects.toBeInstanceOf(NotFound);
    await expect(topUpCredits(d, 'acc_missing1', 1, 't')).rejects.toBeInstanceOf(NotFound);
  });
});
