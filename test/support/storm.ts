/**
 * A webhook storm through the local runtime (issue 19): the shared generator,
 * runner and checker behind `test/e2e/storm.test.ts` (a small storm in
 * `npm test`) and `scripts/storm.ts` (a larger one, `npm run storm`).
 *
 * - `planStorm(options)`: from a seed alone (a small PRNG, no Math.random), the
 *   deliveries Meta could send to 4 numbers of 2 accounts: inbound messages of
 *   many contacts (plain ones, a keyword that answers, a keyword that starts a
 *   chatbot, a flood over the automatic-reply safeguard, one wamid sent to two
 *   numbers), statuses of outbound messages in random order and repeated,
 *   several numbers' (and both accounts') changes batched in one delivery, each
 *   delivery posted 1–3 times, some items posted again inside another batch.
 * - `setUpStorm(runtime, plan)`: the accounts, numbers, automations, and the
 *   outbound messages the statuses are about (agent replies to contacts whose
 *   number starts `998`: the Graph simulator sends those no statuses itself).
 * - `runStorm(runtime, world, plan, concurrency)`: every post, `concurrency` in
 *   flight, then waits for quiescence (bus, send queue, simulator callbacks).
 * - `checkStorm(runtime, world, plan)`: the invariants, read back through the
 *   API: one stored message per (number, wamid), every status at its highest
 *   rank, every contact once per number, one automatic reply per triggering
 *   message (and none for the rest), the reply safeguard exact, the chatbot
 *   quota exact, the credit balance unchanged, no dead letter, only 200s; and
 *   the figures (deliveries, posts, events, duplicates, elapsed, CPU).
 * - `watchBus`, `cpuMs`: measurements for the figures only.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import type { LocalRuntime } from '../../local/runtime.js';
import { localClient } from './local-client.js';
import { messagesChange } from './meta-payloads.js';

// ------------------------------------------------------------------ the PRNG

/** mulberry32: a tiny seeded PRNG, so a seed names one storm exactly. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  function shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
  return { next, int, pick, chance, shuffle };
}
export type Prng = ReturnType<typeof prng>;

// ------------------------------------------------------------------ the world

export interface StormNumber {
  name: string;
  account: 0 | 1;
  displayPhoneNumber: string;
  phoneNumberId: string;
  wabaId: string;
}

/** Two accounts, two numbers each, one WABA each (numbers are unique platform-wide: these are the storm's own). */
export const STORM_NUMBERS: readonly StormNumber[] = [
  { name: 'A main', account: 0, displayPhoneNumber: '15550007001', phoneNumberId: '117000000000001', wabaId: '217000000000001' },
  { name: 'A vendas', account: 0, displayPhoneNumber: '15550007002', phoneNumberId: '117000000000002', wabaId: '217000000000001' },
  { name: 'B main', account: 1, displayPhoneNumber: '15550007101', phoneNumberId: '117000000000101', wabaId: '217000000000002' },
  { name: 'B campinas', account: 1, displayPhoneNumber: '5511900007102', phoneNumberId: '117000000000102', wabaId: '217000000000002' },
];

/** What the keyword "hours" answers on each number: account-wide for A and B, and a rule for A's second number. */
export const HOURS_REPLY = ['A: open 9 to 18.', 'A vendas: open 9 to 21.', 'B: open 8 to 20.', 'B: open 8 to 20.'] as const;
const HOURS_TEXTS = ['What are your hours?', 'hours please', 'Your HOURS today?', 'hours'] as const;
const MENU_TEXTS = ['menu', 'MENU', 'Menu!', ' menu '] as const;
/** Words no automation of the storm matches (no "hours", "menu" or "stop"; no default actions are configured). */
const PLAIN_TEXTS = ['Oi, tudo bem?', 'I need help with my order', 'Obrigado!', 'Can you call me later', 'ok', 'Qual o preço do frete?', 'sent you the receipt'] as const;

export const CHATBOT_STEPS = [
  { id: 'start', text: 'Hi {{name|there}}! What can we do for you?', options: [{ title: 'Prices', next: 'prices' }, { title: 'Talk to someone', next: 'human' }] },
  { id: 'prices', text: 'Our price list: https://example.com/prices' },
  { id: 'human', text: 'An agent will answer you here shortly.' },
];

type Status = 'sent' | 'delivered' | 'read' | 'failed';
const RANK: Record<string, number> = { received: 0, accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

export type Trigger = 'none' | 'keyword' | 'chatbot';
/** A contact's part in the storm: its messages' triggers, or `flood`: more keyword messages than the reply safeguard allows. */
export type Role = Trigger | 'flood';

export interface PlannedMessage {
  kind: 'message';
  number: number;
  from: string;
  wamid: string;
  text: string;
  timestamp: number;
  trigger: Trigger;
}

export interface PlannedStatus {
  kind: 'status';
  number: number;
  /** The index of the outbound message (`StormPlan.outbound`) this status is about; its wamid is known after the setup. */
  outbound: number;
  status: Status;
  timestamp: number;
}

export type PlannedItem = PlannedMessage | PlannedStatus;

/** A contact of the storm on one number, and what it will send. */
export interface PlannedContact {
  number: number;
  waId: string;
  role: Role;
  messages: PlannedMessage[];
}

/** An agent reply sent in the setup (to a `998…` contact), and the statuses the storm brings for it. */
export interface PlannedOutbound {
  number: number;
  to: string;
  statuses: Status[];
  /** The highest-ranked status among them: what the message must show at the end. */
  expected: Status;
}

export interface PlannedDelivery {
  items: PlannedItem[];
  /** How many times it is posted (1–3), byte for byte the same. */
  copies: number;
}

export interface StormOptions {
  /** Distinct deliveries (each posted 1–3 times). */
  deliveries: number;
  seed: number;
  /** Items (messages and statuses) a delivery carries on average (default 2). */
  itemsPerDelivery?: number;
  /** The share of those items that are statuses (default 0.25); the rest are inbound messages. */
  statusShare?: number;
}

export interface StormPlan {
  seed: number;
  contacts: PlannedContact[];
  /** `998…` contacts that wrote once in the setup and get the outbound messages. */
  statusContacts: { number: number; waId: string; wamid: string; timestamp: number }[];
  outbound: PlannedOutbound[];
  deliveries: PlannedDelivery[];
  /** Chatbot session limits of the two accounts: A's above its chatbot contacts, B's below (the quota runs out). */
  chatbotLimits: [number, number];
  /** Item copies placed in a second, different delivery (Meta re-batching a redelivery). */
  rebatched: number;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/**
 * The storm from a seed: `itemsPerDelivery` items a delivery on average, `statusShare` of them statuses of outbound
 * messages (2 to each `998…` contact, about 3 status items each), the rest inbound messages (about 3 a contact).
 */
export function planStorm(options: StormOptions): StormPlan {
  const random = prng(options.seed);
  const n = Math.max(20, Math.floor(options.deliveries));
  const nowSec = Math.floor(Date.now() / 1000);
  const stamp = () => nowSec - random.int(30, 240);
  const wamidOf = (tag: string) => `wamid.STORM${options.seed}_${tag}`;

  // People: some write to two numbers (two contacts), each contact with its own role there.
  const itemsPerDelivery = options.itemsPerDelivery ?? 2;
  const statusShare = options.statusShare ?? 0.25;
  // About 2.9 messages a contact and 1.3 contacts a person; about 2.9 status items an outbound message, 8 outbound messages a number.
  const people = Math.max(8, Math.round((n * itemsPerDelivery * (1 - statusShare)) / 2.9 / 1.3));
  const contacts: PlannedContact[] = [];
  for (let p = 0; p < people; p++) {
    // Most people's numbers start 998: the simulator sends no statuses for replies to them (a quarter get them all).
    const waId = random.chance(0.25) ? `1650${pad(p, 7)}` : `9985${pad(p, 7)}`;
    const numbers = random.shuffle([0, 1, 2, 3]).slice(0, random.chance(0.3) ? 2 : 1);
    // Half of those who write to two numbers send their first message to both under one wamid: dedupe is per
    // (number, wamid), so each number stores it once (a dedupe by wamid alone would drop the second).
    const sharedWamid = numbers.length === 2 && random.chance(0.5) ? wamidOf(`SHARED_${waId}`) : undefined;
    for (const number of numbers) {
      const roll = random.next();
      const role: Trigger = roll < 0.5 ? 'none' : roll < 0.85 ? 'keyword' : 'chatbot';
      const contact: PlannedContact = { number, waId, role, messages: [] };
      const add = (text: string, trigger: Trigger) =>
        contact.messages.push({
          kind: 'message',
          number,
          from: waId,
          wamid: contact.messages.length === 0 && sharedWamid ? sharedWamid : wamidOf(`${number}_${waId}_${contact.messages.length}`),
          text,
          timestamp: stamp(),
          trigger,
        });
      // A chatbot contact sends "menu" only: anything after it would be an answer to the session's first step.
      if (role === 'chatbot') add(random.pick(MENU_TEXTS), 'chatbot');
      else {
        const plain = role === 'none' ? random.int(1, 6) : random.int(0, 3);
        const hours = role === 'keyword' ? random.int(1, 3) : 0;
        for (let i = 0; i < plain; i++) add(`${random.pick(PLAIN_TEXTS)} (${i})`, 'none');
        for (let i = 0; i < hours; i++) add(random.pick(HOURS_TEXTS), 'keyword');
      }
      contacts.push(contact);
    }
  }

  // One flood contact a number: 12–14 keyword messages at once, above the 10 automatic replies a conversation gets in 10 minutes.
  for (let number = 0; number < STORM_NUMBERS.length; number++) {
    const waId = `9986${number}${pad(0, 6)}`;
    const contact: PlannedContact = { number, waId, role: 'flood', messages: [] };
    const count = random.int(12, 14);
    for (let i = 0; i < count; i++) {
      contact.messages.push({ kind: 'message', number, from: waId, wamid: wamidOf(`F${number}_${i}`), text: random.pick(HOURS_TEXTS), timestamp: stamp(), trigger: 'keyword' });
    }
    contacts.push(contact);
  }

  // Outbound messages the storm brings statuses for: any non-empty subset, each status posted 1–2 times, in any order.
  const statusContacts: StormPlan['statusContacts'] = [];
  const outbound: PlannedOutbound[] = [];
  const perNumber = Math.max(2, Math.round((n * itemsPerDelivery * statusShare) / 2.9 / STORM_NUMBERS.length / 2));
  for (let number = 0; number < STORM_NUMBERS.length; number++) {
    for (let j = 0; j < perNumber; j++) {
      const waId = `9980${number}${pad(j, 6)}`;
      statusContacts.push({ number, waId, wamid: wamidOf(`S${number}_${waId}`), timestamp: nowSec - 300 });
      for (let k = 0; k < 2; k++) {
        const statuses = random.shuffle((['sent', 'delivered', 'read'] as Status[]).filter(() => random.chance(0.7)));
        if (statuses.length === 0) statuses.push(random.pick(['sent', 'delivered', 'read'] as Status[]));
        if (random.chance(0.1)) statuses.splice(random.int(0, statuses.length), 0, 'failed');
        const expected = statuses.reduce((best, s) => (RANK[s]! > RANK[best]! ? s : best));
        outbound.push({ number, to: waId, statuses, expected });
      }
    }
  }

  // Items, shuffled, then dealt into deliveries; a few messages go again into a second, different delivery.
  const items: PlannedItem[] = [...contacts.flatMap((c) => c.messages)];
  outbound.forEach((o, index) => {
    for (const status of o.statuses) {
      const copies = random.chance(0.4) ? 2 : 1;
      for (let c = 0; c < copies; c++) items.push({ kind: 'status', number: o.number, outbound: index, status, timestamp: stamp() });
    }
  });
  random.shuffle(items);
  // One item each first (so none is empty), then every other item into a delivery picked at random.
  const deliveries: PlannedDelivery[] = Array.from({ length: n }, (_, d) => ({ items: d < items.length ? [items[d]!] : [], copies: random.pick([1, 1, 2, 2, 3]) }));
  for (const item of items.slice(n)) random.pick(deliveries).items.push(item);
  let rebatched = 0;
  for (const item of items) {
    if (item.kind !== 'message' || !random.chance(0.05)) continue;
    const target = random.pick(deliveries);
    if (target.items.includes(item)) continue;
    target.items.push(item);
    rebatched++;
  }
  for (const delivery of deliveries) if (delivery.items.length === 0) delivery.items.push(items[random.int(0, items.length - 1)]!);

  const chatbots = [0, 1].map((account) => contacts.filter((c) => c.role === 'chatbot' && STORM_NUMBERS[c.number]!.account === account).length);
  const chatbotLimits: [number, number] = [chatbots[0]! + 10, Math.max(1, Math.floor(chatbots[1]! * 0.6))];
  return { seed: options.seed, contacts, statusContacts, outbound, deliveries, chatbotLimits, rebatched };
}

// ------------------------------------------------------------------ Meta's bytes

interface Wire {
  /** The wamid of each planned outbound message, learnt in the setup. */
  outboundWamids: string[];
}

/** One delivery as Meta sends it: an entry per WABA, a change per number and kind (messages or statuses). */
export function deliveryBytes(delivery: PlannedDelivery, plan: StormPlan, wire: Wire): string {
  const entries = new Map<string, Map<string, PlannedItem[]>>();
  for (const item of delivery.items) {
    const number = STORM_NUMBERS[item.number]!;
    const changes = entries.get(number.wabaId) ?? new Map<string, PlannedItem[]>();
    entries.set(number.wabaId, changes);
    const key = `${item.number}:${item.kind}`;
    changes.set(key, [...(changes.get(key) ?? []), item]);
  }
  const entry = [...entries].map(([wabaId, changes]) => ({
    id: wabaId,
    changes: [...changes].map(([, group]) => {
      const number = STORM_NUMBERS[group[0]!.number]!;
      if (group[0]!.kind === 'message') {
        const messages = group as PlannedMessage[];
        const senders = [...new Set(messages.map((m) => m.from))];
        return messagesChange(number, {
          contacts: senders.map((waId) => ({ profile: { name: `Storm ${waId.slice(-4)}` }, wa_id: waId })),
          messages: messages.map((m) => ({ from: m.from, id: m.wamid, timestamp: String(m.timestamp), type: 'text', text: { body: m.text } })),
        });
      }
      return messagesChange(number, {
        statuses: (group as PlannedStatus[]).map((s) => ({
          id: wire.outboundWamids[s.outbound]!,
          status: s.status,
          timestamp: String(s.timestamp),
          recipient_id: plan.outbound[s.outbound]!.to,
          ...(s.status === 'failed'
            ? { errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' } }] }
            : s.status === 'read'
              ? {}
              : { pricing: { billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' } }),
        })),
      });
    }),
  }));
  return JSON.stringify({ object: 'whatsapp_business_account', entry });
}

// ------------------------------------------------------------------ setup

export interface StormWorld {
  accounts: { accountId: string; owner: string; balanceMicros: number }[];
  chatbotIds: string[];
  wire: Wire;
  setupMs: number;
}

type Client = ReturnType<typeof localClient>;

async function must(label: string, call: Promise<{ status: number; body: any }>, expected: number) {
  const answer = await call;
  if (answer.status !== expected) throw new Error(`storm setup: ${label} answered ${answer.status}, not ${expected}: ${JSON.stringify(answer.body).slice(0, 400)}`);
  return answer.body;
}

/** Accounts, numbers, the keyword, the rule and the chatbot, and the outbound messages the statuses are about. */
export async function setUpStorm(runtime: LocalRuntime, plan: StormPlan): Promise<StormWorld> {
  const started = Date.now();
  const client = localClient(runtime);
  const support = await client.token({ role: 'support' });
  const accounts: StormWorld['accounts'] = [];
  const chatbotIds: string[] = [];
  for (const account of [0, 1] as const) {
    const created = await must(
      'POST /v1/admin/accounts',
      client.api('POST', '/v1/admin/accounts', support, {
        name: `Storm ${'AB'[account]}`,
        plan: { users: 5, teams: 3, chatbotSessions: plan.chatbotLimits[account], aiResponses: 5 },
        creditsMicros: 50_000_000,
      }),
      201,
    );
    const owner = await client.token({ role: 'owner', accountId: created.accountId });
    const api = (method: string, path: string, body?: unknown) => client.api(method, path, owner, body);
    const numbers = STORM_NUMBERS.filter((n) => n.account === account);
    await must('POST /v1/addons', api('POST', '/v1/addons', { type: 'number', quantity: numbers.length - 1 }), 200);
    for (const number of numbers) {
      const { name, displayPhoneNumber, phoneNumberId, wabaId } = number;
      await must('POST /v1/numbers', api('POST', '/v1/numbers', { name, displayPhoneNumber, phoneNumberId, wabaId }), 201);
    }
    await must('keyword hours', api('POST', '/v1/automations/keywords', { keywords: ['hours'], match: 'contains', action: { type: 'reply', text: HOURS_REPLY[STORM_NUMBERS.indexOf(numbers[0]!)] } }), 201);
    if (account === 0) {
      const rule = { keywords: ['hours'], match: 'contains', scope: { whatsapp_phno: STORM_NUMBERS[1]!.displayPhoneNumber }, action: { type: 'reply', text: HOURS_REPLY[1] } };
      await must('keyword hours rule', api('POST', '/v1/automations/keywords', rule), 201);
    }
    const bot = await must('chatbot', api('POST', '/v1/automations/chatbots', { name: 'Menu', steps: CHATBOT_STEPS }), 201);
    chatbotIds.push(bot.id);
    await must('keyword menu', api('POST', '/v1/automations/keywords', { keywords: ['menu'], action: { type: 'startChatbot', chatbotId: bot.id } }), 201);
    accounts.push({ accountId: created.accountId, owner, balanceMicros: 0 });
  }

  // The `998…` contacts write once (one delivery each number), then an agent's replies go out to them.
  for (let number = 0; number < STORM_NUMBERS.length; number++) {
    const own = plan.statusContacts.filter((s) => s.number === number);
    const raw = deliveryBytes(
      { copies: 1, items: own.map((s) => ({ kind: 'message', number, from: s.waId, wamid: s.wamid, text: 'status contact', timestamp: s.timestamp, trigger: 'none' })) },
      plan,
      { outboundWamids: [] },
    );
    const status = await client.deliver(raw);
    if (status !== 200) throw new Error(`storm setup: the status contacts' delivery answered ${status}`);
  }
  await quiesce(runtime);
  const outboundWamids = await pool(plan.outbound, 8, async (o) => {
    const account = accounts[STORM_NUMBERS[o.number]!.account]!;
    const path = `/v1/conversations/${STORM_NUMBERS[o.number]!.displayPhoneNumber}_${o.to}/messages`;
    return (await must(`POST ${path}`, client.api('POST', path, account.owner, { text: 'An agent reply' }), 202)).wamid as string;
  });
  await quiesce(runtime);
  for (const account of accounts) account.balanceMicros = (await must('GET /v1/account', client.api('GET', '/v1/account', account.owner), 200)).balanceMicros;
  return { accounts, chatbotIds, wire: { outboundWamids }, setupMs: Date.now() - started };
}

export interface BusWork {
  /** Records received again after a consumer failed them (a conversation's lock busy, a conditional write lost), by rule. */
  retries: Record<string, number>;
  /** Batches handed to consumers, by rule. */
  batches: Record<string, number>;
  /** Milliseconds consumers spent on batches, summed (batches overlap: up to 5 at once per consumer), by rule. */
  busyMs: Record<string, number>;
}

/**
 * Watches the bus's work by rule: batches, time in consumers, redeliveries. Wraps the bus's private `enqueue` and
 * every registered consumer; a measurement for the figures only (nothing is changed in what the bus does).
 */
export function watchBus(runtime: LocalRuntime): BusWork {
  const work: BusWork = { retries: {}, batches: {}, busyMs: {} };
  const add = (into: Record<string, number>, rule: string, value: number) => (into[rule] = (into[rule] ?? 0) + value);
  type Target = { rule: string; consumer: (event: unknown) => Promise<unknown> };
  const bus = runtime.bus as unknown as { enqueue(target: Target, delivery: { records: unknown[]; receive: number }): void; targets: Target[] };
  if (typeof bus.enqueue !== 'function' || !Array.isArray(bus.targets)) throw new Error('watchBus: LocalBus no longer has enqueue() and targets: update test/support/storm.ts');
  const enqueue = bus.enqueue.bind(bus);
  bus.enqueue = (target, delivery) => {
    if (delivery.receive > 1) add(work.retries, target.rule, delivery.records.length);
    enqueue(target, delivery);
  };
  for (const target of bus.targets) {
    const consumer = target.consumer;
    target.consumer = async (event) => {
      const started = performance.now();
      try {
        return await consumer(event);
      } finally {
        add(work.batches, target.rule, 1);
        add(work.busyMs, target.rule, Math.round(performance.now() - started));
      }
    };
  }
  return work;
}

/**
 * CPU time (ms) so far of this process and of the runtime's DynamoDB Local JVM (found in /proc by its port; Linux
 * only, else undefined): the storm's cost in a figure that does not depend on what else the machine runs.
 */
export function cpuMs(runtime: LocalRuntime): { node: number; dynamo?: number } {
  const usage = process.cpuUsage();
  const node = Math.round((usage.user + usage.system) / 1000);
  try {
    const port = new URL(runtime.dynamoEndpoint).port;
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const args = cmdline.split('\0');
      if (!/(^|\/)java$/.test(args[0]!) || !args.includes('DynamoDBLocal.jar') || args[args.indexOf('-port') + 1] !== port) continue;
      // utime and stime, in clock ticks (100 a second on Linux), after the command's closing parenthesis.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return { node, dynamo: (Number(fields[11]) + Number(fields[12])) * 10 };
    }
  } catch {
    // Not Linux, or /proc unreadable: the node figure alone.
  }
  return { node };
}

/** Until nothing moves: the simulator's callbacks posted, the bus and the send queue drained, no new send since. */
export async function quiesce(runtime: LocalRuntime): Promise<void> {
  let sends = -1;
  for (;;) {
    await runtime.graph.idle();
    await runtime.bus.drain();
    await runtime.sendQueue.drain();
    const now = runtime.graph.sentMessages().length;
    if (now === sends) return;
    sends = now;
  }
}

// ------------------------------------------------------------------ run

export interface StormRun {
  posts: number;
  /** Answers by HTTP status (0: the request itself failed). */
  answers: Record<string, number>;
  /** The first few answers that were not 200. */
  refused: { delivery: number; status: number; body: string }[];
  elapsedMs: number;
  quiesceMs: number;
  bus: BusWork;
  /** CPU spent from the first post to quiescence: this process (handlers, simulator, bus) and DynamoDB Local. */
  cpuMs: { node: number; dynamo?: number };
}

/** Every copy of every delivery, shuffled (copies land both at once and far apart), `concurrency` in flight. */
export async function runStorm(runtime: LocalRuntime, world: StormWorld, plan: StormPlan, concurrency: number): Promise<StormRun> {
  const raws = plan.deliveries.map((d) => deliveryBytes(d, plan, world.wire));
  const random = prng(plan.seed ^ 0x5eed);
  const order = random.shuffle(plan.deliveries.flatMap((d, index) => Array.from({ length: d.copies }, () => index)));
  const bus = watchBus(runtime);
  const answers: Record<string, number> = {};
  const refused: StormRun['refused'] = [];
  let next = 0;
  const cpuBefore = cpuMs(runtime);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < order.length) {
        const delivery = order[next++]!;
        let status: number;
        let body = '';
        try {
          const res = await fetch(`${runtime.url}/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signed(raws[delivery]!, runtime.env.WHATSAPP_APP_SECRET!) },
            body: raws[delivery],
          });
          status = res.status;
          body = await res.text();
        } catch (error) {
          status = 0;
          body = String((error as Error).message);
        }
        answers[status] = (answers[status] ?? 0) + 1;
        if (status !== 200 && refused.length < 10) refused.push({ delivery, status, body: body.slice(0, 300) });
      }
    }),
  );
  const elapsedMs = Date.now() - started;
  await quiesce(runtime);
  const quiesceMs = Date.now() - started - elapsedMs;
  const cpuAfter = cpuMs(runtime);
  const cpu = { node: cpuAfter.node - cpuBefore.node, ...(cpuAfter.dynamo !== undefined && cpuBefore.dynamo !== undefined ? { dynamo: cpuAfter.dynamo - cpuBefore.dynamo } : {}) };
  return { posts: order.length, answers, refused, elapsedMs, quiesceMs, bus, cpuMs: cpu };
}

function signed(raw: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`;
}

// ------------------------------------------------------------------ check

export interface StormFigures {
  seed: number;
  accounts: number;
  numbers: number;
  deliveries: number;
  posts: number;
  /** Distinct items (messages and statuses) in the plan. */
  events: number;
  /** Items posted, counting every copy: events × their deliveries' copies, re-batched items included. */
  eventsPosted: number;
  /** Posts that repeated a delivery already posted. */
  duplicatePosts: number;
  rebatchedItems: number;
  /** Wamids sent to two numbers (each number stores its own message). */
  sharedWamids: number;
  batchedDeliveries: number;
  contacts: number;
  inboundMessages: number;
  statusItems: number;
  outboundWithStatuses: number;
  triggeringMessages: number;
  automaticReplies: number;
  /** Keyword messages of the flood contacts refused by the reply safeguard (RATE_LIMITED). */
  rateLimited: number;
  /** The most 10-minute reply buckets one flood contact's decisions fell in (2: the storm crossed a bucket's end, up to 20 replies). */
  floodBuckets: number;
  chatbotSessions: [number, number];
  concurrency: number;
  /** Bus redeliveries after a consumer failed a record (a lock busy, a write lost), by rule. */
  busRetries: Record<string, number>;
  busBatches: Record<string, number>;
  /** Time in each rule's consumer, summed over its batches. */
  busBusyMs: Record<string, number>;
  /** From the first post to the last answer. */
  elapsedMs: number;
  /** From the last answer until nothing moved (the bus's backlog, the simulator's callbacks). */
  quiesceMs: number;
  postsPerSecond: number;
  cpuMs: { node: number; dynamo?: number };
  /** Accounts, numbers, automations and the outbound messages, before the storm. */
  setupMs: number;
  /** Reading everything back through the API. */
  checkMs: number;
}

export interface StormReport {
  failures: string[];
  figures: StormFigures;
}

interface MessageView {
  wamid: string;
  direction: 'in' | 'out';
  status: string;
  text: string | null;
  type: string;
  automation?: { decidedBy: string; reason: string; replies: { wamid?: string; outcome: string }[]; flaggedForAgent?: string; decidedAt: string };
}

async function pages<T>(client: Client, bearer: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const answer = await client.api('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, bearer);
    if (answer.status !== 200) throw new Error(`storm check: GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    items.push(...(answer.body.items as T[]));
    cursor = answer.body.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

async function pool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

/** Reads everything back and lists every invariant that does not hold (empty: the storm left the system right). */
export async function checkStorm(runtime: LocalRuntime, world: StormWorld, plan: StormPlan, run: StormRun, concurrency: number): Promise<StormReport> {
  const started = Date.now();
  const client = localClient(runtime);
  const failures: string[] = [];
  const fail = (line: string) => {
    if (failures.length < 200) failures.push(line);
  };
  const ownerOf = (number: number) => world.accounts[STORM_NUMBERS[number]!.account]!.owner;

  // No answer but 200.
  for (const [status, count] of Object.entries(run.answers)) if (status !== '200') fail(`${count} posts answered ${status}: ${JSON.stringify(run.refused)}`);

  const sends = runtime.graph.sentMessages();
  const sendsByWamid = new Map(sends.map((s) => [s.wamid, s]));
  const repliesSeen = new Map<string, number>();

  // Every contact once per number: the storm's and the status contacts, nobody else.
  for (let number = 0; number < STORM_NUMBERS.length; number++) {
    const phno = STORM_NUMBERS[number]!.displayPhoneNumber;
    const listed = await pages<{ waId: string }>(client, ownerOf(number), `/v1/contacts?whatsapp_phno=${phno}`);
    const expected = new Set([...plan.contacts.filter((c) => c.number === number).map((c) => c.waId), ...plan.statusContacts.filter((s) => s.number === number).map((s) => s.waId)]);
    const seen = new Map<string, number>();
    for (const c of listed) seen.set(c.waId, (seen.get(c.waId) ?? 0) + 1);
    for (const [waId, count] of seen) {
      if (count > 1) fail(`contact ${waId} listed ${count} times on ${phno}`);
      if (!expected.has(waId)) fail(`contact ${waId} on ${phno} was never planned there`);
    }
    for (const waId of expected) if (!seen.has(waId)) fail(`contact ${waId} missing on ${phno}`);
  }

  // Conversations: unread counts exact, and the ones left for an agent are the ones whose chatbot found no session.
  const conversations = new Map<string, { unreadCount: number; needsAgent: { reason: string } | null }>();
  for (const account of world.accounts) {
    for (const c of await pages<{ conversationId: string; unreadCount: number; needsAgent: { reason: string } | null }>(client, account.owner, '/v1/conversations')) {
      if (conversations.has(c.conversationId)) fail(`conversation ${c.conversationId} listed twice`);
      conversations.set(c.conversationId, c);
    }
  }

  // One stored message per (number, wamid), one decision per inbound message, one automatic reply per triggering message.
  const maxReplies = Number(runtime.env.AUTOMATION_MAX_REPLIES_PER_10_MIN ?? 10);
  let rateLimited = 0;
  let floodBuckets = 0;
  const chatbotStarted = [0, 0];
  const chatbotRefused = [0, 0];
  await pool(plan.contacts, 8, async (contact) => {
    const number = STORM_NUMBERS[contact.number]!;
    const conversationId = `${number.displayPhoneNumber}_${contact.waId}`;
    const messages = await pages<MessageView>(client, ownerOf(contact.number), `/v1/conversations/${conversationId}/messages`);
    const inbound = messages.filter((m) => m.direction === 'in');
    const outbound = messages.filter((m) => m.direction === 'out');
    const count = new Map<string, number>();
    for (const m of messages) count.set(m.wamid, (count.get(m.wamid) ?? 0) + 1);
    for (const [wamid, times] of count) if (times > 1) fail(`${conversationId}: ${wamid} stored ${times} times`);
    const planned = new Set(contact.messages.map((m) => m.wamid));
    for (const m of inbound) if (!planned.has(m.wamid)) fail(`${conversationId}: inbound ${m.wamid} never planned`);
    const conversation = conversations.get(conversationId);
    if (!conversation) fail(`${conversationId}: not listed`);
    else if (conversation.unreadCount !== contact.messages.length) fail(`${conversationId}: unreadCount ${conversation.unreadCount}, not ${contact.messages.length}`);
    let expectedReplies = 0;
    const replied: string[] = [];
    const limited: string[] = [];
    for (const m of contact.messages) {
      const stored = inbound.find((s) => s.wamid === m.wamid);
      if (!stored) {
        fail(`${conversationId}: ${m.wamid} (${m.trigger}) not stored`);
        continue;
      }
      if (stored.text !== m.text) fail(`${conversationId}: ${m.wamid} text ${JSON.stringify(stored.text)}, not ${JSON.stringify(m.text)}`);
      const decision = stored.automation;
      if (!decision) {
        fail(`${conversationId}: ${m.wamid} (${m.trigger}) has no automation decision`);
        continue;
      }
      const sent = decision.replies.filter((r) => r.outcome === 'sent');
      if (m.trigger === 'none') {
        if (decision.replies.length) fail(`${conversationId}: plain ${m.wamid} got replies ${JSON.stringify(decision.replies)} (${decision.reason})`);
        continue;
      }
      if (contact.role === 'flood' && decision.replies.length === 1 && decision.replies[0]!.outcome === 'RATE_LIMITED') {
        limited.push(decision.decidedAt);
        continue;
      }
      if (contact.role === 'flood') replied.push(decision.decidedAt);
      if (m.trigger === 'chatbot' && number.account === 1 && decision.replies.length === 1 && decision.replies[0]!.outcome === 'QUOTA_EXCEEDED') {
        chatbotRefused[1]!++;
        if (!conversation?.needsAgent?.reason.includes('QUOTA_EXCEEDED')) fail(`${conversationId}: chatbot refused for the quota but not left for an agent (${JSON.stringify(conversation?.needsAgent)})`);
        continue;
      }
      if (decision.replies.length !== 1 || sent.length !== 1 || !sent[0]!.wamid) {
        fail(`${conversationId}: ${m.trigger} ${m.wamid} replies ${JSON.stringify(decision.replies)} (${decision.reason})`);
        continue;
      }
      expectedReplies++;
      const wamid = sent[0]!.wamid;
      repliesSeen.set(wamid, (repliesSeen.get(wamid) ?? 0) + 1);
      const send = sendsByWamid.get(wamid);
      if (!send) fail(`${conversationId}: reply ${wamid} never reached the Graph API`);
      else if (send.phoneNumberId !== number.phoneNumberId || send.to !== contact.waId) fail(`${conversationId}: reply ${wamid} sent from ${send.phoneNumberId} to ${send.to}`);
      else if (m.trigger === 'keyword' && send.text !== HOURS_REPLY[contact.number]) fail(`${conversationId}: keyword reply ${JSON.stringify(send.text)}, not ${HOURS_REPLY[contact.number]}`);
      else if (m.trigger === 'chatbot') {
        if (send.type !== 'interactive') fail(`${conversationId}: chatbot reply of type ${send.type}`);
        chatbotStarted[number.account]!++;
      }
      const reply = outbound.find((o) => o.wamid === wamid);
      // The simulator reports sent → delivered → read for a reply to a contact outside 998/999: it ends read; one to a
      // 998… contact hears nothing back and stays as the send left it.
      const status = contact.waId.startsWith('998') ? 'accepted' : 'read';
      if (!reply) fail(`${conversationId}: reply ${wamid} not in the conversation`);
      else if (reply.status !== status) fail(`${conversationId}: reply ${wamid} status ${reply.status}, not ${status}`);
    }
    if (contact.role === 'flood') {
      // The safeguard counts replies in fixed 10-minute buckets of the clock: within one bucket exactly `maxReplies`
      // replies, the rest RATE_LIMITED and the conversation left for an agent; a storm across a bucket's end may
      // answer up to `maxReplies` more in the next one (decidedAt stands in for the send's time).
      rateLimited += limited.length;
      const bucketOf = (at: string) => Math.floor(Date.parse(at) / 600_000);
      const buckets = new Set([...replied, ...limited].map(bucketOf));
      floodBuckets = Math.max(floodBuckets, buckets.size);
      const n = contact.messages.length;
      if (buckets.size === 1 && replied.length !== Math.min(maxReplies, n)) fail(`${conversationId}: flood of ${n} got ${replied.length} replies, not ${Math.min(maxReplies, n)}`);
      for (const bucket of buckets) if (replied.filter((at) => bucketOf(at) === bucket).length > maxReplies) fail(`${conversationId}: more than ${maxReplies} replies in one 10-minute bucket`);
      if (replied.length + limited.length !== n) fail(`${conversationId}: ${replied.length} replied + ${limited.length} rate limited ≠ ${n}`);
      if (limited.length && !conversation?.needsAgent?.reason.includes('RATE_LIMITED')) fail(`${conversationId}: rate limited but not left for an agent (${JSON.stringify(conversation?.needsAgent)})`);
    }
    if (outbound.length !== expectedReplies) fail(`${conversationId}: ${outbound.length} outbound messages, ${expectedReplies} automatic replies expected`);
  });
  for (const [wamid, times] of repliesSeen) if (times > 1) fail(`reply ${wamid} claimed by ${times} inbound messages`);
  const toStormContacts = new Set(plan.contacts.map((c) => `${STORM_NUMBERS[c.number]!.phoneNumberId}:${c.waId}`));
  const automaticSends = sends.filter((s) => toStormContacts.has(`${s.phoneNumberId}:${s.to}`));
  if (automaticSends.length !== repliesSeen.size) fail(`${automaticSends.length} sends to storm contacts, ${repliesSeen.size} automatic replies decided`);

  // Every status at its highest rank.
  await pool(plan.statusContacts, 8, async (s) => {
    const number = STORM_NUMBERS[s.number]!;
    const conversationId = `${number.displayPhoneNumber}_${s.waId}`;
    const messages = await pages<MessageView & { error?: unknown }>(client, ownerOf(s.number), `/v1/conversations/${conversationId}/messages`);
    const count = new Map<string, number>();
    for (const m of messages) count.set(m.wamid, (count.get(m.wamid) ?? 0) + 1);
    for (const [wamid, times] of count) if (times > 1) fail(`${conversationId}: ${wamid} stored ${times} times`);
    plan.outbound.forEach((o, index) => {
      if (o.number !== s.number || o.to !== s.waId) return;
      const wamid = world.wire.outboundWamids[index]!;
      const stored = messages.find((m) => m.wamid === wamid);
      if (!stored) fail(`${conversationId}: outbound ${wamid} missing`);
      else if (stored.status !== o.expected) fail(`${conversationId}: outbound ${wamid} is ${stored.status}, not ${o.expected} (posted ${o.statuses.join(', ')})`);
      else if (o.expected === 'failed' && !stored.error) fail(`${conversationId}: outbound ${wamid} failed without Meta's error`);
    });
    if (messages.length !== 1 + plan.outbound.filter((o) => o.number === s.number && o.to === s.waId).length) fail(`${conversationId}: ${messages.length} messages`);
  });

  // Quotas exact: A started a session for every chatbot contact, B exactly its limit and refused the rest; no AI; credits untouched.
  const chatbotContacts = [0, 1].map((a) => plan.contacts.filter((c) => c.role === 'chatbot' && STORM_NUMBERS[c.number]!.account === a).length);
  const expectedSessions = [chatbotContacts[0]!, Math.min(chatbotContacts[1]!, plan.chatbotLimits[1])];
  for (const a of [0, 1] as const) {
    const account = await client.api('GET', '/v1/account', world.accounts[a]!.owner);
    const usage = account.body.usage as { chatbotSessions: number; aiResponses: number };
    if (usage.chatbotSessions !== expectedSessions[a]) fail(`account ${'AB'[a]}: chatbotSessions used ${usage.chatbotSessions}, not ${expectedSessions[a]}`);
    if (chatbotStarted[a] !== expectedSessions[a]) fail(`account ${'AB'[a]}: ${chatbotStarted[a]} chatbot first steps sent, not ${expectedSessions[a]}`);
    if (usage.aiResponses !== 0) fail(`account ${'AB'[a]}: aiResponses used ${usage.aiResponses}`);
    if (account.body.balanceMicros !== world.accounts[a]!.balanceMicros) fail(`account ${'AB'[a]}: balance ${account.body.balanceMicros}, was ${world.accounts[a]!.balanceMicros}`);
  }
  if (chatbotStarted[1]! + chatbotRefused[1]! !== chatbotContacts[1]) fail(`account B: ${chatbotStarted[1]} sessions + ${chatbotRefused[1]} refused ≠ ${chatbotContacts[1]} chatbot contacts`);

  // Nothing left undone.
  const dead = runtime.bus.deadLetters();
  if (dead.length) fail(`${dead.length} bus dead letters, first: ${JSON.stringify(dead[0]).slice(0, 600)}`);
  const sendDead = runtime.sendQueue.deadLetters();
  if (sendDead.length) fail(`${sendDead.length} send queue dead letters`);

  const items = plan.deliveries.flatMap((d) => d.items);
  const events = new Set(items).size;
  const figures: StormFigures = {
    seed: plan.seed,
    accounts: 2,
    numbers: STORM_NUMBERS.length,
    deliveries: plan.deliveries.length,
    posts: run.posts,
    events,
    eventsPosted: plan.deliveries.reduce((sum, d) => sum + d.items.length * d.copies, 0),
    duplicatePosts: run.posts - plan.deliveries.length,
    rebatchedItems: plan.rebatched,
    sharedWamids: new Set(plan.contacts.flatMap((c) => c.messages.map((m) => m.wamid)).filter((w) => w.includes('_SHARED_'))).size,
    batchedDeliveries: plan.deliveries.filter((d) => new Set(d.items.map((i) => i.number)).size > 1).length,
    contacts: plan.contacts.length + plan.statusContacts.length,
    inboundMessages: plan.contacts.reduce((sum, c) => sum + c.messages.length, 0),
    statusItems: items.filter((i) => i.kind === 'status').length,
    outboundWithStatuses: plan.outbound.length,
    triggeringMessages: plan.contacts.reduce((sum, c) => sum + c.messages.filter((m) => m.trigger !== 'none').length, 0),
    automaticReplies: repliesSeen.size,
    rateLimited,
    floodBuckets,
    chatbotSessions: [expectedSessions[0]!, expectedSessions[1]!],
    concurrency,
    busRetries: run.bus.retries,
    busBatches: run.bus.batches,
    busBusyMs: run.bus.busyMs,
    elapsedMs: run.elapsedMs,
    quiesceMs: run.quiesceMs,
    postsPerSecond: Math.round((run.posts / Math.max(1, run.elapsedMs)) * 1000),
    cpuMs: run.cpuMs,
    setupMs: world.setupMs,
    checkMs: Date.now() - started,
  };
  return { failures, figures };
}

/** The figures on one line each, for the console. */
export function formatFigures(figures: StormFigures): string {
  return Object.entries(figures)
    .map(([key, value]) => `  ${key.padEnd(22)} ${Array.isArray(value) ? value.join(' / ') : typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join('\n');
}
