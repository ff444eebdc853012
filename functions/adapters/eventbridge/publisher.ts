/**
 * The `EventPublisher` port on EventBridge `PutEvents` (docs/architecture.md, "The webhook").
 *
 * - Batches of at most 10 entries and 256 KB per request, sized the way
 *   EventBridge sizes them.
 * - Only the entries EventBridge reports as failed (`FailedEntryCount`,
 *   per-entry `ErrorCode`) are sent again; a request that fails as a whole
 *   (throttling, 5xx, network) is sent again whole. Exponential backoff with
 *   full jitter, bounded attempts.
 * - An entry that can never be accepted (larger than 256 KB, or refused with
 *   a permanent error code) is not retried. Every other entry is still
 *   published, then the call rejects with `EventsNotPublished`: the webhook
 *   answers 500 and Meta redelivers, so nothing is lost silently (the
 *   metric and the log line tell an operator).
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEvent } from '../../../schemas/events/contract.js';
import { EventsNotPublished } from '../../core/errors.js';
import type { EventKeys, EventPublisher, PublishProblem } from '../../core/ports.js';

export type { PublishProblem };

/** EventBridge's limits on one `PutEvents` request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** Entry error codes that another attempt cannot fix. */
const PERMANENT_ENTRY_ERRORS = new Set(['MalformedDetail', 'InvalidArgument', 'NotAuthorizedForSourceException', 'AccessDeniedException']);
/** Request errors worth sending again (besides any 5xx and SDK-flagged retryable ones). */
const RETRYABLE_REQUEST_ERRORS = new Set(['ThrottlingException', 'InternalException', 'InternalFailure', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export interface EventBridgePublisherOptions {
  /** Attempts per entry, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Requests in flight at once for one `publish`. */
  concurrency?: number;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Told of what failed and why, to log it and count it (the adapter has no opinion on logging). */
  onProblem?: (problem: PublishProblem) => void;
}


interface Pending {
  entry: PutEventsRequestEntry;
  keys: EventKeys;
  bytes: number;
}

export class EventBridgePublisher implements EventPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onProblem: (problem: PublishProblem) => void;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    options: EventBridgePublisherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.concurrency = options.concurrency ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onProblem = options.onProblem ?? (() => undefined);
  }

  async publish(events: BusEvent[]): Promise<void> {
    if (events.length === 0) return;
    const pending: Pending[] = [];
    let oversize = 0;
    for (const event of events) {
      const entry: PutEventsRequestEntry = {
        EventBusName: this.eventBusName,
        Source: event.source,
        DetailType: event['detail-type'],
        Detail: JSON.stringify(event.detail),
        ...(event.time ? { Time: new Date(event.time) } : {}),
      };
      const item = { entry, keys: keysOf(event), bytes: putEventsEntrySize(entry) };
      if (item.bytes > PUT_EVENTS_MAX_BYTES) {
        oversize++;
        this.onProblem({ kind: 'oversize', ...item.keys, detailType: event['detail-type'], bytes: item.bytes });
      } else {
        pending.push(item);
      }
    }

    const batches = toBatches(pending);
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < batches.length) failed += await this.sendWithRetries(batches[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));

    if (failed + oversize > 0) {
      const reasons = [failed ? `${failed} refused by EventBridge after retries` : '', oversize ? `${oversize} larger than ${PUT_EVENTS_MAX_BYTES} bytes` : '']
        .filter(Boolean)
        .join('; ');
      throw new EventsNotPublished(failed + oversize, events.length, reasons);
    }
  }

  /** Sends one batch until every entry is accepted or out of attempts; returns how many were not. */
  private async sendWithRetries(batch: Pending[]): Promise<number> {
    let remaining = batch;
    for (let attempt = 1; ; attempt++) {
      const final = attempt >= this.maxAttempts;
      let retry: Pending[];
      try {
        const response = await this.client.send(new PutEventsCommand({ Entries: remaining.map((p) => p.entry) }));
        if (!response.FailedEntryCount) return 0;
        retry = [];
        let permanent = 0;
        // Results come back in request order: entry i answers Entries[i]. Should that ever not hold, resend them all (duplicates are harmless).
        const results = response.Entries?.length === remaining.length ? response.Entries : remaining.map(() => ({ ErrorCode: 'UnmatchedResult' }));
        results.forEach((result, i) => {
          if (!result.ErrorCode) return;
          const item = remaining[i];
          const isPermanent = PERMANENT_ENTRY_ERRORS.has(result.ErrorCode);
          this.onProblem({ kind: 'entry-failed', ...item.keys, detailType: item.entry.DetailType ?? '', errorCode: result.ErrorCode, attempt, final: final || isPermanent });
          if (isPermanent) permanent++;
          else retry.push(item);
        });
        if (retry.length === 0) return permanent;
        if (final) return permanent + retry.length;
        remaining = retry;
      } catch (error) {
        const retryable = isRetryable(error);
        this.onProblem({ kind: 'request-failed', entries: remaining.length, error: (error as Error)?.name ?? String(error), attempt, final: final || !retryable });
        if (!retryable || final) return remaining.length;
      }
      await this.sleep(this.backoff(attempt));
    }
  }

  /** Full jitter: a random wait up to an exponentially growing, capped ceiling. */
  private backoff(attempt: number): number {
    return this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
  }
}

/**
 * EventBridge's size of one entry: Time (14 bytes when set), Source,
 * DetailType, Detail and Resources in UTF-8 bytes.
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (text) size += Buffer.byteLength(text, 'utf8');
  }
  return size;
}

/** Packs entries in order into requests of at most 10 entries and 256 KB. */
function toBatches(items: Pending[]): Pending[][] {
  const batches: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length === PUT_EVENTS_MAX_ENTRIES || bytes + item.bytes > PUT_EVENTS_MAX_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length) batches.push(current);
  return batches;
}

function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string } | undefined;
  if (!e) return false;
  if (e.$retryable) return true;
  if (e.name && RETRYABLE_REQUEST_ERRORS.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  // No HTTP answer at all: a network failure.
  return typeof e.code === 'string' && /^E[A-Z]+/.test(e.code);
}

function keysOf(event: BusEvent): EventKeys {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const keys: EventKeys = {};
  for (const key of ['eventId', 'accountId', 'whatsapp_phno'] as const) if (typeof detail[key] === 'string') keys[key] = detail[key];
  return keys;
}

/** One client per container, with the SDK's own retries left to ours. */
export function createEventBridgeClient(region?: string): EventBridgeClient {
  return new EventBridgeClient({ ...(region ? { region } : {}), maxAttempts: 1 });
}
