/**
 * Fault injection on the sender → Graph API hop, on DynamoDB Local: the real
 * sender Lambda handler (`makeSenderHandler`, SQS batches of chunk messages),
 * the real `GraphClient`, and the local runtime's Graph simulator
 * (`startGraphSimulator`) behind a fault-switching front in this file. The
 * front answers a send as Meta does when it refuses one (5xx, HTTP 429, error
 * 130429 for the number's throughput, 131056 for the business/consumer pair)
 * without passing it on, or goes away altogether (its port closed: connection
 * refused) and comes back on the same port.
 *
 * What must hold after every fault and the queue's redeliveries: the
 * simulator received each recipient's message at most once, every recipient
 * that could be sent was sent exactly once, the pool was charged once per
 * message that went out, and a consumer that crashed mid-batch reports only
 * its unfinished record (`batchItemFailures`), whose redelivery re-sends
 * nothing already sent.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient } from '../../functions/adapters/graph/graph-client.js';
import { logger } from '../../functions/commons/observability.js';
import { getBroadcast } from '../../functions/core/broadcasts.js';
import type { SenderDeps } from '../../functions/core/sender-ports.js';
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import { makeSenderHandler } from '../../functions/sender/app.js';
import { type GraphSimulator, startGraphSimulator, tableNumberLookup } from '../../local/graph-simulator.js';
import { newAccount } from '../support/accounts.js';
import { approveTemplate, balanceOf, broadcastWorld, connectTestNumber, ledgerOf, makeBroadcast, recipients } from '../support/broadcasts.js';
import { type TestTable, createTestTable } from '../support/dynamo.js';
import { sqsBatch } from '../support/inbox.js';

const TOKEN = 'faults-graph-token';
const PRICE = 1_000;

let table: TestTable;
let simulator: GraphSimulator;
let front: FaultyGraph;

beforeAll(async () => {
  // The crashes below are logged at error by the consumer shell, on purpose: keep the output readable.
  logger.setLogLevel('SILENT');
  table = await createTestTable('faults-graph');
  simulator = await startGraphSimulator({ appSecret: 'secret', accessToken: TOKEN, lookupNumber: tableNumberLookup(table) });
  front = new FaultyGraph(simulator.url);
  await front.start();
});

afterAll(async () => {
  await front?.stop();
  await simulator?.stop();
});

// ---------------------------------------------------------------------------------------------
// The fault-switching front of the Graph simulator.
// ---------------------------------------------------------------------------------------------

type Fault = '500' | '503' | '429' | '130429' | '131056';

const FAULT_ANSWERS: Record<Fault, { status: number; error: Record<string, unknown> }> = {
  '500': { status: 500, error: { message: 'An unknown error has occurred.', type: 'OAuthException', code: 1 } },
  '503': { status: 503, error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2 } },
  '429': { status: 429, error: { message: '(#80007) Rate limit issues', type: 'OAuthException', code: 80007 } },
  '130429': { status: 400, error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429, error_data: { details: 'Cloud API message throughput has been reached.' } } },
  '131056': { status: 400, error: { message: '(#131056) (Business Account, Consumer Account) pair rate limit hit', type: 'OAuthException', code: 131056 } },
};

class FaultyGraph {
  private server?: Server;
  private port = 0;
  /** Decides a send's fault from its recipient and how many times this recipient was tried. */
  fault: (to: string, attempt: number) => Fault | undefined = () => undefined;
  /** How long to hold the simulator's answer to a send before passing it back (a Graph that took it, then went quiet). */
  holdAnswerMs: (to: string) => number = () => 0;
  /** Called after each send the simulator took (e.g. to go away after the n-th). */
  afterForward: (forwarded: number) => Promise<void> | void = () => undefined;
  readonly attempts = new Map<string, number>();
  readonly refused: { to: string; fault: Fault }[] = [];
  /** Attempts that found the Graph gone. */
  unreachable = 0;
  forwarded = 0;

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.fault = () => undefined;
    this.holdAnswerMs = () => 0;
    this.afterForward = () => undefined;
    this.attempts.clear();
    this.refused.length = 0;
    this.unreachable = 0;
    this.forwarded = 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes away: the port is closed, every new connection refused. Sends already passed on finish. */
  async goAway(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  /** Comes back on the same port. */
  async comeBack(): Promise<void> {
    if (!this.server) await this.start();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()) && server.closeAllConnections());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (!this.server) {
      // Gone while this keep-alive connection was open: the request never reaches Meta.
      this.unreachable++;
      req.socket.destroy();
      return;
    }
    const body = JSON.parse(raw.toString('utf8') || '{}') as { to?: string };
    const to = body.to ?? '';
    const attempt = (this.attempts.get(to) ?? 0) + 1;
    this.attempts.set(to, attempt);
    const fault = this.fault(to, attempt);
    if (fault) {
      this.refused.push({ to, fault });
      const { status, error } = FAULT_ANSWERS[fault];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { ...error, fbtrace_id: 'faults' } }));
      return;
    }
    const answer = await fetch(`${this.target}${req.url}`, {
      method: 'POST',
      headers: { authorization: String(req.headers.authorization ?? ''), 'content-type': 'application/json' },
      body: raw,
    });
    const text = await answer.text();
    const hold = this.holdAnswerMs(to);
    if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
    if (res.destroyed || req.socket.destroyed) {
      this.forwarded++;
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json', connection: 'close' }).end(text);
    this.forwarded++;
    await this.afterForward(this.forwarded);
  }
}

// ---------------------------------------------------------------------------------------------
// A broadcast world whose sender talks to the front through the real GraphClient.
// ---------------------------------------------------------------------------------------------

const graphClient = (timeoutMs = 5_000) => new GraphClient({ baseUrl: front.url, version: 'v23.0', accessToken: async () => TOKEN, baseDelayMs: 1, maxDelayMs: 4, timeoutMs });

async function setup(options: { count: number; chunkSize: number; credits?: number; prefix?: string }) {
  front.reset();
  const world = broadcastWorld(table, { chunkSize: options.chunkSize });
  const account = await newAccount(world.deps, {}, options.credits ?? 1_000 * PRICE);
  const number = await connectTestNumber(world, account.accountId);
  await approveTemplate(world, account.accountId, number);
  // 998…: the simulator sends no status callbacks for these (there is no webhook here).
  const to = recipients(options.count, options.prefix ?? '9981');
  const { broadcastId } = await makeBroadcast(world, account.accountId, number.whatsapp_phno, to);
  const sender: SenderDeps = { ...world.sender, messaging: graphClient(), settings: { ...world.sender.settings, throttleBackoffMs: 1, maxThrottleRetries: 3, concurrency: 4 } };
  const chunks: SendChunkMessage[] = Array.from({ length: Math.ceil(options.count / options.chunkSize) }, (_, chunk) => ({ accountId: account.accountId, broadcastId, chunk }));
  return { world, sender, accountId: account.accountId, number, to, broadcastId, chunks, initial: options.credits ?? 1_000 * PRICE };
}

/** What the simulator took for this number, per recipient. */
function sendsByRecipient(phoneNumberId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const send of simulator.sentMessages().filter((s) => s.phoneNumberId === phoneNumberId)) counts.set(send.to, (counts.get(send.to) ?? 0) + 1);
  return counts;
}

/**
 * The send queue: the chunk messages as one SQS batch to the sender handler,
 * then again whatever it reported failed (after `between`, the visibility
 * timeout), until nothing fails. Returns how many records failed each round.
 */
async function runQueue(sender: SenderDeps, messages: SendChunkMessage[], between: (round: number) => Promise<void> = async () => undefined) {
  const handler = makeSenderHandler(sender) as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  let pending = messages;
  const failedPerRound: number[] = [];
  for (let round = 1; pending.length > 0 && round <= 8; round++) {
    const batch = sqsBatch(pending as never[]);
    const { batchItemFailures } = await handler(batch, { functionName: 'sender', awsRequestId: `round-${round}` } as Context);
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    pending = pending.filter((_, i) => failed.has(batch.Records[i]!.messageId));
    failedPerRound.push(pending.length);
    if (pending.length) await between(round);
  }
  expect(pending).toEqual([]);
  return failedPerRound;
}

/** Every recipient got exactly one message, charged once; the broadcast completed with all of them sent. */
async function expectEachSentOnce(s: Awaited<ReturnType<typeof setup>>) {
  const sent = sendsByRecipient(s.number.phoneNumberId);
  expect([...sent.keys()].sort()).toEqual([...s.to].sort());
  expect([...sent.values()].every((n) => n === 1)).toBe(true);
  expect(await balanceOf(s.world, s.accountId)).toBe(s.initial - s.to.length * PRICE);
  const view = await getBroadcast(s.world.api, s.accountId, s.broadcastId);
  expect(view.status).toBe('completed');
  expect(view.counts).toMatchObject({ recipients: s.to.length, sent: s.to.length, failed: 0 });
  expect(view.creditsSpentMicros).toBe(s.to.length * PRICE);
  // One reservation per chunk and at most one settlement: the ledger adds up to what was sent.
  const ledger = (await ledgerOf(s.world, s.accountId)).filter((e) => String(e.refId).startsWith(s.broadcastId));
  expect(ledger.filter((e) => e.reason === 'broadcast:reserve')).toHaveLength(s.chunks.length);
  expect(ledger.reduce((sum, e) => sum + (e.amount as number), 0)).toBe(-s.to.length * PRICE);
}

// ---------------------------------------------------------------------------------------------

describe('Graph errors on sends', () => {
  it('5xx (500, then 503) on each recipient’s first two attempts: retried with backoff, each sent once, charged once', async () => {
    const s = await setup({ count: 8, chunkSize: 4 });
    front.fault = (_, attempt) => (attempt === 1 ? '500' : attempt === 2 ? '503' : undefined);
    expect(await runQueue(s.sender, s.chunks)).toEqual([0]);
    expect(front.refused).toHaveLength(16);
    await expectEachSentOnce(s);
  });

  it('HTTP 429, 130429 and 131056 on the first five attempts: backed off and retried, each sent once, charged once', async () => {
    const s = await setup({ count: 12, chunkSize: 6 });
    const kinds: Fault[] = ['429', '130429', '131056'];
    front.fault = (to, attempt) => (attempt <= 5 ? kinds[Number(to.slice(-2)) % 3] : undefined);
    expect(await runQueue(s.sender, s.chunks)).toEqual([0]);
    // More than the client's own 4 attempts: the sender's backoff took over and tried again.
    expect(front.refused.filter((r) => r.fault === '131056').length).toBeGreaterThan(0);
    expect([...front.attempts.values()].every((n) => n === 6)).toBe(true);
    await expectEachSentOnce(s);
  });

  it('a recipient throttled (131056) on every attempt fails as throttled, never sent, not charged; the rest go out once', async () => {
    const s = await setup({ count: 6, chunkSize: 6 });
    const stubborn = s.to[3]!;
    front.fault = (to) => (to === stubborn ? '131056' : undefined);
    expect(await runQueue(s.sender, s.chunks)).toEqual([0]);
    const sent = sendsByRecipient(s.number.phoneNumberId);
    expect(sent.has(stubborn)).toBe(false);
    expect([...sent.values()]).toEqual([1, 1, 1, 1, 1]);
    // The client's 4 attempts, for each of the sender's 1 + 3 tries.
    expect(front.attempts.get(stubborn)).toBe(16);
    const view = await getBroadcast(s.world.api, s.accountId, s.broadcastId);
    expect(view).toMatchObject({ status: 'completed', failedReasons: { throttled: 1 }, creditsSpentMicros: 5 * PRICE });
    expect(await balanceOf(s.world, s.accountId)).toBe(s.initial - 5 * PRICE);
  });
});

describe('a send whose answer never comes', () => {
  it('Meta took it but answered after the client’s timeout: not sent again, failed as send_outcome_unknown with its price kept', async () => {
    const s = await setup({ count: 5, chunkSize: 5 });
    const quiet = s.to[2]!;
    front.holdAnswerMs = (to) => (to === quiet ? 800 : 0);
    const sender: SenderDeps = { ...s.sender, messaging: graphClient(250) };
    expect(await runQueue(sender, s.chunks)).toEqual([0]);
    const sent = sendsByRecipient(s.number.phoneNumberId);
    // Once: the timeout was not retried (a retry would have been a second message).
    expect(sent.get(quiet)).toBe(1);
    expect(front.attempts.get(quiet)).toBe(1);
    expect([...sent.values()]).toEqual([1, 1, 1, 1, 1]);
    const view = await getBroadcast(s.world.api, s.accountId, s.broadcastId);
    expect(view).toMatchObject({ status: 'completed', counts: { sent: 4, failed: 1 }, failedReasons: { send_outcome_unknown: 1 }, creditsSpentMicros: 5 * PRICE });
    // Five messages went out, five charged: never twice, never free.
    expect(await balanceOf(s.world, s.accountId)).toBe(s.initial - 5 * PRICE);
  });
});

describe('a consumer crashing mid-batch', () => {
  it('reports only the unfinished chunk; its redelivery re-sends nothing, and the recipient whose outcome is unknown is kept charged once, never re-sent', async () => {
    const s = await setup({ count: 15, chunkSize: 5 });
    // Chunk 1 crashes on its third recipient, after Meta took the message and before the send was recorded.
    const victim = s.to[7]!;
    const broadcasts = Object.create(s.sender.broadcasts) as SenderDeps['broadcasts'];
    let crashed = false;
    broadcasts.recordSent = async (broadcast, sent) => {
      if (sent.waId === victim && !crashed) {
        crashed = true;
        throw new Error('simulated crash: the process died after the send');
      }
      return s.sender.broadcasts.recordSent(broadcast, sent);
    };
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const sender: SenderDeps = { ...s.sender, broadcasts, clock };
    const handler = makeSenderHandler(sender) as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

    const batch = sqsBatch(s.chunks as never[]);
    const first = await handler(batch, { functionName: 'sender', awsRequestId: 'crash' } as Context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1]!.messageId }]);
    expect(sendsByRecipient(s.number.phoneNumberId).get(victim)).toBe(1);

    // Redelivered while the victim's claim is recent: still in flight, the record fails again and nothing is sent.
    const again = await handler(sqsBatch([s.chunks[1]!] as never[]), {} as Context);
    expect(again.batchItemFailures).toHaveLength(1);
    // Past `staleSendingSeconds`: settled as send_outcome_unknown, its price kept, nothing re-sent.
    now += (s.sender.settings.staleSendingSeconds + 1) * 1000;
    expect((await handler(sqsBatch([s.chunks[1]!] as never[]), {} as Context)).batchItemFailures).toEqual([]);
    // And the whole batch delivered again (a Lambda timeout returns every record): nothing sent or charged twice.
    expect((await handler(sqsBatch(s.chunks as never[]), {} as Context)).batchItemFailures).toEqual([]);

    const sent = sendsByRecipient(s.number.phoneNumberId);
    expect([...sent.keys()].sort()).toEqual([...s.to].sort());
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
    // 15 went out, 15 charged: the victim's price was kept though its send was never recorded.
    expect(await balanceOf(s.world, s.accountId)).toBe(s.initial - 15 * PRICE);
    const view = await getBroadcast(s.world.api, s.accountId, s.broadcastId);
    expect(view).toMatchObject({ status: 'completed', counts: { sent: 14, failed: 1 }, failedReasons: { send_outcome_unknown: 1 }, creditsSpentMicros: 15 * PRICE });
  });

  it('a crash before the send (the Graph never got it) fails the chunk; the redelivery keeps what was sent and settles the rest without a second send', async () => {
    const s = await setup({ count: 10, chunkSize: 10 });
    const victim = s.to[4]!;
    const messaging = graphClient();
    let crashed = false;
    const sender: SenderDeps = {
      ...s.sender,
      messaging: {
        sendTemplate: async (request) => {
          if (request.to === victim && !crashed) {
            crashed = true;
            throw new Error('simulated crash before the send');
          }
          return messaging.sendTemplate(request);
        },
      },
    };
    const failed = await runQueue({ ...sender, settings: { ...sender.settings, staleSendingSeconds: 0 } }, s.chunks);
    expect(failed).toEqual([1, 0]);
    const sent = sendsByRecipient(s.number.phoneNumberId);
    // At most once: the victim's claim could have been a send, so it is not tried again.
    expect(sent.has(victim)).toBe(false);
    expect([...sent.values()]).toEqual(Array.from({ length: 9 }, () => 1));
    const view = await getBroadcast(s.world.api, s.accountId, s.broadcastId);
    expect(view).toMatchObject({ status: 'completed', counts: { sent: 9, failed: 1 }, failedReasons: { send_outcome_unknown: 1 } });
    // Paid for at worst: 9 sent + the unknown one, never more.
    expect(await balanceOf(s.world, s.accountId)).toBe(s.initial - 10 * PRICE);
  });
});

describe('the Graph going away mid-broadcast', () => {
  it('stopped after 15 of 40 sends and back after two redeliveries: the broadcast resumes, each recipient gets exactly one message, charged once', async () => {
    const s = await setup({ count: 40, chunkSize: 10 });
    front.afterForward = async (forwarded) => {
      if (forwarded === 15) await front.goAway();
    };
    const failed = await runQueue(s.sender, s.chunks, async (round) => {
      if (round === 2) await front.comeBack();
    });
    // Two rounds with chunks left over (the Graph was gone), then none.
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.at(-1)).toBe(0);
    expect(failed[0]).toBeGreaterThan(0);
    await expectEachSentOnce(s);
  });
});
