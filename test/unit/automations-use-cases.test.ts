/**
 * The automations use cases of core (functions/core/automations.ts) on
 * in-memory fakes of their ports: the ids and times core gives, the view it
 * answers, and what it checks against the account (the scope's number, the
 * chatbots, reply material, teams and users an item names, scope
 * compatibility), every problem named at once. The storage itself is proven
 * on DynamoDB Local in test/integration/automations-api.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { addTeam, addUser, createAccount } from '../../functions/core/accounts.js';
import type { AutomationRepository, AutomationSet, StoredAutomation } from '../../functions/core/automation-ports.js';
import { type AutomationApiDeps, createAutomation, deleteAutomation, getAutomation, listAutomations, replaceAutomation } from '../../functions/core/automations.js';
import { NotFound, ValidationFailed } from '../../functions/core/errors.js';
import type { ConnectedNumber } from '../../functions/core/numbers.js';
import { AUTOMATION_BODIES, type AutomationBody, type AutomationKind } from '../../schemas/automations.js';
import { inMemoryAccounts } from '../support/in-memory-accounts.js';

/** Automations in a map, in insertion order (the ids here are ordered too); cursors are positions. */
function inMemoryAutomations(): AutomationRepository {
  const items = new Map<string, StoredAutomation>();
  const key = (accountId: string, kind: string, id: string) => `${accountId}/${kind}/${id}`;
  return {
    async create(item) {
      if (items.has(key(item.accountId, item.kind, item.id))) throw new Error('exists');
      items.set(key(item.accountId, item.kind, item.id), structuredClone(item));
      return item;
    },
    async get(accountId, kind, id) {
      return structuredClone(items.get(key(accountId, kind, id))) as never;
    },
    async list(accountId, kind, filter, page) {
      const all = [...items.values()].filter(
        (a) => a.accountId === accountId && a.kind === kind && (filter.whatsappPhno === undefined || [undefined, filter.whatsappPhno].includes(a.body.scope?.whatsapp_phno)),
      );
      const start = page.cursor ? Number(page.cursor) : 0;
      const end = start + page.limit;
      return { items: all.slice(start, end) as never, nextCursor: end < all.length ? String(end) : null };
    },
    async replace(accountId, kind, id, body, at) {
      const stored = items.get(key(accountId, kind, id));
      if (!stored) return undefined;
      const next = { ...stored, body, updatedAt: at };
      items.set(key(accountId, kind, id), next);
      return structuredClone(next) as never;
    },
    async delete(accountId, kind, id) {
      return items.delete(key(accountId, kind, id));
    },
    async loadSet(): Promise<AutomationSet> {
      throw new Error('loadSet is not part of the API use cases');
    },
  };
}

const parse = <K extends AutomationKind>(kind: K, body: unknown) => AUTOMATION_BODIES[kind].parse(body) as AutomationBody<K>;

async function world() {
  let now = new Date('2026-05-04T10:00:00.000Z');
  let n = 0;
  const numbers = new Map<string, ConnectedNumber>();
  const deps: AutomationApiDeps & ReturnType<typeof inMemoryAccounts> = {
    ...inMemoryAccounts(),
    numbers: { get: async (accountId, phno) => numbers.get(`${accountId}/${phno}`) },
    automations: inMemoryAutomations(),
    clock: { now: () => now },
    ids: { newId: (prefix) => `${prefix}_${String(++n).padStart(8, '0')}` },
  };
  const { accountId } = await createAccount(deps, { name: 'Acme', plan: { users: 5, teams: 2, chatbotSessions: 10, aiResponses: 0 }, creditsMicros: 0 }, 'acc');
  for (const phno of ['15550001001', '15550001002']) numbers.set(`${accountId}/${phno}`, { accountId, whatsapp_phno: phno } as ConnectedNumber);
  const team = await addTeam(deps, accountId, { name: 'Sales' }, 'team');
  const user = await addUser(deps, accountId, { email: 'ana@example.com', role: 'agent' }, 'user');
  return { deps, accountId, teamId: team.teamId, userId: user.userId, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

/** The issue paths of a refusal. */
async function refusal(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationFailed);
  return (error as ValidationFailed).details.issues.map((issue) => issue.path.join('.'));
}

describe('automations use cases (in memory)', () => {
  it('gives a new automation its kind’s id prefix and the clock’s time, and answers id, kind, times, then the body', async () => {
    const { deps, accountId } = await world();
    const body = parse('keywords', { keywords: ['oi'], action: { type: 'reply', text: 'Olá' } });
    const view = await createAutomation(deps, accountId, 'keywords', body);
    expect(view).toEqual({ id: 'kw_00000004', kind: 'keywords', createdAt: '2026-05-04T10:00:00.000Z', updatedAt: '2026-05-04T10:00:00.000Z', ...body });
    expect(Object.keys(view).slice(0, 4)).toEqual(['id', 'kind', 'createdAt', 'updatedAt']);
    expect(await getAutomation(deps, accountId, 'keywords', view.id)).toEqual(view);
  });

  it('replaces the body, keeping the id and createdAt, with updatedAt from the clock', async () => {
    const { deps, accountId, later } = await world();
    const created = await createAutomation(deps, accountId, 'reply-material', parse('reply-material', { name: 'A', content: { type: 'text', text: 'a' } }));
    later(60_000);
    const body = parse('reply-material', { name: 'B', content: { type: 'text', text: 'b' }, scope: { whatsapp_phno: '15550001002' } });
    expect(await replaceAutomation(deps, accountId, 'reply-material', created.id, body)).toEqual({
      id: created.id,
      kind: 'reply-material',
      createdAt: created.createdAt,
      updatedAt: '2026-05-04T10:01:00.000Z',
      ...body,
    });
  });

  it('answers NotFound for an id of another kind, an absent item, and an unknown account', async () => {
    const { deps, accountId } = await world();
    const bot = await createAutomation(deps, accountId, 'chatbots', parse('chatbots', { name: 'Menu', steps: [{ id: 'end', text: 'Bye' }] }));
    await expect(getAutomation(deps, accountId, 'keywords', bot.id)).rejects.toThrow(NotFound);
    await expect(getAutomation(deps, accountId, 'chatbots', bot.id)).resolves.toMatchObject({ id: bot.id });
    await expect(deleteAutomation(deps, accountId, 'routes', 'route_00000099')).rejects.toThrow('The route route_00000099 was not found.');
    await expect(listAutomations(deps, 'acc_unknown00', 'keywords', {}, { limit: 10 })).rejects.toThrow('The account was not found.');
  });

  it('answers NotFound for replacing an absent item before judging its body against the account', async () => {
    const { deps, accountId } = await world();
    const body = parse('routes', { teamId: 'team_nothere00' });
    await expect(replaceAutomation(deps, accountId, 'routes', 'route_00000099', body)).rejects.toThrow(NotFound);
  });

  it('names every problem at once: the scope’s number, a missing team and missing members', async () => {
    const { deps, accountId, userId } = await world();
    const body = parse('routes', { teamId: 'team_nothere00', members: [userId, 'usr_nothere00'], scope: { whatsapp_phno: '15559999999' } });
    expect((await refusal(createAutomation(deps, accountId, 'routes', body))).sort()).toEqual(['body.members.1', 'body.scope.whatsapp_phno', 'body.teamId']);
    expect((await listAutomations(deps, accountId, 'routes', {}, { limit: 10 })).items).toEqual([]);
  });

  it('checks each keyword action’s target in the account', async () => {
    const { deps, accountId, teamId } = await world();
    const keyword = (action: unknown) => parse('keywords', { keywords: ['x'], action });
    expect(await refusal(createAutomation(deps, accountId, 'keywords', keyword({ type: 'startChatbot', chatbotId: 'chat_nothere0' })))).toEqual(['body.action.chatbotId']);
    expect(await refusal(createAutomation(deps, accountId, 'keywords', keyword({ type: 'replyMaterial', replyMaterialId: 'rm_nothere00' })))).toEqual([
      'body.action.replyMaterialId',
    ]);
    expect(await refusal(createAutomation(deps, accountId, 'keywords', keyword({ type: 'assignTeam', teamId: 'team_nothere00' })))).toEqual(['body.action.teamId']);
    await expect(createAutomation(deps, accountId, 'keywords', keyword({ type: 'assignTeam', teamId }))).resolves.toMatchObject({ action: { teamId } });
    await expect(createAutomation(deps, accountId, 'keywords', keyword({ type: 'reply', text: 'no target' }))).resolves.toMatchObject({ kind: 'keywords' });
  });

  it('lets an item use a chatbot or reply material that applies everywhere it does', async () => {
    const { deps, accountId } = await world();
    const material = (scope: object) => createAutomation(deps, accountId, 'reply-material', parse('reply-material', { name: 'M', content: { type: 'text', text: 'm' }, scope }));
    const wide = await material({});
    const forSecond = await material({ whatsapp_phno: '15550001002' });
    const welcome = (replyMaterialId: string, scope: object) => parse('default-actions', { event: 'welcome', replyMaterialId, scope });

    // An account-wide reply material serves every scope.
    await createAutomation(deps, accountId, 'default-actions', welcome(wide.id, {}));
    await createAutomation(deps, accountId, 'default-actions', welcome(wide.id, { whatsapp_phno: '15550001001' }));
    // A rule's material serves only rules for its number.
    await createAutomation(deps, accountId, 'default-actions', welcome(forSecond.id, { whatsapp_phno: '15550001002' }));
    expect(await refusal(createAutomation(deps, accountId, 'default-actions', welcome(forSecond.id, {})))).toEqual(['body.replyMaterialId']);
    expect(await refusal(createAutomation(deps, accountId, 'default-actions', welcome(forSecond.id, { whatsapp_phno: '15550001001' })))).toEqual(['body.replyMaterialId']);
  });

  it('lists one number’s rules with the account-wide ones', async () => {
    const { deps, accountId } = await world();
    const make = (scope: object) => createAutomation(deps, accountId, 'keywords', parse('keywords', { keywords: ['x'], action: { type: 'reply', text: 'x' }, scope }));
    const a = await make({});
    await make({ whatsapp_phno: '15550001002' });
    const c = await make({ whatsapp_phno: '15550001001' });
    const page = await listAutomations(deps, accountId, 'keywords', { whatsappPhno: '15550001001' }, { limit: 10 });
    expect(page).toEqual({ items: [a, c], nextCursor: null });
  });
});
