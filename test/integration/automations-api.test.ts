/**
 * The automations API on DynamoDB Local, through the API handler: the five
 * kinds' CRUD, roles, what the schemas refuse (Meta's limits, the chatbot's
 * step graph) and what core checks against the account (the scope's number,
 * the chatbots, reply material, teams and users an item names), listings per
 * number, cursors, and accounts kept apart. Also the repository's `loadSet`.
 */
import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { createApi, createApiDeps } from '../../functions/api/app.js';
import { AUTOMATION_KINDS, type AutomationKind } from '../../schemas/automations.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type ApiRequest, call } from '../support/api-events.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { RecordingSender } from '../support/inbox.js';
import { RecordingPublisher } from '../support/webhook.js';

let table: TestTable;
let api: ReturnType<typeof createApi>;

const asCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A number as people write it: `+1 (555) 123-45678`. */
const formatted = (phno: string) => `+${phno[0]} (${phno.slice(1, 4)}) ${phno.slice(4, 7)}-${phno.slice(7)}`;
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');

/** An account with two numbers (connected through the API), a team and an agent, and a caller of each role. */
interface World {
  accountId: string;
  /** The default number and an additional one. */
  main: string;
  second: string;
  teamId: string;
  userId: string;
  admin: { role: 'admin'; accountId: string };
  agent: { role: 'agent'; accountId: string };
  send(request: ApiRequest): ReturnType<typeof call>;
  /** POSTs as admin and expects 201. */
  create(kind: AutomationKind, body: unknown): Promise<Record<string, any>>;
  /** Connects one more number (buying its add-on): its whatsapp_phno. */
  connect(): Promise<string>;
}

async function world(): Promise<World> {
  const { accountId } = await newAccount(adaptersFor(table));
  const admin = { role: 'admin' as const, accountId };
  const owner = { role: 'owner' as const, accountId };
  const send: World['send'] = (request) => call(api, { as: admin, ...request });
  let connected = 0;
  const connect = async () => {
    if (connected++ > 0) expect((await send({ method: 'POST', path: '/v1/addons', body: { type: 'number', quantity: 1 }, as: owner })).status).toBe(200);
    const phno = `1555${digits(8)}`;
    const res = await send({ method: 'POST', path: '/v1/numbers', body: { name: `N${connected}`, displayPhoneNumber: phno, phoneNumberId: `9${digits(14)}`, wabaId: `8${digits(14)}` } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return phno;
  };
  const main = await connect();
  const second = await connect();
  const team = await send({ method: 'POST', path: '/v1/teams', body: { name: 'Sales' } });
  const user = await send({ method: 'POST', path: '/v1/users', body: { email: `ana-${accountId}@example.com`, role: 'agent' } });
  expect([team.status, user.status]).toEqual([201, 201]);
  return {
    accountId,
    main,
    second,
    teamId: team.body.teamId,
    userId: user.body.userId,
    admin,
    agent: { role: 'agent', accountId },
    send,
    connect,
    async create(kind, body) {
      const res = await send({ method: 'POST', path: `/v1/automations/${kind}`, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    },
  };
}

/** The issue paths of a 400. */
function issuePaths(res: { status: number; body: any }): string[] {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  return res.body.error.issues.map((issue: { path: (string | number)[] }) => issue.path.join('.'));
}

const bot = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'Menu', steps, ...extra });
const options = (titles: string[], next = 'end') => titles.map((title) => ({ title, next }));
const END = { id: 'end', text: 'Thanks!' };

beforeAll(async () => {
  table = await createTestTable('automations-api');
  api = createApi(createApiDeps(table.doc, table.tableName, { events: new RecordingPublisher(), messaging: new RecordingSender() }));
});

describe('each kind: create, get, list, replace, delete', () => {
  /** A valid body of each kind, and another to replace it with. */
  const bodies = (w: World): Record<AutomationKind, [Record<string, unknown>, Record<string, unknown>]> => ({
    keywords: [
      { keywords: ['preço', 'price'], action: { type: 'reply', text: 'Our prices: …' } },
      { keywords: ['horario'], match: 'contains', priority: 5, action: { type: 'assignTeam', teamId: w.teamId }, scope: { whatsapp_phno: w.second } },
    ],
    'default-actions': [
      { event: 'welcome', text: 'Welcome, {{name|there}}!' },
      {
        event: 'outOfOffice',
        text: 'We are closed.',
        workingHours: { timeZone: 'America/Sao_Paulo', days: { mon: [{ from: '09:00', to: '18:00' }] } },
        enabled: false,
      },
    ],
    routes: [
      { teamId: w.teamId },
      { name: 'Vendas round robin', teamId: w.teamId, members: [w.userId], keywords: ['comprar'], scope: { whatsapp_phno: w.second } },
    ],
    'reply-material': [
      { name: 'Opening hours', content: { type: 'text', text: 'We open at 9, {{name}}.' } },
      { name: 'Catalogue', content: { type: 'document', url: 'https://example.com/catalogue.pdf', filename: 'catalogue.pdf' } },
    ],
    chatbots: [
      bot([{ id: 'start', text: 'Sales or support?', options: options(['Sales', 'Support']) }, END]),
      bot([{ id: 'start', text: 'Pick one', options: options(['One']), retryText: 'Please pick one.' }, END], { exitWords: ['sair'], maxRetries: 1 }),
    ],
    'ai-agents': [
      { name: 'Helper', instructions: 'Answer briefly.', knowledge: ['We open at 9.'] },
      { name: 'Sales', instructions: 'Be kind.', knowledge: ['Plans start at R$ 49.', 'Cards accepted.'], handoff: { teamId: w.teamId, message: 'A colleague will help.' }, defaultAnswerer: true, scope: { whatsapp_phno: w.second } },
    ],
    sequences: [
      { name: 'Follow-up', steps: [{ delay: { hours: 1 }, message: { text: 'Still there?' } }] },
      { name: 'Nurture', steps: [{ delay: { days: 1 }, message: { template: { name: 'promo', language: 'pt_BR' } }, sendBetween: { from: '09:00', to: '18:00' } }], enabled: false },
    ],
  });

  /** Defaults each kind's schema fills in. */
  const DEFAULTS: Record<AutomationKind, Record<string, unknown>> = {
    keywords: { match: 'exact', priority: 0, enabled: true, scope: {} },
    'default-actions': { enabled: true, scope: {} },
    routes: { members: [], keywords: [], enabled: true, scope: {} },
    'reply-material': { scope: {} },
    chatbots: { exitWords: [], maxRetries: 2, scope: {} },
    'ai-agents': { handoff: {}, defaultAnswerer: false, enabled: true, scope: {} },
    sequences: { enabled: true, scope: {} },
  };

  const PREFIX: Record<AutomationKind, string> = {
    keywords: 'kw_',
    'default-actions': 'da_',
    routes: 'route_',
    'reply-material': 'rm_',
    chatbots: 'chat_',
    'ai-agents': 'ai_',
    sequences: 'seq_',
  };

  it.each(AUTOMATION_KINDS.map((kind) => [kind]))('%s', async (kind) => {
    const w = await world();
    const [first, second] = bodies(w)[kind];
    const path = `/v1/automations/${kind}`;

    const created = await w.create(kind, first);
    expect(created).toEqual({ id: expect.stringMatching(new RegExp(`^${PREFIX[kind]}[a-z0-9]+$`)), kind, createdAt: expect.any(String), updatedAt: created.createdAt, ...DEFAULTS[kind], ...first });
    expect(Object.keys(created).slice(0, 4)).toEqual(['id', 'kind', 'createdAt', 'updatedAt']);

    expect(await w.send({ method: 'GET', path: `${path}/${created.id}`, as: w.agent })).toMatchObject({ status: 200, body: created });
    expect(await w.send({ method: 'GET', path, as: w.agent })).toMatchObject({ status: 200, body: { items: [created], nextCursor: null } });

    const replaced = await w.send({ method: 'PUT', path: `${path}/${created.id}`, body: second });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body).toEqual({ id: created.id, kind, createdAt: created.createdAt, updatedAt: expect.any(String), ...DEFAULTS[kind], ...second });
    expect(replaced.body.updatedAt >= created.createdAt).toBe(true);
    expect((await w.send({ method: 'GET', path: `${path}/${created.id}` })).body).toEqual(replaced.body);

    expect((await w.send({ method: 'DELETE', path: `${path}/${created.id}` })).status).toBe(204);
    expect((await w.send({ method: 'GET', path: `${path}/${created.id}` })).status).toBe(404);
    expect((await w.send({ method: 'DELETE', path: `${path}/${created.id}` })).status).toBe(404);
    expect((await w.send({ method: 'PUT', path: `${path}/${created.id}`, body: first })).status).toBe(404);
    expect((await w.send({ method: 'GET', path })).body.items).toEqual([]);
  });

  it('replacing a rule with an account-wide body drops its number from the listings for other numbers', async () => {
    const w = await world();
    const rule = await w.create('keywords', { keywords: ['oi'], action: { type: 'reply', text: 'Olá' }, scope: { whatsapp_phno: w.second } });
    const forDefault = () => w.send({ method: 'GET', path: '/v1/automations/keywords', query: { whatsapp_phno: w.main } });
    expect((await forDefault()).body.items).toEqual([]);
    await w.send({ method: 'PUT', path: `/v1/automations/keywords/${rule.id}`, body: { keywords: ['oi'], action: { type: 'reply', text: 'Olá' } } });
    expect((await forDefault()).body.items.map((item: { id: string }) => item.id)).toEqual([rule.id]);
  });

  it('replays a POST with the same Idempotency-Key: one automation', async () => {
    const w = await world();
    const request = { method: 'POST', path: '/v1/automations/keywords', body: { keywords: ['hi'], action: { type: 'reply', text: 'Hello' } }, headers: { 'Idempotency-Key': 'kw-1' } };
    const [a, b] = [await w.send(request), await w.send(request)];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.body.id).toBe(a.body.id);
    expect((await w.send({ method: 'GET', path: '/v1/automations/keywords' })).body.items).toHaveLength(1);
  });

  it('answers 404 for a kind it does not have', async () => {
    const w = await world();
    for (const request of [
      { method: 'GET', path: '/v1/automations/macros' },
      { method: 'POST', path: '/v1/automations/macros', body: {} },
      { method: 'GET', path: '/v1/automations/macros/kw_abcdef123' },
    ]) {
      const res = await w.send(request);
      expect(res.status, request.path).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('roles', () => {
  it('lets agents read and refuses them every write with 403', async () => {
    const w = await world();
    const item = await w.create('reply-material', { name: 'Hi', content: { type: 'text', text: 'Hi!' } });
    const path = '/v1/automations/reply-material';
    expect((await w.send({ method: 'GET', path, as: w.agent })).status).toBe(200);
    expect((await w.send({ method: 'GET', path: `${path}/${item.id}`, as: w.agent })).status).toBe(200);
    for (const request of [
      { method: 'POST', path, body: { name: 'Hi', content: { type: 'text', text: 'Hi!' } } },
      { method: 'PUT', path: `${path}/${item.id}`, body: { name: 'Hi', content: { type: 'text', text: 'Hi!' } } },
      { method: 'DELETE', path: `${path}/${item.id}` },
    ]) {
      const res = await w.send({ ...request, as: w.agent });
      expect(res.status, request.method).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect((await w.send({ method: 'GET', path: `${path}/${item.id}` })).body).toEqual(item);
  });

  it('lets owners write, and support staff on the account they name', async () => {
    const w = await world();
    const body = { keywords: ['x'], action: { type: 'reply', text: 'y' } };
    expect((await w.send({ method: 'POST', path: '/v1/automations/keywords', body, as: { role: 'owner', accountId: w.accountId } })).status).toBe(201);
    const bySupport = await w.send({ method: 'POST', path: '/v1/automations/keywords', body, as: { role: 'support' }, headers: { 'X-Account-Id': w.accountId } });
    expect(bySupport.status).toBe(201);
    expect((await w.send({ method: 'GET', path: '/v1/automations/keywords' })).body.items).toHaveLength(2);
  });

  it('answers 401 without a token', async () => {
    expect((await call(api, { method: 'GET', path: '/v1/automations/keywords' })).status).toBe(401);
  });
});

describe('the scope', () => {
  it('answers 400 naming scope.whatsapp_phno for a number the account does not have (another account’s included)', async () => {
    const w = await world();
    const other = await world();
    for (const phno of ['15559999999', other.main]) {
      for (const kind of AUTOMATION_KINDS) {
        const body = {
          keywords: { keywords: ['hi'], action: { type: 'reply', text: 'Hello' } },
          'default-actions': { event: 'fallback', text: 'Sorry?' },
          routes: { teamId: w.teamId },
          'reply-material': { name: 'Hi', content: { type: 'text', text: 'Hi' } },
          chatbots: bot([END]),
          'ai-agents': { name: 'Helper', instructions: 'Answer briefly.', knowledge: ['We open at 9.'] },
          sequences: { name: 'Follow-up', steps: [{ delay: { minutes: 30 }, message: { text: 'Hi again' } }] },
        }[kind];
        const res = await w.send({ method: 'POST', path: `/v1/automations/${kind}`, body: { ...body, scope: { whatsapp_phno: phno } } });
        expect(issuePaths(res), `${kind} ${phno}`).toEqual(['body.scope.whatsapp_phno']);
        expect(res.body.error.message).toContain(phno);
      }
    }
    expect((await w.send({ method: 'GET', path: '/v1/automations/keywords' })).body.items).toEqual([]);
  });

  it('takes a number in any form and stores it normalised', async () => {
    const w = await world();
    const rule = await w.create('keywords', { keywords: ['hi'], action: { type: 'reply', text: 'Hello' }, scope: { whatsapp_phno: formatted(w.second) } });
    expect(rule.scope).toEqual({ whatsapp_phno: w.second });
  });

  it('lists for one number its rules and the account-wide ones, never other numbers’ rules', async () => {
    const w = await world();
    const reply = (text: string) => ({ type: 'reply', text });
    const wide = await w.create('keywords', { keywords: ['a'], action: reply('account-wide') });
    const forDefault = await w.create('keywords', { keywords: ['b'], action: reply('default rule'), scope: { whatsapp_phno: w.main } });
    const forVendas = await w.create('keywords', { keywords: ['c'], action: reply('vendas rule'), scope: { whatsapp_phno: w.second } });
    const wide2 = await w.create('keywords', { keywords: ['d'], action: reply('account-wide too') });
    const ids = async (query: Record<string, string>) =>
      (await w.send({ method: 'GET', path: '/v1/automations/keywords', query, as: w.agent })).body.items.map((item: { id: string }) => item.id);

    expect(await ids({})).toEqual([wide.id, forDefault.id, forVendas.id, wide2.id]);
    expect(await ids({ whatsapp_phno: w.main })).toEqual([wide.id, forDefault.id, wide2.id]);
    expect(await ids({ whatsapp_phno: formatted(w.second) })).toEqual([wide.id, forVendas.id, wide2.id]);
    // A number without rules of its own (or no longer connected) still gets the account-wide ones.
    expect(await ids({ whatsapp_phno: '15559999999' })).toEqual([wide.id, wide2.id]);
    // Other kinds are other listings.
    expect((await w.send({ method: 'GET', path: '/v1/automations/routes', query: { whatsapp_phno: w.main } })).body.items).toEqual([]);
  });

  it('answers 400 naming query.whatsapp_phno for a filter that is not a phone number', async () => {
    const w = await world();
    expect(issuePaths(await w.send({ method: 'GET', path: '/v1/automations/keywords', query: { whatsapp_phno: 'abc' } }))).toEqual(['query.whatsapp_phno']);
  });
});

describe('chatbots: what Meta would refuse, refused now', () => {
  it('answers 400 naming steps.0.options.0.next for a step that does not exist', async () => {
    const w = await world();
    const res = await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([{ id: 'start', text: 'Go?', options: options(['Yes'], 'nowhere') }, END]) });
    expect(issuePaths(res)).toEqual(['body.steps.0.options.0.next']);
    expect(res.body.error.message).toContain('nowhere');
  });

  it('takes more than 3 options with titles of 21 to 24 characters: they go as a list', async () => {
    const w = await world();
    const titles = ['A'.repeat(21), 'B'.repeat(22), 'C'.repeat(23), 'D'.repeat(24)];
    const created = await w.create('chatbots', bot([{ id: 'start', text: 'Choose', options: options(titles) }, END]));
    expect(created.steps[0].options.map((o: { title: string }) => o.title)).toEqual(titles);
  });

  it('answers 400 for a title of 21 characters in a step of up to 3 options (reply buttons)', async () => {
    const w = await world();
    const res = await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([{ id: 'start', text: 'Choose', options: options(['Short', 'X'.repeat(21), 'Y'.repeat(20)]) }, END]) });
    expect(issuePaths(res)).toEqual(['body.steps.0.options.1.title']);
  });

  it('answers 400 for more than 10 options and for a list title over 24 characters', async () => {
    const w = await world();
    const eleven = Array.from({ length: 11 }, (_, i) => `Option ${i + 1}`);
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([{ id: 'start', text: 'Choose', options: options(eleven) }, END]) }))).toEqual([
      'body.steps.0.options',
    ]);
    const long = ['One', 'Two', 'Three', 'Z'.repeat(25)];
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([{ id: 'start', text: 'Choose', options: options(long) }, END]) }))).toEqual([
      'body.steps.0.options.3.title',
    ]);
  });

  it('answers 400 for two steps of one id, two options of one title, and an interval that ends before it starts', async () => {
    const w = await world();
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([END, { ...END, text: 'Again' }]) }))).toEqual(['body.steps.1.id']);
    expect(
      issuePaths(await w.send({ method: 'POST', path: '/v1/automations/chatbots', body: bot([{ id: 'start', text: 'Choose', options: options(['Sales', 'sales ']) }, END]) })),
    ).toEqual(['body.steps.0.options.1.title']);
    const hours = { timeZone: 'UTC', days: { mon: [{ from: '18:00', to: '09:00' }] } };
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/default-actions', body: { event: 'outOfOffice', text: 'Closed', workingHours: hours } }))).toEqual([
      'body.workingHours.days.mon.0.to',
    ]);
  });

  it('checks a replaced chatbot as a new one', async () => {
    const w = await world();
    const created = await w.create('chatbots', bot([END]));
    const res = await w.send({ method: 'PUT', path: `/v1/automations/chatbots/${created.id}`, body: bot([{ id: 'start', text: 'Go?', options: options(['Yes'], 'gone') }]) });
    expect(issuePaths(res)).toEqual(['body.steps.0.options.0.next']);
    expect((await w.send({ method: 'GET', path: `/v1/automations/chatbots/${created.id}` })).body).toEqual(created);
  });
});

describe('references to the account’s chatbots, reply material, teams and users', () => {
  it('answers 400 naming action.chatbotId for a keyword starting a chatbot the account does not have', async () => {
    const w = await world();
    const other = await world();
    const foreign = await other.create('chatbots', bot([END]));
    for (const chatbotId of ['chat_doesnotexist', foreign.id]) {
      const res = await w.send({ method: 'POST', path: '/v1/automations/keywords', body: { keywords: ['menu'], action: { type: 'startChatbot', chatbotId } } });
      expect(issuePaths(res)).toEqual(['body.action.chatbotId']);
    }
    const mine = await w.create('chatbots', bot([END]));
    const keyword = await w.create('keywords', { keywords: ['menu'], action: { type: 'startChatbot', chatbotId: mine.id } });
    expect(keyword.action).toEqual({ type: 'startChatbot', chatbotId: mine.id });
  });

  it('answers 400 naming action.replyMaterialId and action.teamId for ones the account does not have', async () => {
    const w = await world();
    const missingMaterial = await w.send({ method: 'POST', path: '/v1/automations/keywords', body: { keywords: ['x'], action: { type: 'replyMaterial', replyMaterialId: 'rm_nothere123' } } });
    expect(issuePaths(missingMaterial)).toEqual(['body.action.replyMaterialId']);
    const missingTeam = await w.send({ method: 'POST', path: '/v1/automations/keywords', body: { keywords: ['x'], action: { type: 'assignTeam', teamId: 'team_nothere123' } } });
    expect(issuePaths(missingTeam)).toEqual(['body.action.teamId']);
    const material = await w.create('reply-material', { name: 'Hours', content: { type: 'text', text: '9 to 6' } });
    await w.create('keywords', { keywords: ['x'], action: { type: 'replyMaterial', replyMaterialId: material.id } });
    await w.create('keywords', { keywords: ['y'], action: { type: 'assignTeam', teamId: w.teamId } });
  });

  it('lets a rule for one number use a chatbot or reply material only when it is account-wide or for that same number', async () => {
    const w = await world();
    const vendasBot = await w.create('chatbots', bot([END], { scope: { whatsapp_phno: w.second } }));
    const start = (scope: Record<string, string>) => ({ keywords: ['menu'], action: { type: 'startChatbot', chatbotId: vendasBot.id }, scope });
    const wide = await w.send({ method: 'POST', path: '/v1/automations/keywords', body: start({}) });
    expect(issuePaths(wide)).toEqual(['body.action.chatbotId']);
    expect(wide.body.error.message).toContain('every number');
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/keywords', body: start({ whatsapp_phno: w.main }) }))).toEqual(['body.action.chatbotId']);
    await w.create('keywords', start({ whatsapp_phno: w.second }));

    const vendasMaterial = await w.create('reply-material', { name: 'Oi', content: { type: 'text', text: 'Oi' }, scope: { whatsapp_phno: w.second } });
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/default-actions', body: { event: 'welcome', replyMaterialId: vendasMaterial.id } }))).toEqual([
      'body.replyMaterialId',
    ]);
    await w.create('default-actions', { event: 'welcome', replyMaterialId: vendasMaterial.id, scope: { whatsapp_phno: w.second } });
  });

  it('answers 400 naming teamId and members.N for a route naming a team or users the account does not have', async () => {
    const w = await world();
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/routes', body: { teamId: 'team_nothere123' } }))).toEqual(['body.teamId']);
    const res = await w.send({ method: 'POST', path: '/v1/automations/routes', body: { teamId: w.teamId, members: [w.userId, 'usr_nothere123', w.userId, 'usr_gone456789'] } });
    expect(issuePaths(res).sort()).toEqual(['body.members.1', 'body.members.3']);
  });

  it('answers 400 naming replyMaterialId for a default action whose reply material does not exist, and names every problem at once', async () => {
    const w = await world();
    const res = await w.send({ method: 'POST', path: '/v1/automations/default-actions', body: { event: 'welcome', replyMaterialId: 'rm_nothere123', scope: { whatsapp_phno: '15559999999' } } });
    expect(issuePaths(res).sort()).toEqual(['body.replyMaterialId', 'body.scope.whatsapp_phno']);
  });

  it('answers 400 naming the field for bodies the schema refuses', async () => {
    const w = await world();
    const post = (kind: AutomationKind, body: unknown) => w.send({ method: 'POST', path: `/v1/automations/${kind}`, body });
    expect(issuePaths(await post('keywords', { keywords: [], action: { type: 'reply', text: 'x' } }))).toEqual(['body.keywords']);
    expect(issuePaths(await post('keywords', { keywords: ['x'], action: { type: 'reply', text: 'x' }, colour: 'red' }))).toEqual(['body']);
    expect(issuePaths(await post('default-actions', { event: 'welcome', text: 'Hi', replyMaterialId: 'rm_abcdef123' }))).toEqual(['body.text']);
    expect(issuePaths(await post('default-actions', { event: 'outOfOffice', text: 'Closed' }))).toEqual(['body.workingHours']);
    expect(issuePaths(await post('reply-material', { name: 'x', content: { type: 'image', url: 'http://example.com/a.png' } }))).toEqual(['body.content.url']);
    expect(issuePaths(await post('routes', { teamId: 'not an id' }))).toEqual(['body.teamId']);
    expect(issuePaths(await w.send({ method: 'POST', path: '/v1/automations/routes', body: '{not json' }))).toEqual(['body']);
  });
});

describe('pagination', () => {
  it('pages oldest first with the cursor it issues, filtered or not', async () => {
    const w = await world();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const scope = i % 2 === 1 ? { whatsapp_phno: w.second } : {};
      made.push((await w.create('reply-material', { name: `M${i}`, content: { type: 'text', text: `m${i}` }, scope })).id);
    }
    const readAll = async (query: Record<string, string>) => {
      const ids: string[][] = [];
      let cursor: string | undefined;
      do {
        const res = await w.send({ method: 'GET', path: '/v1/automations/reply-material', query: { ...query, ...(cursor ? { cursor } : {}) } });
        expect(res.status).toBe(200);
        ids.push(res.body.items.map((item: { id: string }) => item.id));
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    expect(await readAll({ limit: '2' })).toEqual([[made[0], made[1]], [made[2], made[3]], [made[4]]]);
    // Filtered pages are full pages: the rule for another number is read past, not returned as a short page.
    const third = await w.create('reply-material', { name: 'T', content: { type: 'text', text: 't' }, scope: { whatsapp_phno: await w.connect() } });
    expect((await readAll({ limit: '2', whatsapp_phno: w.main })).flat()).toEqual([made[0], made[2], made[4]]);
    expect((await readAll({ limit: '2', whatsapp_phno: w.main }))[0]).toEqual([made[0], made[2]]);
    expect((await readAll({ limit: '10' })).flat()).toEqual([...made, third.id]);
  });

  it('answers 400 naming query.cursor for a cursor it did not issue for that listing', async () => {
    const w = await world();
    const other = await world();
    for (const world of [w, other]) {
      for (let i = 0; i < 2; i++) {
        await world.create('keywords', { keywords: [`k${i}`], action: { type: 'reply', text: 'x' } });
        await world.create('reply-material', { name: `M${i}`, content: { type: 'text', text: 'x' } });
      }
    }
    const cursorOf = async (who: World, kind: AutomationKind) => (await who.send({ method: 'GET', path: `/v1/automations/${kind}`, query: { limit: '1' } })).body.nextCursor as string;
    const forged: [string, string][] = [
      ['not a cursor', 'bm9wZQ'],
      ['another item type of the account', asCursor(entities.team.key({ accountId: w.accountId, teamId: w.teamId }))],
      ['an automation of another kind', asCursor(entities.automation.key({ accountId: w.accountId, kind: 'reply-material', automationId: 'rm_abcdef123' }))],
      ['a cursor of another kind’s listing', await cursorOf(w, 'reply-material')],
      ['a cursor of another account', await cursorOf(other, 'keywords')],
    ];
    for (const [what, cursor] of forged) {
      expect(issuePaths(await w.send({ method: 'GET', path: '/v1/automations/keywords', query: { cursor } })), what).toEqual(['query.cursor']);
    }
    const next = await w.send({ method: 'GET', path: '/v1/automations/keywords', query: { cursor: await cursorOf(w, 'keywords') } });
    expect(next.body.items).toHaveLength(1);
  });
});

describe('accounts apart', () => {
  it('answers 404 for another account’s automation, whatever the method, and changes nothing', async () => {
    const w = await world();
    const other = await world();
    const theirs = await other.create('keywords', { keywords: ['x'], action: { type: 'reply', text: 'theirs' } });
    const path = `/v1/automations/keywords/${theirs.id}`;
    expect((await w.send({ method: 'GET', path })).status).toBe(404);
    expect((await w.send({ method: 'PUT', path, body: { keywords: ['x'], action: { type: 'reply', text: 'mine' } } })).status).toBe(404);
    expect((await w.send({ method: 'DELETE', path })).status).toBe(404);
    expect((await other.send({ method: 'GET', path })).body).toEqual(theirs);
    expect((await w.send({ method: 'GET', path: '/v1/automations/keywords' })).body.items).toEqual([]);
  });
});

describe('the repository', () => {
  it('loads an account’s whole set in one read, grouped by kind, oldest first', async () => {
    const w = await world();
    const material = await w.create('reply-material', { name: 'Hours', content: { type: 'text', text: '9 to 6' } });
    const chatbot = await w.create('chatbots', bot([END]));
    const k1 = await w.create('keywords', { keywords: ['a'], action: { type: 'startChatbot', chatbotId: chatbot.id } });
    const k2 = await w.create('keywords', { keywords: ['b'], action: { type: 'replyMaterial', replyMaterialId: material.id }, scope: { whatsapp_phno: w.second } });
    const welcome = await w.create('default-actions', { event: 'welcome', text: 'Hi' });
    const route = await w.create('routes', { teamId: w.teamId, members: [w.userId] });
    await (await world()).create('keywords', { keywords: ['other account'], action: { type: 'reply', text: 'x' } });

    const set = await new DynamoAutomationRepository(table.doc, table.tableName).loadSet(w.accountId);
    expect(set.keywords.map((k) => k.id)).toEqual([k1.id, k2.id]);
    expect(set.keywords[1]).toEqual({ accountId: w.accountId, kind: 'keywords', id: k2.id, body: expect.objectContaining({ scope: { whatsapp_phno: w.second } }), createdAt: k2.createdAt, updatedAt: k2.updatedAt });
    expect(set.defaultActions.map((d) => d.id)).toEqual([welcome.id]);
    expect(set.routes.map((r) => r.body.members)).toEqual([[w.userId]]);
    expect([...set.chatbots.keys()]).toEqual([chatbot.id]);
    expect(set.chatbots.get(chatbot.id)!.body.steps).toEqual([END]);
    expect([...set.replyMaterial.keys()]).toEqual([material.id]);
    expect(route.id).toMatch(/^route_/);
  });

  it('loads an empty set for an account without automations', async () => {
    const set = await new DynamoAutomationRepository(table.doc, table.tableName).loadSet('acc_nothing0000');
    expect(set).toEqual({ keywords: [], defaultActions: [], routes: [], chatbots: new Map(), replyMaterial: new Map(), aiAgents: new Map(), sequences: new Map() });
  });

  it('never overwrites on create, and never brings a deleted automation back on replace', async () => {
    const repo = new DynamoAutomationRepository(table.doc, table.tableName);
    const at = new Date().toISOString();
    const item = { accountId: 'acc_repo00001', kind: 'keywords' as const, id: 'kw_repo00001', body: { keywords: ['a'], match: 'exact' as const, priority: 0, action: { type: 'reply' as const, text: 'a' }, scope: {}, enabled: true }, createdAt: at, updatedAt: at };
    await repo.create(item);
    await expect(repo.create({ ...item, body: { ...item.body, keywords: ['b'] } })).rejects.toMatchObject({ code: 'AUTOMATION_EXISTS' });
    expect((await repo.get('acc_repo00001', 'keywords', 'kw_repo00001'))!.body.keywords).toEqual(['a']);
    expect(await repo.delete('acc_repo00001', 'keywords', 'kw_repo00001')).toBe(true);
    expect(await repo.replace('acc_repo00001', 'keywords', 'kw_repo00001', item.body, at)).toBeUndefined();
    expect(await repo.get('acc_repo00001', 'keywords', 'kw_repo00001')).toBeUndefined();
    expect(await repo.delete('acc_repo00001', 'keywords', 'kw_repo00001')).toBe(false);
  });
});
