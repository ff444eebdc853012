import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_TEXT, decide, optionReplyId, parseOptionReplyId } from '../../functions/core/automation-engine.js';
import { localClock, withinHours } from '../../functions/core/automation-match.js';
import type { AutomationSet, ChatbotSession, DecisionInput, StoredAutomation } from '../../functions/core/automation-ports.js';
import type { AiConversation } from '../../functions/core/ai-ports.js';
import { aiAgentBody, chatbotBody, defaultActionBody, keywordBody, replyMaterialBody, routeBody, sequenceBody, type AutomationKind } from '../../schemas/automations.js';

// ---------------------------------------------------------------- factories

const PHNO = '15550001002';
const OTHER = '15550001003';
/** A Wednesday, 12:00 in São Paulo. */
const NOW = new Date('2026-11-25T15:00:00Z');
const BOT = 'chat_menu001';

let seq = 0;
function stored<K extends AutomationKind>(kind: K, id: string, body: StoredAutomation<K>['body'], createdAt?: string): StoredAutomation<K> {
  seq += 1;
  const at = createdAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  return { accountId: 'acc_test01', kind, id, body, createdAt: at, updatedAt: at };
}

type Over = { id?: string; createdAt?: string };
const kw = (body: object, over: Over = {}) => stored('keywords', over.id ?? `kw_${seq + 1}aaaaaa`, keywordBody.parse(body), over.createdAt);
const da = (body: object, over: Over = {}) => stored('default-actions', over.id ?? `da_${seq + 1}aaaaaa`, defaultActionBody.parse(body), over.createdAt);
const rt = (body: object, over: Over = {}) => stored('routes', over.id ?? `route_${seq + 1}aaaaaa`, routeBody.parse(body), over.createdAt);
const rm = (id: string, body: object) => stored('reply-material', id, replyMaterialBody.parse(body));
const bot = (id: string, body: object) => stored('chatbots', id, chatbotBody.parse(body));

const reply = (text: string) => ({ type: 'reply', text });
const rule = { whatsapp_phno: PHNO };

/** A menu: `menu` (Prices, Hours, Talk to us) → `prices` (Cards, Cash) → `done`. */
const menuBot = (over: object = {}) =>
  bot(BOT, {
    name: 'Menu',
    steps: [
      { id: 'menu', text: 'Pick one', options: [{ title: 'Preços', next: 'prices' }, { title: 'Hours', next: 'hours' }, { title: 'Talk to us', next: 'done' }] },
      { id: 'prices', text: 'How do you pay?', options: [{ title: 'Cards', next: 'done' }, { title: 'Cash', next: 'done' }], retryText: 'Cards or cash?' },
      { id: 'hours', text: 'We open at 9.' },
      { id: 'done', text: 'Thanks!' },
    ],
    exitWords: ['Tchau'],
    maxRetries: 2,
    ...over,
  });

function automations(
  over: Partial<{ keywords: unknown[]; defaultActions: unknown[]; routes: unknown[]; chatbots: unknown[]; replyMaterial: unknown[]; aiAgents: unknown[]; sequences: unknown[] }> = {},
): AutomationSet {
  const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((i) => [i.id, i]));
  return {
    keywords: (over.keywords ?? []) as AutomationSet['keywords'],
    defaultActions: (over.defaultActions ?? []) as AutomationSet['defaultActions'],
    routes: (over.routes ?? []) as AutomationSet['routes'],
    chatbots: byId((over.chatbots ?? []) as StoredAutomation<'chatbots'>[]),
    replyMaterial: byId((over.replyMaterial ?? []) as StoredAutomation<'reply-material'>[]),
    aiAgents: byId((over.aiAgents ?? []) as StoredAutomation<'ai-agents'>[]),
    sequences: byId((over.sequences ?? []) as StoredAutomation<'sequences'>[]),
  };
}

function session(over: Partial<ChatbotSession> = {}): ChatbotSession {
  return { chatbotId: BOT, stepId: 'menu', retries: 0, startedAt: '2026-11-25T14:00:00Z', lastActivityAt: '2026-11-25T14:00:00Z', startedBy: 'wamid.start', ...over };
}

interface InputOver {
  text?: string;
  replyId?: string;
  type?: string;
  sentAt?: Date;
  now?: Date;
  phno?: string;
  conversation?: Partial<DecisionInput['conversation']>;
  session?: ChatbotSession;
  aiAgent?: AiConversation;
  set?: AutomationSet;
}

function input(over: InputOver = {}): DecisionInput {
  const now = over.now ?? NOW;
  return {
    message: { wamid: 'wamid.in', type: over.type ?? 'text', text: over.text, replyId: over.replyId, sentAt: over.sentAt ?? now },
    conversation: {
      ref: { accountId: 'acc_test01', whatsappPhno: over.phno ?? PHNO, contactKey: 'wa_5511999990000' },
      firstMessage: false,
      windowOpenUntil: new Date(now.getTime() + 24 * 3600_000).toISOString(),
      ...over.conversation,
    },
    session: over.session,
    ...(over.aiAgent ? { aiAgent: over.aiAgent } : {}),
    automations: over.set ?? automations(),
    now,
  };
}

const sent = (plan: ReturnType<typeof decide>) => plan.actions.filter((a) => a.type === 'send').map((a) => (a.type === 'send' ? a.reply : undefined));

// -------------------------------------------------------------- keywords

describe('keywords', () => {
  it('answers an account-wide keyword on every number, a rule only on its number', () => {
    const set = automations({ keywords: [kw({ keywords: ['oi'], action: reply('Olá!') }), kw({ keywords: ['menu'], action: reply('Rule menu'), scope: rule })] });
    for (const phno of [PHNO, OTHER]) expect(sent(decide(input({ text: 'Oi', phno, set })))).toEqual([{ type: 'text', text: 'Olá!' }]);
    expect(sent(decide(input({ text: 'menu', set })))).toEqual([{ type: 'text', text: 'Rule menu' }]);
    expect(decide(input({ text: 'menu', phno: OTHER, set })).decidedBy).toBe('none');
  });

  it('lets a rule beat an account-wide keyword with the same word on its number only', () => {
    const accountWide = kw({ keywords: ['preço'], action: reply('account-wide') }, { id: 'kw_accountw1' });
    const ruleKw = kw({ keywords: ['preço'], action: reply('rule'), scope: rule }, { id: 'kw_rulekw01' });
    const set = automations({ keywords: [accountWide, ruleKw] });
    const onRule = decide(input({ text: 'PREÇO?', set }));
    expect(sent(onRule)).toEqual([{ type: 'text', text: 'rule' }]);
    expect(onRule).toMatchObject({ decidedBy: 'keyword', automation: { kind: 'keywords', id: 'kw_rulekw01' } });
    expect(onRule.reason).toBe(`rule keyword kw_rulekw01 (exact 'preço') for ${PHNO} beat account-wide kw_accountw1`);
    const onOther = decide(input({ text: 'PREÇO?', phno: OTHER, set }));
    expect(sent(onOther)).toEqual([{ type: 'text', text: 'account-wide' }]);
    expect(onOther.reason).toBe("account-wide keyword kw_accountw1 (exact 'preço')");
  });

  it('prefers any matching rule, even a fuzzy one, over an exact account-wide keyword', () => {
    const set = automations({ keywords: [kw({ keywords: ['price'], action: reply('aw') }), kw({ keywords: ['prices'], match: 'fuzzy', action: reply('rule'), scope: rule })] });
    expect(sent(decide(input({ text: 'price', set })))).toEqual([{ type: 'text', text: 'rule' }]);
  });

  it('ranks exact before contains before fuzzy within one scope, whatever the priority', () => {
    const fuzzyKw = kw({ keywords: ['price'], match: 'fuzzy', priority: 100, action: reply('fuzzy') });
    const containsKw = kw({ keywords: ['price'], match: 'contains', priority: 50, action: reply('contains') });
    const exactKw = kw({ keywords: ['price'], match: 'exact', action: reply('exact') });
    const set = automations({ keywords: [fuzzyKw, containsKw, exactKw] });
    expect(sent(decide(input({ text: 'Price', set })))).toEqual([{ type: 'text', text: 'exact' }]);
    expect(decide(input({ text: 'Price', set })).reason).toContain('over 2 lower-ranked matches');
    expect(sent(decide(input({ text: 'the price?', set })))).toEqual([{ type: 'text', text: 'contains' }]);
    expect(sent(decide(input({ text: 'the prcie?', set })))).toEqual([{ type: 'text', text: 'fuzzy' }]);
  });

  it('breaks a tie by priority, then the oldest createdAt, then the id', () => {
    const a = kw({ keywords: ['hi'], action: reply('old') }, { id: 'kw_bbbbbb', createdAt: '2026-01-01T00:00:00Z' });
    const b = kw({ keywords: ['hi'], action: reply('new') }, { id: 'kw_aaaaaa', createdAt: '2026-02-01T00:00:00Z' });
    const c = kw({ keywords: ['hi'], action: reply('same time, lower id') }, { id: 'kw_aaaaab', createdAt: '2026-01-01T00:00:00Z' });
    expect(sent(decide(input({ text: 'hi', set: automations({ keywords: [b, a] }) })))).toEqual([{ type: 'text', text: 'old' }]);
    expect(sent(decide(input({ text: 'hi', set: automations({ keywords: [a, c] }) })))).toEqual([{ type: 'text', text: 'same time, lower id' }]);
    const urgent = kw({ keywords: ['hi'], priority: 5, action: reply('priority') }, { createdAt: '2026-03-01T00:00:00Z' });
    expect(sent(decide(input({ text: 'hi', set: automations({ keywords: [a, b, urgent] }) })))).toEqual([{ type: 'text', text: 'priority' }]);
  });

  it('skips disabled keywords and names the word that matched', () => {
    const set = automations({ keywords: [kw({ keywords: ['x'], action: reply('off'), enabled: false }), kw({ keywords: ['hello', 'hi'], action: reply('on') }, { id: 'kw_hello01' })] });
    const plan = decide(input({ text: 'Hi!', set }));
    expect(sent(plan)).toEqual([{ type: 'text', text: 'on' }]);
    expect(plan.reason).toBe("account-wide keyword kw_hello01 (exact 'hi')");
  });

  it('sends reply material, and skips missing material with a reason', () => {
    const material = rm('rm_price01', { name: 'Prices', content: { type: 'image', url: 'https://example.com/p.png', caption: 'Hi {{name}}' } });
    const keywords = [kw({ keywords: ['price'], action: { type: 'replyMaterial', replyMaterialId: 'rm_price01' } })];
    expect(sent(decide(input({ text: 'price', set: automations({ keywords, replyMaterial: [material] }) })))).toEqual([
      { type: 'material', replyMaterialId: 'rm_price01', content: material.body.content },
    ]);
    const missing = decide(input({ text: 'price', set: automations({ keywords }) }));
    expect(missing).toMatchObject({ decidedBy: 'keyword', actions: [] });
    expect(missing.reason).toContain('reply material rm_price01 is missing: skipped');
  });

  it('starts a chatbot (the consumer takes the unit and sends the first step), unless it is missing or a rule of another number', () => {
    const keywords = [kw({ keywords: ['menu'], action: { type: 'startChatbot', chatbotId: BOT } })];
    expect(decide(input({ text: 'menu', set: automations({ keywords, chatbots: [menuBot()] }) })).actions).toEqual([{ type: 'startSession', chatbotId: BOT }]);
    expect(decide(input({ text: 'menu', set: automations({ keywords }) }))).toMatchObject({ actions: [], reason: expect.stringContaining(`chatbot ${BOT} is missing`) });
    const elsewhere = automations({ keywords, chatbots: [menuBot({ scope: { whatsapp_phno: OTHER } })] });
    expect(decide(input({ text: 'menu', set: elsewhere }))).toMatchObject({ actions: [], reason: expect.stringContaining(`is a rule for ${OTHER}`) });
  });

  it('assigns a team', () => {
    const set = automations({ keywords: [kw({ keywords: ['sales'], action: { type: 'assignTeam', teamId: 'team_sales1' } })] });
    expect(decide(input({ text: 'sales', set })).actions).toEqual([{ type: 'assign', teamId: 'team_sales1', members: [] }]);
  });

  it('answers a keyword instead of the welcome on a first message', () => {
    const set = automations({ keywords: [kw({ keywords: ['oi'], action: reply('kw') })], defaultActions: [da({ event: 'welcome', text: 'Welcome' })] });
    expect(sent(decide(input({ text: 'oi', conversation: { firstMessage: true }, set })))).toEqual([{ type: 'text', text: 'kw' }]);
  });
});

// ------------------------------------------------------------- interrupt

describe('interrupt', () => {
  const stopKw = kw({ keywords: ['stop'], action: reply('unsubscribed') });

  it('ends an open session on stop, with no reply, before any keyword', () => {
    const plan = decide(input({ text: 'STOP!', session: session(), set: automations({ keywords: [stopKw], chatbots: [menuBot()] }) }));
    expect(plan).toEqual({ decidedBy: 'interrupt', reason: `'stop' ended the session of chatbot ${BOT}`, automation: { kind: 'chatbots', id: BOT }, actions: [{ type: 'endSession', reason: 'exitWord' }] });
  });

  it("ends it on one of the chatbot's exit words, normalised", () => {
    const plan = decide(input({ text: ' tchau ', session: session(), set: automations({ chatbots: [menuBot()] }) }));
    expect(plan).toMatchObject({ decidedBy: 'interrupt', actions: [{ type: 'endSession', reason: 'exitWord' }] });
  });

  it('goes on to the keywords without a session', () => {
    expect(sent(decide(input({ text: 'stop', set: automations({ keywords: [stopKw], chatbots: [menuBot()] }) })))).toEqual([{ type: 'text', text: 'unsubscribed' }]);
  });

  it('wins over human ownership', () => {
    const plan = decide(input({ text: 'stop', session: session(), conversation: { assignedTeamId: 'team_sales1' }, set: automations({ chatbots: [menuBot()] }) }));
    expect(plan.decidedBy).toBe('interrupt');
  });
});

// ------------------------------------------------------------------ human

describe('human ownership', () => {
  const set = automations({
    keywords: [kw({ keywords: ['oi'], action: reply('kw') })],
    defaultActions: [da({ event: 'fallback', text: 'fb' })],
    routes: [rt({ teamId: 'team_sales1' })],
    chatbots: [menuBot()],
  });

  it('sends nothing automatic while a team is assigned and the window is open, and runs no route', () => {
    const plan = decide(input({ text: 'oi', conversation: { assignedTeamId: 'team_sales1' }, set }));
    expect(plan).toMatchObject({ decidedBy: 'human', actions: [] });
    expect(plan.reason).toContain('team team_sales1 is assigned and the window is open until');
  });

  it('ends an open session when an agent replied (after the session started or not)', () => {
    const before = decide(input({ text: '1', session: session(), conversation: { lastAgentReplyAt: '2026-11-25T13:00:00Z' }, set }));
    expect(before).toMatchObject({ decidedBy: 'human', actions: [{ type: 'endSession', reason: 'agent' }] });
    const after = decide(input({ text: '1', session: session(), conversation: { lastAgentReplyAt: '2026-11-25T14:30:00Z' }, set }));
    expect(after).toMatchObject({ decidedBy: 'human', actions: [{ type: 'endSession', reason: 'agent' }] });
  });

  it('lets automations answer again once the window is closed', () => {
    const plan = decide(input({ text: 'oi', conversation: { lastAgentReplyAt: '2026-11-20T10:00:00Z', windowOpenUntil: '2026-11-25T15:00:00Z' }, set }));
    expect(plan.decidedBy).toBe('keyword');
  });
});

// ---------------------------------------------------------------- session

describe('chatbot session', () => {
  const set = automations({ keywords: [kw({ keywords: ['hours'], action: reply('keyword') })], chatbots: [menuBot()] });

  it('takes a message equal to an account-wide keyword', () => {
    const plan = decide(input({ text: 'Hours', session: session(), set }));
    expect(plan).toMatchObject({ decidedBy: 'session', automation: { kind: 'chatbots', id: BOT } });
    expect(plan.actions).toEqual([{ type: 'send', reply: { type: 'step', chatbotId: BOT, stepId: 'hours' } }, { type: 'endSession', reason: 'completed' }]);
  });

  it('matches a button reply id first, whatever the text', () => {
    const plan = decide(input({ type: 'interactive', text: 'Hours', replyId: optionReplyId(BOT, 'menu', 0), session: session(), set }));
    expect(plan.actions).toEqual([{ type: 'advanceSession', chatbotId: BOT, stepId: 'prices' }, { type: 'send', reply: { type: 'step', chatbotId: BOT, stepId: 'prices' } }]);
    expect(plan.reason).toBe(`chatbot ${BOT} step menu: option 1 'Preços' (by reply id) → step prices`);
  });

  it('matches a normalised title, then an option number typed alone', () => {
    expect(decide(input({ text: 'precos!', session: session(), set })).actions[0]).toEqual({ type: 'advanceSession', chatbotId: BOT, stepId: 'prices' });
    const byNumber = decide(input({ text: ' 3. ', session: session(), set }));
    expect(byNumber.actions).toEqual([{ type: 'send', reply: { type: 'step', chatbotId: BOT, stepId: 'done' } }, { type: 'endSession', reason: 'completed' }]);
    expect(byNumber.reason).toContain('(by number)');
  });

  it('retries an invalid answer with the default or the step retry text, then re-sends the step', () => {
    expect(decide(input({ text: 'what?', session: session(), set })).actions).toEqual([
      { type: 'retrySession', chatbotId: BOT, stepId: 'menu', retries: 1 },
      { type: 'send', reply: { type: 'retry', chatbotId: BOT, stepId: 'menu', text: DEFAULT_RETRY_TEXT } },
      { type: 'send', reply: { type: 'step', chatbotId: BOT, stepId: 'menu' } },
    ]);
    const second = decide(input({ text: '7', session: session({ stepId: 'prices', retries: 1 }), set }));
    expect(second.actions.slice(0, 2)).toEqual([
      { type: 'retrySession', chatbotId: BOT, stepId: 'prices', retries: 2 },
      { type: 'send', reply: { type: 'retry', chatbotId: BOT, stepId: 'prices', text: 'Cards or cash?' } },
    ]);
    expect(second.reason).toBe(`chatbot ${BOT} step prices: '7' is not an option: retry 2 of 2`);
  });

  it('ends the session and leaves it for an agent after the last retry', () => {
    const plan = decide(input({ text: 'what?', session: session({ retries: 2 }), set }));
    expect(plan.actions).toEqual([{ type: 'endSession', reason: 'retriesExhausted' }, { type: 'flagForAgent', reason: 'retriesExhausted' }]);
    expect(plan.decidedBy).toBe('session');
  });

  it('treats a button of an earlier step as no answer, and a message without text too', () => {
    const stale = decide(input({ type: 'interactive', text: 'Cards', replyId: optionReplyId(BOT, 'prices', 0), session: session(), set }));
    expect(stale.actions[0]).toEqual({ type: 'retrySession', chatbotId: BOT, stepId: 'menu', retries: 1 });
    expect(stale.reason).toContain('a button of an earlier message');
    expect(decide(input({ type: 'image', session: session(), set })).reason).toContain('a message of type image is not an option');
  });

  it('ends a session idle more than 24 h and judges the message without it', () => {
    const idle = session({ lastActivityAt: '2026-11-24T14:59:59Z' });
    const plan = decide(input({ text: 'hours', session: idle, set }));
    expect(plan.actions).toEqual([{ type: 'endSession', reason: 'expired' }, { type: 'send', reply: { type: 'text', text: 'keyword' } }]);
    expect(plan.decidedBy).toBe('keyword');
    expect(plan.reason).toMatch(/^session of chat_menu001 ended: no answer for 24 h/);
    expect(decide(input({ text: 'hours', session: session({ lastActivityAt: '2026-11-24T15:00:00Z' }), set })).decidedBy).toBe('session');
  });

  it('ends a session an agent replied after, when the window no longer makes it human', () => {
    const plan = decide(input({ text: 'hours', session: session(), conversation: { lastAgentReplyAt: '2026-11-25T14:30:00Z', windowOpenUntil: undefined }, set }));
    expect(plan.actions[0]).toEqual({ type: 'endSession', reason: 'agent' });
    expect(plan.decidedBy).toBe('keyword');
  });

  it('ends a session whose chatbot was deleted', () => {
    const plan = decide(input({ text: 'hours', session: session(), set: automations({ keywords: set.keywords }) }));
    expect(plan.actions).toEqual([{ type: 'endSession', reason: 'expired' }, { type: 'send', reply: { type: 'text', text: 'keyword' } }]);
    expect(plan.reason).toContain('its chatbot was deleted');
  });

  it('builds and parses the reply ids of options', () => {
    expect(optionReplyId(BOT, 'menu', 2)).toBe('chat_menu001:menu:2');
    expect(parseOptionReplyId('chat_menu001:menu:2')).toEqual({ chatbotId: BOT, stepId: 'menu', optionIndex: 2 });
    expect(parseOptionReplyId('some-template-payload')).toBeUndefined();
    expect(parseOptionReplyId('a:b:c')).toBeUndefined();
  });
});

// --------------------------------------------------------- default actions

describe('default actions', () => {
  /** Mon–Fri 09:00–18:00 in São Paulo (UTC−3). */
  const hours = { timeZone: 'America/Sao_Paulo', days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [{ from: '09:00', to: '18:00' }]])) };
  const welcome = da({ event: 'welcome', text: 'Welcome!' });
  const ooo = da({ event: 'outOfOffice', text: 'We are closed', workingHours: hours });
  const fallback = da({ event: 'fallback', text: 'Sorry?' });
  const set = automations({ defaultActions: [fallback, ooo, welcome] });
  const saturdayNight = new Date('2026-11-29T01:10:00Z'); // Sat 22:10 in São Paulo

  it('answers a first in-hours message with the welcome only', () => {
    const plan = decide(input({ text: 'hello', conversation: { firstMessage: true }, set }));
    expect(sent(plan)).toEqual([{ type: 'text', text: 'Welcome!' }]);
    expect(plan.actions).toHaveLength(1);
    expect(plan.reason).toContain(`first message on ${PHNO}: welcome`);
  });

  it('answers a first out-of-hours message with the out-of-office only, judged on the message timestamp', () => {
    const plan = decide(input({ text: 'hello', sentAt: saturdayNight, now: new Date('2026-11-30T15:00:00Z'), conversation: { firstMessage: true }, set }));
    expect(plan.actions).toEqual([{ type: 'send', reply: { type: 'text', text: 'We are closed' } }]);
    expect(plan.reason).toMatch(/^out of office: Sat 22:10 America\/Sao_Paulo/);
    expect(decide(input({ text: 'hello', sentAt: new Date('2026-11-30T15:00:00Z'), now: new Date('2026-11-30T15:00:00Z'), set })).reason).toContain('fallback');
  });

  it('gates the fallback when nothing matched, and answers nothing without one', () => {
    const plan = decide(input({ text: 'hello', set }));
    expect(plan.actions).toEqual([{ type: 'fallbackGate' }, { type: 'send', reply: { type: 'text', text: 'Sorry?' } }]);
    expect(plan.reason).toMatch(/^nothing matched: fallback/);
    expect(decide(input({ text: 'hello', set: automations({ defaultActions: [welcome] }) }))).toEqual({ decidedBy: 'none', reason: 'nothing matched: no fallback', actions: [] });
  });

  it('prefers the rule of the number for each event', () => {
    const ruleWelcome = da({ event: 'welcome', text: 'Rule welcome', scope: rule });
    const both = automations({ defaultActions: [welcome, ruleWelcome] });
    expect(sent(decide(input({ text: 'x', conversation: { firstMessage: true }, set: both })))).toEqual([{ type: 'text', text: 'Rule welcome' }]);
    expect(sent(decide(input({ text: 'x', phno: OTHER, conversation: { firstMessage: true }, set: both })))).toEqual([{ type: 'text', text: 'Welcome!' }]);
    const allDay = { timeZone: 'UTC', days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ from: '00:00', to: '23:59' }]])) };
    const ruleOoo = da({ event: 'outOfOffice', text: 'Rule closed', workingHours: allDay, scope: rule });
    const shadowed = automations({ defaultActions: [ooo, ruleOoo, fallback] });
    expect(sent(decide(input({ text: 'x', sentAt: saturdayNight, set: shadowed })))).toEqual([{ type: 'text', text: 'Sorry?' }]);
  });

  it('sends reply material as a default action', () => {
    const material = rm('rm_welcome1', { name: 'Welcome', content: { type: 'text', text: 'Hi {{name|there}}' } });
    const withMaterial = automations({ defaultActions: [da({ event: 'welcome', replyMaterialId: 'rm_welcome1' })], replyMaterial: [material] });
    expect(sent(decide(input({ text: 'x', conversation: { firstMessage: true }, set: withMaterial })))).toEqual([
      { type: 'material', replyMaterialId: 'rm_welcome1', content: { type: 'text', text: 'Hi {{name|there}}' } },
    ]);
  });
});

describe('working hours', () => {
  const newYork = { timeZone: 'America/New_York', days: { mon: [{ from: '09:00', to: '17:00' }], fri: [{ from: '09:00', to: '17:00' }] } };

  it('follows daylight saving time of the zone', () => {
    // 13:30 UTC: 08:30 EST on Friday 6 March 2026, 09:30 EDT on Monday 9 March (DST began on the 8th).
    expect(localClock(new Date('2026-03-06T13:30:00Z'), 'America/New_York')).toEqual({ weekday: 'fri', minutes: 8 * 60 + 30, label: 'Fri 08:30' });
    expect(withinHours(newYork, new Date('2026-03-06T13:30:00Z'))).toBe(false);
    expect(withinHours(newYork, new Date('2026-03-09T13:30:00Z'))).toBe(true);
    const set = automations({ defaultActions: [da({ event: 'outOfOffice', text: 'closed', workingHours: newYork })] });
    expect(decide(input({ text: 'x', sentAt: new Date('2026-03-06T13:30:00Z'), set })).reason).toMatch(/^out of office: Fri 08:30 America\/New_York/);
    expect(decide(input({ text: 'x', sentAt: new Date('2026-03-09T13:30:00Z'), set })).decidedBy).toBe('none');
  });

  it('counts from inclusive and to exclusive', () => {
    const utc = { timeZone: 'UTC', days: { wed: [{ from: '09:00', to: '17:00' }] } };
    expect(withinHours(utc, new Date('2026-11-25T09:00:00Z'))).toBe(true);
    expect(withinHours(utc, new Date('2026-11-25T16:59:00Z'))).toBe(true);
    expect(withinHours(utc, new Date('2026-11-25T17:00:00Z'))).toBe(false);
    expect(withinHours(utc, new Date('2026-11-26T10:00:00Z'))).toBe(false);
  });

});

// ------------------------------------------------------------------ routes

describe('routes', () => {
  const salesRoute = rt({ teamId: 'team_sales1', keywords: ['comprar'] }, { id: 'route_sales1', createdAt: '2026-01-01T00:00:00Z' });
  const catchAll = rt({ teamId: 'team_support', members: ['usr_aaaaaa', 'usr_bbbbbb'] }, { id: 'route_all001', createdAt: '2026-02-01T00:00:00Z' });
  const keywords = [kw({ keywords: ['oi'], action: reply('Olá') })];

  it('assigns beside the winner', () => {
    const plan = decide(input({ text: 'oi', set: automations({ keywords, routes: [catchAll] }) }));
    expect(plan.actions).toEqual([
      { type: 'send', reply: { type: 'text', text: 'Olá' } },
      { type: 'assign', teamId: 'team_support', routeId: 'route_all001', members: ['usr_aaaaaa', 'usr_bbbbbb'] },
    ]);
    expect(plan).toMatchObject({ decidedBy: 'keyword', reason: expect.stringContaining('; route route_all001 (account-wide) assigns team team_support') });
  });

  it('decides alone when nothing else answered', () => {
    expect(decide(input({ text: 'quero comprar', set: automations({ routes: [salesRoute] }) }))).toMatchObject({
      decidedBy: 'route',
      automation: { kind: 'routes', id: 'route_sales1' },
      actions: [{ type: 'assign', teamId: 'team_sales1', routeId: 'route_sales1', members: [] }],
    });
  });

  it('takes a rule first, then the oldest, and only routes whose keywords the message contains', () => {
    const ruleRoute = rt({ teamId: 'team_rule01', scope: rule }, { id: 'route_rule01' });
    const routes = [salesRoute, catchAll, ruleRoute, rt({ teamId: 'team_off001', enabled: false })];
    expect(decide(input({ text: 'comprar', set: automations({ routes }) })).actions).toEqual([{ type: 'assign', teamId: 'team_rule01', routeId: 'route_rule01', members: [] }]);
    expect(decide(input({ text: 'comprar', phno: OTHER, set: automations({ routes }) })).actions[0]).toMatchObject({ routeId: 'route_sales1' });
    expect(decide(input({ text: 'oi', phno: OTHER, set: automations({ routes }) })).actions[0]).toMatchObject({ routeId: 'route_all001' });
  });

  it('does not assign an assigned conversation, nor beside a keyword that assigns', () => {
    const assigned = decide(input({ text: 'oi', conversation: { assignedTeamId: 'team_x00001', windowOpenUntil: undefined }, set: automations({ keywords, routes: [catchAll] }) }));
    expect(assigned.actions).toEqual([{ type: 'send', reply: { type: 'text', text: 'Olá' } }]);
    const assignKw = [kw({ keywords: ['oi'], action: { type: 'assignTeam', teamId: 'team_sales1' } })];
    expect(decide(input({ text: 'oi', set: automations({ keywords: assignKw, routes: [catchAll] }) })).actions).toEqual([{ type: 'assign', teamId: 'team_sales1', members: [] }]);
  });

  it('does not run after an interrupt, nor while a chatbot stays in charge, but does when its session ends', () => {
    const chatbots = [menuBot()];
    const routes = [catchAll];
    expect(decide(input({ text: 'stop', session: session(), set: automations({ chatbots, routes }) })).actions).toEqual([{ type: 'endSession', reason: 'exitWord' }]);
    const start = [kw({ keywords: ['menu'], action: { type: 'startChatbot', chatbotId: BOT } })];
    expect(decide(input({ text: 'menu', set: automations({ keywords: start, chatbots, routes }) })).actions).toEqual([{ type: 'startSession', chatbotId: BOT }]);
    expect(decide(input({ text: '1', session: session(), set: automations({ chatbots, routes }) })).actions.map((a) => a.type)).toEqual(['advanceSession', 'send']);
    expect(decide(input({ text: 'x', session: session({ retries: 2 }), set: automations({ chatbots, routes }) })).actions.map((a) => a.type)).toEqual([
      'endSession',
      'flagForAgent',
      'assign',
    ]);
  });
});

// ------------------------------------------------------ AI agents, sequences

describe('AI agents and sequences in the decision order', () => {
  const AGENT = 'ai_helper01';
  const agent = (over: object = {}, id = AGENT) => stored('ai-agents', id, aiAgentBody.parse({ name: 'Helper', instructions: 'Be brief.', knowledge: ['We open at 9.'], ...over }));
  const seqOf = (id: string, over: object = {}) => stored('sequences', id, sequenceBody.parse({ name: 'Follow-up', steps: [{ delay: { hours: 1 }, message: { text: 'Still there?' } }], ...over }));
  const on = (over: Partial<AiConversation> = {}): AiConversation => ({
    aiAgentId: AGENT,
    status: 'active',
    startedAt: '2026-11-25T14:00:00Z',
    startedBy: 'wamid.start',
    lastMessageAt: '2026-11-25T14:30:00Z',
    ...over,
  });
  const types = (plan: ReturnType<typeof decide>) => plan.actions.map((a) => a.type);

  it('a keyword hands the conversation to an AI agent; an active agent then takes every message before the keywords', () => {
    const set = automations({ aiAgents: [agent()], keywords: [kw({ keywords: ['ajuda'], action: { type: 'aiAgent', aiAgentId: AGENT } }), kw({ keywords: ['menu'], action: reply('Menu!') })] });
    const started = decide(input({ text: 'ajuda', set }));
    expect(started.decidedBy).toBe('keyword');
    expect(started.actions).toEqual([{ type: 'aiTurn', aiAgentId: AGENT }]);
    const taken = decide(input({ text: 'menu', set, aiAgent: on() }));
    expect(taken.decidedBy).toBe('agent');
    expect(taken.actions).toEqual([{ type: 'aiTurn', aiAgentId: AGENT }]);
  });

  it('an open chatbot session still comes before the AI agent', () => {
    const set = automations({ aiAgents: [agent()], chatbots: [menuBot()] });
    expect(decide(input({ text: 'Hours', set, session: session(), aiAgent: on() })).decidedBy).toBe('session');
  });

  it('the default answerer answers what no keyword took, before the default actions; a rule for the number beats an account-wide one', () => {
    const wide = agent({ defaultAnswerer: true }, 'ai_wide0001');
    const mine = agent({ defaultAnswerer: true, scope: rule }, 'ai_mine0001');
    const set = automations({ aiAgents: [wide, mine], defaultActions: [da({ event: 'fallback', text: 'Sorry?' })], keywords: [kw({ keywords: ['oi'], action: reply('Olá') })] });
    expect(decide(input({ text: 'oi', set })).decidedBy).toBe('keyword');
    const here = decide(input({ text: 'where are you?', set }));
    expect(here.decidedBy).toBe('default');
    expect(here.actions).toEqual([{ type: 'aiTurn', aiAgentId: 'ai_mine0001' }]);
    expect(decide(input({ text: 'where are you?', phno: OTHER, set })).actions).toEqual([{ type: 'aiTurn', aiAgentId: 'ai_wide0001' }]);
    const disabled = automations({ aiAgents: [agent({ defaultAnswerer: true, enabled: false })], defaultActions: [da({ event: 'fallback', text: 'Sorry?' })] });
    expect(sent(decide(input({ text: 'where?', set: disabled })))).toEqual([{ type: 'text', text: 'Sorry?' }]);
  });

  it('a handed-off agent answers nothing (and no keyword does) until the conversation closes', () => {
    const set = automations({ aiAgents: [agent()], keywords: [kw({ keywords: ['menu'], action: reply('Menu!') })] });
    const plan = decide(input({ text: 'menu', set, aiAgent: on({ status: 'handedOff', handedOffAt: '2026-11-25T14:40:00Z', handoffReason: 'quota-exceeded' }), conversation: { assignedTeamId: 'team_support1' } }));
    expect(plan.decidedBy).toBe('agent');
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toContain('quota-exceeded');
  });

  it('an agent lapses 24 h after the last message; stop, an agent reply or a deleted agent ends it', () => {
    const set = automations({ aiAgents: [agent()], keywords: [kw({ keywords: ['menu'], action: reply('Menu!') })] });
    const lapsed = decide(input({ text: 'menu', set, aiAgent: on({ lastMessageAt: '2026-11-24T14:00:00Z' }) }));
    expect(types(lapsed)).toEqual(['endAgent', 'send']);
    const stop = decide(input({ text: 'STOP', set, aiAgent: on() }));
    expect(stop.decidedBy).toBe('interrupt');
    expect(stop.actions).toEqual([{ type: 'endAgent', reason: 'stop' }]);
    const human = decide(input({ text: 'menu', set, aiAgent: on(), conversation: { lastAgentReplyAt: '2026-11-25T14:50:00Z' } }));
    expect(human.decidedBy).toBe('human');
    expect(types(human)).toContain('endAgent');
    const gone = decide(input({ text: 'menu', set: automations({ keywords: set.keywords }), aiAgent: on() }));
    expect(types(gone)).toEqual(['endAgent', 'send']);
  });

  it('an AI agent of another number, or a disabled one, is skipped by its keyword', () => {
    const set = automations({ aiAgents: [agent({ scope: { whatsapp_phno: OTHER } })], keywords: [kw({ keywords: ['ajuda'], action: { type: 'aiAgent', aiAgentId: AGENT } })] });
    const plan = decide(input({ text: 'ajuda', set }));
    expect(plan.actions).toEqual([]);
    expect(plan.reason).toContain(`rule for ${OTHER}`);
  });

  it('with sequences, every plan leaves the active enrolments first, but not the one the message enrols in', () => {
    const set = automations({ sequences: [seqOf('seq_follow01')], keywords: [kw({ keywords: ['promo'], action: { type: 'subscribeSequence', sequenceId: 'seq_follow01' } })] });
    const enrol = decide(input({ text: 'promo', set }));
    expect(enrol.actions).toEqual([
      { type: 'leaveSequences', reason: 'replied', except: 'seq_follow01' },
      { type: 'enrollSequence', sequenceId: 'seq_follow01' },
    ]);
    expect(decide(input({ text: 'ok thanks', set })).actions).toEqual([{ type: 'leaveSequences', reason: 'replied' }]);
    expect(decide(input({ text: 'Stop', set })).actions).toEqual([{ type: 'leaveSequences', reason: 'stop' }]);
    // Without sequences on the account nothing is added.
    expect(decide(input({ text: 'ok thanks' })).actions).toEqual([]);
  });

  it('no route assigns a team while the AI agent answers', () => {
    const set = automations({ aiAgents: [agent()], routes: [rt({ teamId: 'team_sales01' })] });
    expect(types(decide(input({ text: 'hi', set, aiAgent: on() })))).toEqual(['aiTurn']);
  });
});
