/**
 * AI agents through the automation consumer's Lambda handler on DynamoDB
 * Local (issue 14, "Must hold"): the debounced turn, the shared
 * `aiResponses` quota taken once per answer however often Meta or the queue
 * deliver, and the handoffs. The answerer is the local knowledge matcher;
 * the turn queue records what the consumer queued, and the test delivers
 * the due messages after moving the clock past the debounce window.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoAccountRepository } from '../../functions/adapters/dynamo/account-repository.js';
import { DynamoAutomationRepository } from '../../functions/adapters/dynamo/automation-repository.js';
import { DynamoInboxRepository } from '../../functions/adapters/dynamo/inbox-repository.js';
import { LocalKnowledgeAnswerer } from '../../functions/adapters/local/knowledge-answerer.js';
import { makeAutomationHandler } from '../../functions/automation/app.js';
import { createAutomationDeps } from '../../functions/automation/deps.js';
import { automationConfig } from '../../functions/commons/config.js';
import { addTeam } from '../../functions/core/accounts.js';
import { AiProviderBusy, type AiAnswerer, type KnowledgeQuestion, type TurnQueue } from '../../functions/core/ai-ports.js';
import { DEFAULT_HANDOFF_MESSAGE } from '../../functions/core/ai-turns.js';
import { createAutomation } from '../../functions/core/automations.js';
import type { MessageSender, SendTextRequest, SentMessage } from '../../functions/core/messaging.js';
import { messageViewOf } from '../../functions/core/inbox-views.js';
import { connectNumber } from '../../functions/core/numbers.js';
import { billingPeriod } from '../../functions/core/plan.js';
import type { Clock } from '../../functions/core/ports.js';
import { AI_TURN_DUE, type AiTurnDue, timerEnvelope } from '../../schemas/automation-timers.js';
import { AUTOMATION_BODIES, type AutomationKind } from '../../schemas/automations.js';
import { adaptersFor, newAccount } from '../support/accounts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { sqsBatch, textEvent } from '../support/inbox.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('ai-agents');
});

const KNOWLEDGE = [
  'Our store opens Monday to Friday from 9:00 to 18:00.',
  'Delivery takes 3 business days anywhere in Brazil and costs R$ 15.',
  'You can pay by card, Pix or boleto.',
];

class RecordingMeta implements MessageSender {
  readonly sent: (SendTextRequest & { wamid: string })[] = [];
  async sendText(request: SendTextRequest): Promise<SentMessage> {
    await new Promise((resolve) => setTimeout(resolve, 3));
    const wamid = `wamid.OUT_${randomUUID()}`;
    this.sent.push({ ...request, wamid });
    return { wamid };
  }
  async sendTemplate(): Promise<SentMessage> {
    throw new Error('no templates here');
  }
  async sendInteractive(): Promise<SentMessage> {
    throw new Error('no interactive here');
  }
  async sendMedia(): Promise<SentMessage> {
    throw new Error('no media here');
  }
  async submitTemplate() {
    return { id: '1', status: 'PENDING' };
  }
  async markRead(): Promise<void> {}
}

/** The queue the turns wait on, recorded: the test delivers what fell due. */
class RecordingTurns implements TurnQueue {
  readonly queued: { due: AiTurnDue; delayMs: number }[] = [];
  async enqueue(due: AiTurnDue, delayMs: number): Promise<void> {
    this.queued.push({ due, delayMs });
  }
  take(): AiTurnDue[] {
    return this.queued.splice(0).map((q) => q.due);
  }
}

/** Counts the answerer's calls; `busy` makes the next calls throw as a throttled provider would. */
class CountingAnswerer implements AiAnswerer {
  readonly model = 'local-knowledge-match';
  calls = 0;
  busy = 0;
  private readonly inner = new LocalKnowledgeAnswerer();
  async answer(question: KnowledgeQuestion) {
    this.calls++;
    if (this.busy > 0) {
      this.busy--;
      throw new AiProviderBusy('ThrottlingException');
    }
    return this.inner.answer(question);
  }
}

/** Virtual time: stands still until the test moves it. */
class TestClock implements Clock {
  private at = Date.now();
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

let seq = 0;
const unique = () => `${String(Date.now() % 1_000_000).padStart(6, '0')}${String(++seq).padStart(3, '0')}`;

async function world(options: { aiResponses?: number } = {}) {
  const adapters = adaptersFor(table);
  const account = await newAccount(adapters, { aiResponses: options.aiResponses ?? 100 });
  const accountId = account.accountId;
  const n = unique();
  const number = { whatsapp_phno: `1555${n}`, phoneNumberId: `7${n}01`, wabaId: `8${n}01` };
  await connectNumber(adapters, accountId, { name: 'Support', ...number }, `connect-${number.whatsapp_phno}`);
  const meta = new RecordingMeta();
  const clock = new TestClock();
  const turns = new RecordingTurns();
  const answerer = new CountingAnswerer();
  const handler = makeAutomationHandler(
    createAutomationDeps(table.doc, table.tableName, { messaging: meta, clock, config: automationConfig({ AI_DEBOUNCE_MS: '5000' }), ai: { answerer, turns } }),
  );
  const apiDeps = { ...adapters, automations: new DynamoAutomationRepository(table.doc, table.tableName) };
  const inbox = new DynamoInboxRepository(table.doc, table.tableName, clock);
  const accounts = new DynamoAccountRepository(table.doc, table.tableName, clock);
  const from = `5511${n}`;
  const ref = { accountId, whatsappPhno: number.whatsapp_phno, contactKey: from };

  async function consume(event: object): Promise<SQSBatchResponse> {
    return handler(sqsBatch([event as never]) as SQSEvent, {} as Context);
  }

  return {
    accountId,
    number,
    meta,
    clock,
    turns,
    answerer,
    inbox,
    ref,
    async create<K extends AutomationKind>(kind: K, body: unknown) {
      return createAutomation(apiDeps, accountId, kind, AUTOMATION_BODIES[kind].parse(body) as never);
    },
    team: (name: string) => addTeam(adapters, accountId, { name }, `team-${name}-${accountId}`),
    text(body: string, wamid = `wamid.IN_${randomUUID()}`) {
      return textEvent(accountId, { number, from, text: body, wamid, timestamp: Math.floor(clock.now().getTime() / 1000) });
    },
    consume,
    /** Delivers every queued due message (each `times` times, at once); answers how many records failed. */
    async fireDue(times = 1): Promise<number> {
      const due = turns.take();
      const results = await Promise.all(due.flatMap((d) => Array.from({ length: times }, () => consume(timerEnvelope(AI_TURN_DUE, d)))));
      return results.reduce((failed, r) => failed + r.batchItemFailures.length, 0);
    },
    async aiUsage() {
      const stored = await accounts.get(accountId);
      return (await accounts.usage(stored!, billingPeriod(stored!.billingAnchor, clock.now()).key)).usage.aiResponses;
    },
    async messages() {
      return (await inbox.listMessages(ref, { limit: 100 })).items;
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

async function helper(w: World, over: object = {}) {
  return w.create('ai-agents', { name: 'Helper', instructions: 'Answer from the knowledge only.', knowledge: KNOWLEDGE, defaultAnswerer: true, ...over });
}

describe('AI agents', () => {
  it('two messages within the debounce window get one answer and take one unit; redelivering them takes nothing', async () => {
    const w = await world();
    const agent = await helper(w);
    const [firstId, secondId] = [`wamid.IN_${randomUUID()}`, `wamid.IN_${randomUUID()}`];
    const first = w.text('Hi!', firstId);
    const second = w.text('how long does delivery take?', secondId);
    await w.consume(first);
    w.clock.advance(2_000);
    await w.consume(second);
    expect(w.turns.queued.map((q) => q.delayMs)).toEqual([5_000, 5_000]);

    w.clock.advance(5_001);
    // Each due message delivered twice at once, and the inbound messages again: one answer, one unit.
    expect(await w.fireDue(2)).toBe(0);
    await Promise.all([w.consume(first), w.consume(second)]);
    expect(await w.fireDue(2)).toBe(0);

    expect(w.meta.sent.map((s) => s.text)).toEqual([KNOWLEDGE[1]]);
    expect(await w.aiUsage()).toBe(1);
    expect(w.answerer.calls).toBe(1);

    const answer = (await w.messages()).find((m) => m.direction === 'out')!;
    const view = messageViewOf(answer);
    expect(view.ai).toMatchObject({ aiAgentId: agent.id, model: 'local-knowledge-match', answers: [firstId, secondId] });
    expect(view.ai!.sources.map((s) => s.index)).toEqual([1]);
  });

  it('a due message that fires before the window has passed waits again for the rest of it', async () => {
    const w = await world();
    await helper(w);
    await w.consume(w.text('can I pay with pix?'));
    w.clock.advance(3_000);
    expect(await w.fireDue()).toBe(0);
    expect(w.meta.sent).toHaveLength(0);
    expect(w.turns.queued.map((q) => q.delayMs)).toEqual([2_000]);
    w.clock.advance(2_001);
    await w.fireDue();
    expect(w.meta.sent.map((s) => s.text)).toEqual([KNOWLEDGE[2]]);
  });

  it('with aiResponses spent, no AI message is sent, the handoff team gets the conversation, and the agent stays silent', async () => {
    const w = await world({ aiResponses: 1 });
    const team = await w.team('Support');
    await helper(w, { handoff: { teamId: team.teamId, message: 'A colleague will answer you here.' } });
    await w.consume(w.text('when do you open?'));
    w.clock.advance(5_001);
    await w.fireDue();
    expect(w.meta.sent.map((s) => s.text)).toEqual([KNOWLEDGE[0]]);
    expect(await w.aiUsage()).toBe(1);

    await w.consume(w.text('how much is delivery?'));
    w.clock.advance(5_001);
    await w.fireDue();
    expect(w.meta.sent.map((s) => s.text)).toEqual([KNOWLEDGE[0], 'A colleague will answer you here.']);
    expect(await w.aiUsage()).toBe(1);
    const conversation = await w.inbox.getConversation(w.ref);
    expect(conversation?.assignedTeamId).toBe(team.teamId);

    // Handed off: the next message is answered by nobody automatic.
    await w.consume(w.text('hello?'));
    expect(w.turns.queued).toHaveLength(0);
    expect(w.meta.sent).toHaveLength(2);
  });

  it('no grounded answer hands off and gives the unit back; asking for a person hands off without a unit', async () => {
    const w = await world();
    await helper(w);
    await w.consume(w.text('what is the capital of mongolia?'));
    w.clock.advance(5_001);
    await w.fireDue();
    expect(w.meta.sent.map((s) => s.text)).toEqual([DEFAULT_HANDOFF_MESSAGE]);
    expect(await w.aiUsage()).toBe(0);
    expect((await w.inbox.getConversation(w.ref))?.needsAgent).toBeTruthy();

    const v = await world();
    await helper(v);
    await v.consume(v.text('I want to talk to a human please'));
    v.clock.advance(5_001);
    await v.fireDue();
    expect(v.meta.sent.map((s) => s.text)).toEqual([DEFAULT_HANDOFF_MESSAGE]);
    expect(v.answerer.calls).toBe(0);
    expect(await v.aiUsage()).toBe(0);
  });

  it('a throttled provider fails the record; the retry answers once and the unit is taken once', async () => {
    const w = await world();
    await helper(w);
    await w.consume(w.text('how can I pay?'));
    w.clock.advance(5_001);
    w.answerer.busy = 1;
    const due = w.turns.queued[0]!.due;
    expect(await w.fireDue()).toBe(1);
    expect(await w.aiUsage()).toBe(1);
    // Back while the failed run's lease holds: it fails again (retryable), nothing is dropped.
    expect((await w.consume(timerEnvelope(AI_TURN_DUE, due))).batchItemFailures).toHaveLength(1);
    expect(w.meta.sent).toHaveLength(0);
    // The queue brings it back once the lease lapsed.
    w.clock.advance(61_000);
    const retry = await w.consume(timerEnvelope(AI_TURN_DUE, due));
    expect(retry.batchItemFailures).toHaveLength(0);
    expect(w.meta.sent.map((s) => s.text)).toEqual([KNOWLEDGE[2]]);
    expect(await w.aiUsage()).toBe(1);
  });

  it('a keyword starts an agent of a rule; stop ends it', async () => {
    const w = await world();
    const agent = await helper(w, { defaultAnswerer: false, scope: { whatsapp_phno: w.number.whatsapp_phno } });
    await w.create('keywords', { keywords: ['ajuda'], action: { type: 'aiAgent', aiAgentId: agent.id }, scope: { whatsapp_phno: w.number.whatsapp_phno } });
    await w.consume(w.text('ajuda'));
    w.clock.advance(5_001);
    await w.fireDue();
    expect(w.meta.sent).toHaveLength(1);
    await w.consume(w.text('stop'));
    expect(w.turns.queued).toHaveLength(0);
    await w.consume(w.text('how long does delivery take?'));
    expect(w.turns.queued).toHaveLength(0);
  });
});
