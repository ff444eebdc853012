/**
 * The local runtime's event bus (docs/architecture.md): the `EventPublisher` port
 * in-process, routing with the very patterns the CDK rules use
 * (`schemas/routes.ts`), and delivering to consumers the way AWS does it:
 *
 *   PutEvents → rule → SQS queue (+ DLQ) → Lambda with partial batch responses
 *
 * A consumer gets an `SQSEvent` whose records' bodies are the EventBridge
 * event JSON, and answers `{batchItemFailures}`. A failed record is received
 * again (up to `maxReceiveCount` times, with backoff), then moved to the
 * dead-letter list, as SQS redrive would: a failing consumer never loses an
 * event. Publishing does not wait for consumers, like EventBridge;
 * `drain()` waits for them (tests).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BusEvent } from '../../../schemas/events/contract.js';
import { type EventPattern, RULES, matches } from '../../../schemas/routes.js';
import { PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from '../eventbridge/publisher.js';
import { EventsNotPublished, InternalError } from '../../core/errors.js';
import type { EventPublisher } from '../../core/ports.js';

/** What a Lambda behind an SQS queue is: a batch in, the failed message ids out. */
export type BusConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

/** An event as EventBridge delivers it to a target. */
export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  /** Set on an event an archive replay delivers (`replay()`), as EventBridge does. */
  'replay-name'?: string;
}

export interface RecordedEvent {
  event: EventBridgeEvent;
  /** The rules that matched it (with or without a consumer). */
  rules: string[];
}

export interface DeadLetter {
  rule: string;
  consumer: string;
  messageId: string;
  event: EventBridgeEvent;
  attempts: number;
  error: string;
  at: string;
}

export interface LocalBusOptions {
  rules?: Readonly<Record<string, EventPattern>>;
  /** Receives before a record goes to the dead letters (SQS `maxReceiveCount`). */
  maxReceiveCount?: number;
  /** First retry delay; doubles per receive. */
  retryDelayMs?: number;
  /** SQS batch size. */
  batchSize?: number;
  /** Batches a consumer works on at once (Lambda's SQS pollers start at 5), so a burst does not swamp DynamoDB Local. */
  concurrency?: number;
  /** How many recent events `recentEvents()` keeps. */
  recentLimit?: number;
  log?: (line: string) => void;
}

/** A queue with its consumer: what an EventBridge rule's SQS target and its Lambda are. */
interface Target {
  rule: string;
  name: string;
  consumer: BusConsumer;
  queue: Delivery[];
  active: number;
}

interface Delivery {
  records: SQSRecord[];
  receive: number;
}

const ACCOUNT = '000000000000';
const REGION = 'local';

export class LocalBus implements EventPublisher {
  private readonly rules: Readonly<Record<string, EventPattern>>;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly recentLimit: number;
  private readonly log: (line: string) => void;
  private readonly targets: Target[] = [];
  private readonly recent: RecordedEvent[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Pending retry waits, so `stop()` can end them. */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;

  constructor(options: LocalBusOptions = {}) {
    this.rules = options.rules ?? RULES;
    this.maxReceiveCount = options.maxReceiveCount ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.batchSize = options.batchSize ?? 10;
    this.concurrency = options.concurrency ?? 5;
    this.recentLimit = options.recentLimit ?? 500;
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Attaches a consumer to a rule (as an SQS queue target with its Lambda).
   * A rule may have several; a rule with none just records its events.
   * Returns a function that detaches it.
   */
  register(rule: string, consumer: BusConsumer, name = `${rule}-consumer-${this.targets.length + 1}`): () => void {
    if (!(rule in this.rules)) throw new InternalError(`Unknown rule "${rule}"; known: ${Object.keys(this.rules).join(', ')}`);
    const target: Target = { rule, name, consumer, queue: [], active: 0 };
    this.targets.push(target);
    return () => {
      const index = this.targets.indexOf(target);
      if (index >= 0) this.targets.splice(index, 1);
    };
  }

  async publish(events: BusEvent[]): Promise<void> {
    // The same size rule as EventBridge, so what passes locally passes in AWS.
    const oversize = events.filter(
      (e) => putEventsEntrySize({ Source: e.source, DetailType: e['detail-type'], Detail: JSON.stringify(e.detail) }) > PUT_EVENTS_MAX_BYTES,
    );
    if (oversize.length) throw new EventsNotPublished(oversize.length, events.length, `larger than ${PUT_EVENTS_MAX_BYTES} bytes`);

    const perTarget = new Map<Target, SQSRecord[]>();
    for (const published of events) {
      const event: EventBridgeEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': published['detail-type'],
        source: published.source,
        account: ACCOUNT,
        time: published.time ?? new Date().toISOString(),
        region: REGION,
        resources: [],
        detail: published.detail,
      };
      const rules = Object.keys(this.rules).filter((rule) => matches(this.rules[rule], event));
      this.recent.push({ event, rules });
      if (this.recent.length > this.recentLimit) this.recent.shift();
      for (const target of this.targets) {
        if (!rules.includes(target.rule)) continue;
        const records = perTarget.get(target) ?? [];
        records.push(sqsRecord(target, event));
        perTarget.set(target, records);
      }
    }
    for (const [target, records] of perTarget) {
      for (let i = 0; i < records.length; i += this.batchSize) this.enqueue(target, { records: records.slice(i, i + this.batchSize), receive: 1 });
    }
  }

  /**
   * Puts a message straight on the queues of a rule's targets (an SQS
   * `SendMessage` to the rule's queue, as a consumer or EventBridge Scheduler
   * does with a timed message), delivered and retried like the rule's events.
   */
  sendToQueue(rule: string, body: string): void {
    for (const target of this.targets) {
      if (target.rule === rule) this.enqueue(target, { records: [sqsRecordOf(target, body)], receive: 1 });
    }
  }

  /** The most recent events, oldest first, with the rules each matched. */
  recentEvents(): RecordedEvent[] {
    return [...this.recent];
  }

  deadLetters(): DeadLetter[] {
    return [...this.dead];
  }

  /**
   * Moves dead letters back to the queues they died on, as an SQS DLQ redrive
   * (`StartMessageMoveTask`) does: each is received again, with a fresh
   * receive count, by the consumer it failed on, and leaves the dead letters
   * (if it fails again it comes back to them). Only `rule`'s when given; a
   * dead letter whose consumer is no longer registered stays. Returns how many
   * were moved; `drain()` waits for them to be worked.
   */
  redrive(options: { rule?: string } = {}): number {
    if (this.stopped) throw new InternalError('The local bus is stopped.');
    const perTarget = new Map<Target, SQSRecord[]>();
    const kept: DeadLetter[] = [];
    for (const letter of this.dead) {
      const target = options.rule === undefined || letter.rule === options.rule ? this.targets.find((t) => t.name === letter.consumer && t.rule === letter.rule) : undefined;
      if (!target) {
        kept.push(letter);
        continue;
      }
      const records = perTarget.get(target) ?? [];
      records.push(sqsRecordOf(target, JSON.stringify(letter.event)));
      perTarget.set(target, records);
    }
    this.dead.splice(0, this.dead.length, ...kept);
    const moved = this.receiveAgain(perTarget);
    if (moved) this.log(`bus: redrove ${moved} dead letter(s)${options.rule === undefined ? '' : ` of rule "${options.rule}"`}`);
    return moved;
  }

  /**
   * Replays the recorded events whose `time` is in [from, to) to the rules'
   * consumers, as an EventBridge archive replay (`StartReplay`) does: the same
   * event (id, time, detail) with a `replay-name`, to the rules it matches
   * now; a replayed event is not recorded again (EventBridge does not archive
   * replays). Only what `recentEvents()` still holds (the last `recentLimit`)
   * can be replayed. Consumers dedupe by the detail's `eventId`, so a replay
   * changes nothing already done. Returns how many events were replayed.
   */
  replay(window: { from: string; to: string; name?: string }): number {
    if (this.stopped) throw new InternalError('The local bus is stopped.');
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    if (Number.isNaN(from) || Number.isNaN(to) || from > to) throw new InternalError(`Not a time window: ${window.from} .. ${window.to}`);
    const name = window.name ?? `local-replay-${randomUUID()}`;
    const perTarget = new Map<Target, SQSRecord[]>();
    let replayed = 0;
    for (const { event } of this.recent) {
      const time = Date.parse(event.time);
      if (!(time >= from && time < to)) continue;
      replayed++;
      const rules = Object.keys(this.rules).filter((rule) => matches(this.rules[rule], event));
      const body = { ...event, 'replay-name': name };
      for (const target of this.targets) {
        if (!rules.includes(target.rule)) continue;
        const records = perTarget.get(target) ?? [];
        records.push(sqsRecordOf(target, JSON.stringify(body)));
        perTarget.set(target, records);
      }
    }
    this.receiveAgain(perTarget);
    this.log(`bus: replay "${name}" of ${window.from} .. ${window.to}: ${replayed} event(s)`);
    return replayed;
  }

  /** Hands each target its records in batches, as a first receive; returns how many records. */
  private receiveAgain(perTarget: Map<Target, SQSRecord[]>): number {
    let count = 0;
    for (const [target, records] of perTarget) {
      count += records.length;
      for (let i = 0; i < records.length; i += this.batchSize) this.enqueue(target, { records: records.slice(i, i + this.batchSize), receive: 1 });
    }
    return count;
  }

  /** Resolves once every delivery under way (retries included) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Cancels pending retries and queued batches; nothing is delivered after this. */
  stop(): void {
    this.stopped = true;
    for (const target of this.targets) target.queue.length = 0;
    for (const [timer, resolve] of this.waits) {
      clearTimeout(timer);
      resolve();
    }
    this.waits.clear();
  }

  private enqueue(target: Target, delivery: Delivery): void {
    target.queue.push(delivery);
    this.pump(target);
  }

  /** Starts queued batches while the consumer has room. */
  private pump(target: Target): void {
    while (!this.stopped && target.active < this.concurrency && target.queue.length) {
      const delivery = target.queue.shift()!;
      target.active++;
      this.track(
        this.attempt(target, delivery).finally(() => {
          target.active--;
          this.pump(target);
        }),
      );
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async attempt(target: Target, { records, receive }: Delivery): Promise<void> {
    const batch = records.map((record) => ({ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receive) } }));
    let failedIds: Set<string>;
    let error = 'reported in batchItemFailures';
    try {
      const response = await target.consumer({ Records: batch });
      failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (thrown) {
      // A consumer that throws fails its whole batch, as a Lambda would.
      failedIds = new Set(batch.map((record) => record.messageId));
      error = (thrown as Error)?.message ?? String(thrown);
    }
    const failed = records.filter((record) => failedIds.has(record.messageId));
    if (failed.length === 0) return;
    if (receive < this.maxReceiveCount) {
      // Back in the queue after a visibility timeout, without holding a consumer slot meanwhile.
      this.track(this.wait(this.retryDelayMs * 2 ** (receive - 1)).then(() => this.enqueue(target, { records: failed, receive: receive + 1 })));
      return;
    }
    for (const record of failed) {
      const event = JSON.parse(record.body) as EventBridgeEvent;
      this.dead.push({ rule: target.rule, consumer: target.name, messageId: record.messageId, event, attempts: receive, error, at: new Date().toISOString() });
      const eventId = (event.detail as { eventId?: string } | undefined)?.eventId;
      this.log(`bus: dead letter on rule "${target.rule}" (${target.name}) after ${receive} attempts: ${event['detail-type']} eventId=${eventId ?? '-'}: ${error}`);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, ms);
      this.waits.set(timer, resolve);
    });
  }
}

function sqsRecord(target: Target, event: EventBridgeEvent): SQSRecord {
  return sqsRecordOf(target, JSON.stringify(event));
}

function sqsRecordOf(target: Target, body: string): SQSRecord {
  const now = String(Date.now());
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `local-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'local-bus', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${target.name}`,
    awsRegion: REGION,
  };
}
