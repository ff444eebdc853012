/**
 * A webhook storm through the local runtime (issue 19), small enough for `npm test`: a seeded plan of deliveries
 * to 4 numbers of 2 accounts, each posted 1–3 times at 25-way concurrency, several numbers' changes batched in one
 * delivery, statuses in random order and repeated, messages that trigger a keyword or a chatbot; then everything
 * read back through the API (test/support/storm.ts). `npm run storm` runs a larger one (scripts/storm.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import { localClient } from '../support/local-client.js';
import { inboundTexts, messagesDelivery } from '../support/meta-payloads.js';
import { STORM_NUMBERS, type StormPlan, type StormReport, type StormRun, type StormWorld, checkStorm, formatFigures, planStorm, quiesce, runStorm, setUpStorm } from '../support/storm.js';

// About 1,000 posts of 560 deliveries, 1.15 items each, 45% of them statuses (cheaper than messages: two consumers,
// not four): what a loaded 2-core CI box takes in well under a minute (`npm run storm` posts thousands).
const DELIVERIES = Number(process.env.STORM_TEST_DELIVERIES ?? 560);
const SHAPE = { itemsPerDelivery: 1.15, statusShare: 0.45 };
const CONCURRENCY = 25;
const SEED = 19;

let runtime: LocalRuntime;
const logged: string[] = [];
/** Lines of CloudWatch EMF (Powertools metrics) the handlers wrote to stdout. */
let emfLines = 0;
const write = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    emfLines += String(chunk).split('\n').filter((line) => line.startsWith('{"_aws"')).length;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  runtime = await startLocalRuntime({ port: 0, log: (line) => logged.push(line) });
}, 180_000);

afterAll(async () => {
  process.stdout.write = write;
  await runtime?.stop();
});

describe('a webhook storm through the local runtime', () => {
  let plan: StormPlan;
  let report: StormReport;
  let world: StormWorld;
  let run: StormRun;

  beforeAll(async () => {
    plan = planStorm({ deliveries: DELIVERIES, seed: SEED, ...SHAPE });
    world = await setUpStorm(runtime, plan);
    run = await runStorm(runtime, world, plan, CONCURRENCY);
    report = await checkStorm(runtime, world, plan, run, CONCURRENCY);
    console.log(`storm (seed ${SEED}):\n${formatFigures(report.figures)}`);
  }, 170_000);

  it('plans what the issue asks for: 2 accounts, 4 numbers, duplicates, batches across numbers, triggers and statuses', () => {
    const { figures } = report;
    expect(figures.posts).toBeGreaterThan(figures.deliveries);
    expect(plan.deliveries.some((d) => d.copies === 3)).toBe(true);
    expect(figures.batchedDeliveries).toBeGreaterThan(0);
    expect(plan.deliveries.some((d) => new Set(d.items.map((i) => Math.floor(i.number / 2))).size === 2)).toBe(true);
    expect(figures.triggeringMessages).toBeGreaterThan(0);
    expect(plan.contacts.some((c) => c.role === 'chatbot' && c.number >= 2)).toBe(true);
    expect(figures.statusItems).toBeGreaterThan(figures.outboundWithStatuses);
    expect(figures.sharedWamids).toBeGreaterThan(0);
    // The same seed plans the same storm.
    expect(JSON.stringify(planStorm({ deliveries: DELIVERIES, seed: SEED, ...SHAPE }).contacts.map((c) => c.messages.map((m) => m.wamid)))).toBe(
      JSON.stringify(plan.contacts.map((c) => c.messages.map((m) => m.wamid))),
    );
  });

  it('answers every post 200 and leaves every invariant holding', () => {
    expect(report.failures).toEqual([]);
    expect(logged.filter((line) => /webhook answered|local runtime error|graph simulator error|dead letter/.test(line))).toEqual([]);
  });

  it('printed no metrics: the runtime made the handlers\' logger and metrics after setting their environment', () => {
    // local/runtime.ts imported the API reference (and so the route table, the logger and the metrics) statically,
    // before POWERTOOLS_METRICS_DISABLED was set: every handler then wrote EMF lines to stdout (thousands in a storm).
    expect(report.figures.posts).toBeGreaterThan(0);
    expect(emfLines).toBe(0);
  });

  it('started exactly its limit of chatbot sessions on B, and one for every chatbot contact on A', () => {
    expect(report.figures.chatbotSessions).toEqual([
      plan.contacts.filter((c) => c.role === 'chatbot' && c.number < 2).length,
      plan.chatbotLimits[1],
    ]);
    const refusedChatbots = plan.contacts.filter((c) => c.role === 'chatbot' && c.number >= 2).length - plan.chatbotLimits[1];
    expect(report.figures.automaticReplies).toBe(report.figures.triggeringMessages - refusedChatbots - report.figures.rateLimited);
  });

  it('starts a chatbot on each of two numbers of one account for one wamid sent to both (dedupe is per number and wamid)', async () => {
    // Found by `npm run storm`: the session's quota unit was keyed by the wamid alone (`chatbot:{wamid}`), so the second
    // number's session hit "Idempotency-Key already used for a different request", and its message was dead-lettered
    // undecided. (`npm run replay --to` of one capture onto two numbers sends exactly this.)
    const [main, vendas] = [STORM_NUMBERS[0]!, STORM_NUMBERS[1]!];
    const waId = '16509990001';
    const wamid = 'wamid.STORM_TWO_NUMBERS_MENU';
    const menu = inboundTexts(waId, 'Twice', [{ id: wamid, body: 'menu' }]);
    const raw = JSON.stringify(messagesDelivery([main, menu], [vendas, menu]));
    const owner = world.accounts[0]!.owner;
    const client = localClient(runtime);
    const before = (await client.api('GET', '/v1/account', owner)).body.usage.chatbotSessions as number;
    const deadBefore = runtime.bus.deadLetters().length;
    expect(await client.deliver(raw)).toBe(200);
    await quiesce(runtime);
    expect(runtime.bus.deadLetters().slice(deadBefore)).toEqual([]);
    for (const number of [main, vendas]) {
      const messages = (await client.api('GET', `/v1/conversations/${number.displayPhoneNumber}_${waId}/messages`, owner)).body.items;
      expect(messages.filter((m: { wamid: string }) => m.wamid === wamid)).toHaveLength(1);
      expect(messages.find((m: { wamid: string }) => m.wamid === wamid).automation).toMatchObject({ decidedBy: 'keyword', replies: [{ outcome: 'sent' }] });
    }
    const firstSteps = runtime.graph.sentMessages().filter((s) => s.to === waId && s.type === 'interactive');
    expect(firstSteps.map((s) => s.phoneNumberId).sort()).toEqual([main.phoneNumberId, vendas.phoneNumberId].sort());
    expect((await client.api('GET', '/v1/account', owner)).body.usage.chatbotSessions).toBe(before + 2);
  });

  it('fails a storm that did not go as planned: the checker is not a rubber stamp', async () => {
    // The same storm with four claims made false: an outbound message expected one rank lower than it ended, a keyword
    // contact expected to have sent one message more, B's chatbot limit one higher, and one webhook answer a 500.
    const tampered: StormPlan = structuredClone(plan);
    const outbound = tampered.outbound.findIndex((o) => o.expected === 'read');
    tampered.outbound[outbound]!.expected = 'delivered';
    const keyword = tampered.contacts.find((c) => c.role === 'keyword')!;
    const extra = { ...keyword.messages.at(-1)!, wamid: `${keyword.messages.at(-1)!.wamid}_NEVER_SENT` };
    keyword.messages.push(extra);
    tampered.chatbotLimits[1] += 1;
    // A plain message claimed to be a keyword (it got no reply), and a contact the plan forgets (it is there all the same).
    const plain = tampered.contacts.find((c) => c.role === 'none' && c !== keyword)!;
    plain.messages[0]!.trigger = 'keyword';
    const forgotten = tampered.contacts.findIndex((c) => c.role === 'none' && c !== plain && !tampered.contacts.some((o) => o !== c && o.waId === c.waId));
    const [gone] = tampered.contacts.splice(forgotten, 1);
    const checked = await checkStorm(runtime, world, tampered, { ...run, answers: { ...run.answers, 500: 1 } }, CONCURRENCY);
    const said = checked.failures.join('\n');
    expect(said).toContain(`outbound ${world.wire.outboundWamids[outbound]} is read, not delivered`);
    expect(said).toContain(`${extra.wamid} (keyword) not stored`);
    expect(said).toMatch(new RegExp(`unreadCount ${keyword.messages.length - 1}, not ${keyword.messages.length}`));
    expect(said).toMatch(/account B: chatbotSessions used \d+, not \d+/);
    expect(said).toMatch(/^1 posts answered 500/m);
    expect(said).toContain(`keyword ${plain.messages[0]!.wamid} replies [] (`);
    expect(said).toContain(`contact ${gone!.waId} on ${STORM_NUMBERS[gone!.number]!.displayPhoneNumber} was never planned there`);
  });
});
