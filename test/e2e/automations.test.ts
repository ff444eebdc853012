/**
 * Automations end to end through the local runtime over HTTP: automations
 * created through the API, Meta's deliveries signed and posted to /webhook,
 * the bus handing them to the inbox and the automation consumers, the
 * replies seen in the Graph API simulator and the decisions in the inbox API.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { eventually, localClient } from '../support/local-client.js';

let runtime: LocalRuntime;
let owner: string;
let accountId: string;

const MAIN = { displayPhoneNumber: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' };
const VENDAS = { displayPhoneNumber: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' };
type Number = typeof MAIN;

const client = () => localClient(runtime);
const api = (method: string, path: string, body?: unknown) => client().api(method, path, owner, body);

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, env: { AI_DEBOUNCE_MS: '1500' } });
  const support = await client().token({ role: 'support' });
  const created = await client().api('POST', '/v1/admin/accounts', support, {
    name: 'Acme',
    plan: { users: 5, teams: 3, chatbotSessions: 2, aiResponses: 10 },
    creditsMicros: 50_000_000,
  });
  expect(created.status).toBe(201);
  accountId = created.body.accountId;
  owner = await client().token({ role: 'owner', accountId });
  expect((await api('POST', '/v1/addons', { type: 'number', quantity: 1 })).status).toBe(200);
  for (const [name, number] of [['Main', MAIN], ['Vendas', VENDAS]] as const) expect((await api('POST', '/v1/numbers', { name, ...number })).status).toBe(201);
  // DynamoDB Local's start and the runtime's first import of every function: slow when the whole suite shares two cores.
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
});

/** A `messages` delivery of one inbound message, as Meta sends it, with the wamid it carries. */
function delivery(number: Number, from: string, message: Record<string, unknown>, wamid = `wamid.E2E_${randomUUID()}`) {
  const raw = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: number.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: number.displayPhoneNumber, phone_number_id: number.phoneNumberId },
              contacts: [{ profile: { name: 'Ana' }, wa_id: from }],
              messages: [{ from, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
            },
          },
        ],
      },
    ],
  });
  return { raw, wamid };
}

const text = (number: Number, from: string, body: string) => delivery(number, from, { type: 'text', text: { body } });

/** Posts signed bytes to the webhook and waits until the bus has handed out every event. */
async function deliver(raw: string): Promise<void> {
  expect(await client().deliver(raw)).toBe(200);
  await runtime.bus.drain();
}

interface SimulatedSend {
  phoneNumberId: string;
  to: string;
  type: string;
  text?: string;
  interactive?: { type: string; body: { text: string }; action: { buttons?: { reply: { id: string; title: string } }[] } };
}

async function sentTo(to: string): Promise<SimulatedSend[]> {
  return ((await api('GET', '/local/graph/messages')).body.items as SimulatedSend[]).filter((s) => s.to === to);
}

const said = (send: SimulatedSend) => send.text ?? send.interactive?.body.text;

async function decisionOf(number: Number, from: string, wamid: string) {
  const messages = await eventually(
    async () => (await api('GET', `/v1/conversations/${number.displayPhoneNumber}_${from}/messages`)).body,
    (body) => body?.items?.some((m: { wamid: string; automation?: unknown }) => m.wamid === wamid && m.automation),
    10_000,
  );
  return messages.items.find((m: { wamid: string }) => m.wamid === wamid).automation;
}

describe('automations through the local runtime', () => {
  let bot: string;

  beforeAll(async () => {
    const created = await Promise.all([
      api('POST', '/v1/automations/keywords', { keywords: ['hours'], match: 'contains', action: { type: 'reply', text: 'Open 9 to 18.' } }),
      api('POST', '/v1/automations/keywords', { keywords: ['hours'], match: 'contains', scope: { whatsapp_phno: '15550001002' }, action: { type: 'reply', text: 'Vendas: open 9 to 21.' } }),
      api('POST', '/v1/automations/chatbots', {
        name: 'Menu',
        steps: [
          { id: 'start', text: 'Hi {{name|there}}! What can we do for you?', options: [{ title: 'Prices', next: 'prices' }, { title: 'Talk to someone', next: 'human' }] },
          { id: 'prices', text: 'Our price list: https://example.com/prices' },
          { id: 'human', text: 'An agent will answer you here shortly.' },
        ],
      }),
    ]);
    for (const answer of created) expect(answer.status).toBe(201);
    bot = created[2]!.body.id;
    expect((await api('POST', '/v1/automations/keywords', { keywords: ['menu'], action: { type: 'startChatbot', chatbotId: bot } })).status).toBe(201);
  });

  it('answers an account-wide keyword on both numbers, the rule for Vendas on Vendas only, and shows why', async () => {
    const from = '16505550101';
    const onMain = text(MAIN, from, 'What are your hours?');
    const onVendas = text(VENDAS, from, 'Hours please');
    await Promise.all([deliver(onMain.raw), deliver(onVendas.raw)]);
    const sends = await sentTo(from);
    expect(sends.map((s) => [s.phoneNumberId, said(s)])).toEqual(
      expect.arrayContaining([
        [MAIN.phoneNumberId, 'Open 9 to 18.'],
        [VENDAS.phoneNumberId, 'Vendas: open 9 to 21.'],
      ]),
    );
    expect(sends).toHaveLength(2);
    expect(await decisionOf(VENDAS, from, onVendas.wamid)).toMatchObject({ decidedBy: 'keyword', automation: { kind: 'keywords' }, replies: [{ outcome: 'sent' }] });
    expect((await decisionOf(VENDAS, from, onVendas.wamid)).reason).toMatch(/^rule keyword .* for 15550001002 beat account-wide/);
    expect((await decisionOf(MAIN, from, onMain.wamid)).reason).toMatch(/^account-wide keyword/);
  });

  it('replies once to a delivery posted 3 times in a row and to one posted 5 times at once', async () => {
    const from = '16505550102';
    const first = text(MAIN, from, 'hours?');
    for (let i = 0; i < 3; i++) await deliver(first.raw);
    const second = text(VENDAS, from, 'hours?');
    await Promise.all(Array.from({ length: 5 }, () => deliver(second.raw)));
    expect((await sentTo(from)).map(said)).toEqual(['Open 9 to 18.', 'Vendas: open 9 to 21.']);
    expect((await api('GET', '/local/bus/dead-letters')).body.items).toEqual([]);
  });

  it('with a quota of 2, starts two chatbot sessions for three contacts on two numbers and leaves the third for an agent', async () => {
    const contacts = [
      { number: MAIN, from: '16505550201' },
      { number: VENDAS, from: '16505550202' },
      { number: MAIN, from: '16505550203' },
    ];
    // Each posted twice at once as well: a duplicate never takes a second unit.
    const deliveries = contacts.map((c) => text(c.number, c.from, 'menu'));
    await Promise.all(deliveries.flatMap((d) => [deliver(d.raw), deliver(d.raw)]));

    const firstSteps = (await Promise.all(contacts.map((c) => sentTo(c.from)))).map((sends) => sends.filter((s) => s.type === 'interactive'));
    expect(firstSteps.map((s) => s.length).sort()).toEqual([0, 1, 1]);
    const started = firstSteps.find((s) => s.length === 1)![0]!;
    expect(started.interactive).toMatchObject({ type: 'button', body: { text: 'Hi Ana! What can we do for you?' } });
    expect(started.interactive!.action.buttons!.map((b) => b.reply)).toEqual([
      { id: `${bot}:start:0`, title: 'Prices' },
      { id: `${bot}:start:1`, title: 'Talk to someone' },
    ]);
    const account = await api('GET', '/v1/account');
    expect({ used: account.body.usage.chatbotSessions, limit: account.body.limits.chatbotSessions }).toEqual({ used: 2, limit: 2 });

    const third = contacts[firstSteps.findIndex((s) => s.length === 0)]!;
    const thirdDelivery = deliveries[contacts.indexOf(third)]!;
    expect(await sentTo(third.from)).toEqual([]);
    const conversation = (await api('GET', `/v1/conversations?whatsapp_phno=${third.number.displayPhoneNumber}&limit=100`)).body.items.find(
      (c: { waId: string }) => c.waId === third.from,
    );
    expect(conversation).toMatchObject({ unreadCount: 1, needsAgent: { reason: expect.stringContaining('QUOTA_EXCEEDED') } });
    expect(await decisionOf(third.number, third.from, thirdDelivery.wamid)).toMatchObject({ replies: [{ outcome: 'QUOTA_EXCEEDED' }] });
  });

  it('moves a session on by the button the user taps', async () => {
    // The quota is spent: a contact with a session from the test above taps "Prices".
    const [first] = await sentTo('16505550201');
    const [other] = await sentTo('16505550202');
    const open = first ? { number: MAIN, from: '16505550201' } : { number: VENDAS, from: '16505550202' };
    expect(first ?? other).toBeDefined();
    const tap = delivery(open.number, open.from, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: `${bot}:start:0`, title: 'Prices' } } });
    await deliver(tap.raw);
    expect((await sentTo(open.from)).map(said).at(-1)).toBe('Our price list: https://example.com/prices');
    expect(await decisionOf(open.number, open.from, tap.wamid)).toMatchObject({ decidedBy: 'session', replies: [{ outcome: 'sent' }] });
  });

  it('triggers nothing for an echo of the number itself or for statuses', async () => {
    const before = (await api('GET', '/local/graph/messages')).body.items.length;
    const echo = text(MAIN, MAIN.displayPhoneNumber, 'hours');
    await deliver(echo.raw);
    const status = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: MAIN.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: MAIN.displayPhoneNumber, phone_number_id: MAIN.phoneNumberId },
                statuses: [{ id: 'wamid.E2E_STATUS', status: 'delivered', timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: '16505550301' }],
              },
            },
          ],
        },
      ],
    });
    await deliver(status);
    const after = (await api('GET', '/local/graph/messages')).body.items as SimulatedSend[];
    expect(after.slice(before)).toEqual([]);
    // The echo reached the automation consumer (which let it pass); the status never did.
    const rulesOf = (eventId: string) => runtime.bus.recentEvents().find((e) => (e.event.detail as { eventId?: string }).eventId === eventId)?.rules;
    expect(rulesOf(echo.wamid)).toEqual(['inbox', 'automation', 'integrations', 'outgoingWebhooks']);
    expect(rulesOf('wamid.E2E_STATUS:delivered')).toEqual(['inbox', 'outgoingWebhooks']);
  });
});

describe('AI agents and sequences through the local runtime', () => {
  it('an AI agent started by a keyword on Vendas answers a burst once from its knowledge, with its sources', async () => {
    const agent = await api('POST', '/v1/automations/ai-agents', {
      name: 'Helper',
      instructions: 'Answer from the knowledge.',
      knowledge: ['Delivery takes 3 business days and costs R$ 15.', 'You can pay by card, Pix or boleto.'],
      scope: { whatsapp_phno: '15550001002' },
    });
    expect(agent.status).toBe(201);
    const keyword = await api('POST', '/v1/automations/keywords', { keywords: ['assistant'], scope: { whatsapp_phno: '15550001002' }, action: { type: 'aiAgent', aiAgentId: agent.body.id } });
    expect(keyword.status).toBe(201);
    const from = '16505550401';
    await deliver(text(VENDAS, from, 'assistant').raw);
    await deliver(text(VENDAS, from, 'how can I pay?').raw);
    const sent = await eventually(
      async () => sentTo(from),
      (items) => items.length > 0,
      10_000,
    );
    // Both messages were within the 1.5 s window of each other (wide enough for a loaded machine): one answer, the payment passage.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect((await sentTo(from)).map(said)).toEqual(['You can pay by card, Pix or boleto.']);
    expect(sent[0]!.phoneNumberId).toBe(VENDAS.phoneNumberId);
    const messages = (await api('GET', `/v1/conversations/15550001002_${from}/messages`)).body.items as { direction: string; ai?: { sources: { index: number }[] } }[];
    expect(messages.find((m) => m.direction === 'out')?.ai?.sources.map((s) => s.index)).toEqual([1]);
    expect((await api('GET', '/v1/account')).body.usage.aiResponses).toBe(1);
  });

  it('a sequence enrolled by the API waits on a local timer and is left when the contact replies', async () => {
    const from = '16505550402';
    await deliver(text(MAIN, from, 'hello there').raw);
    const sequence = await api('POST', '/v1/automations/sequences', { name: 'Follow-up', steps: [{ delay: { minutes: 5 }, message: { text: 'Still there?' } }] });
    expect(sequence.status).toBe(201);
    const path = `/v1/sequences/${sequence.body.id}/enrollments`;
    const conversationId = `15550001001_${from}`;
    expect((await api('POST', path, { conversationId })).status).toBe(201);
    expect((await api('POST', path, { conversationId })).status).toBe(200);
    // One step waiting (enrolling twice scheduled nothing twice), due in 5 minutes.
    const pending = ((await api('GET', '/local/sequence-steps')).body.items as { at: string; due: { sequenceId: string; step: number } }[]).filter(
      (p) => p.due.sequenceId === sequence.body.id,
    );
    expect(pending.map((p) => p.due.step)).toEqual([0]);
    expect(Date.parse(pending[0]!.at) - Date.now()).toBeGreaterThan(4 * 60_000);
    await deliver(text(MAIN, from, 'no thanks').raw);
    const listed = await eventually(
      async () => (await api('GET', path)).body,
      (body) => body?.items?.[0]?.status === 'left',
      10_000,
    );
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ status: 'left', endReason: 'replied', steps: [] });
  });
});
