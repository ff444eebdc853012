/**
 * Counts the DynamoDB requests this process sends, whichever client sends
 * them: the handlers of the local runtime build their own clients, so the
 * count is taken one layer below the SDK, on Node's `http.client.request.start`
 * diagnostics channel, keyed on the `X-Amz-Target` header (one HTTP request is
 * one DynamoDB request, retries included, exactly what a middleware at the end
 * of the client's stack would see). The body each request was ended with is
 * kept too, to count the items of a transaction (DynamoDB bills 2 units per
 * transactional item). Nothing in the product code knows about it; `stop()`
 * puts `ClientRequest.prototype.end` back.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

export interface DynamoCounts {
  /** Requests per operation, e.g. `{ UpdateItem: 3, Query: 1 }`. */
  byOperation: Record<string, number>;
  writes: number;
  reads: number;
  /** Write request units on demand, items of 1 KB or less: 1 per item, 2 per transactional item. */
  writeUnits: number;
  /** Read request units on demand, items of 4 KB or less, strongly consistent: 1 per item read, 2 per transactional item. */
  readUnits: number;
}

function emptyCounts(): DynamoCounts {
  return { byOperation: {}, writes: 0, reads: 0, writeUnits: 0, readUnits: 0 };
}

function itemsOf(operation: string, body: string): number {
  if (!body) return 1;
  try {
    const input = JSON.parse(body) as { TransactItems?: unknown[]; RequestItems?: Record<string, unknown[] | { Keys: unknown[] }> };
    if (operation.startsWith('Transact')) return input.TransactItems?.length ?? 1;
    if (operation.startsWith('Batch')) return Object.values(input.RequestItems ?? {}).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : v.Keys.length), 0);
  } catch {
    // Not JSON: counted as one item.
  }
  return 1;
}

const BODY = Symbol('bench.requestBody');

/** Counts every DynamoDB request of this process to `endpoint` (any, when absent) from now until `stop()`. */
export function countDynamoRequests(endpoint?: string) {
  const host = endpoint ? new URL(endpoint).host : undefined;
  let counts = emptyCounts();
  // The channel fires once the request is written; keep the body `end()` was given so the items can be counted then.
  const end = ClientRequest.prototype.end;
  ClientRequest.prototype.end = function (this: ClientRequest & { [BODY]?: string }, ...args: unknown[]) {
    const chunk = args[0];
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) this[BODY] = Buffer.from(chunk as Uint8Array).toString('utf8');
    return (end as (...a: unknown[]) => ClientRequest).apply(this, args);
  } as ClientRequest['end'];
  const onStart = (message: unknown) => {
    const request = (message as { request: ClientRequest & { [BODY]?: string } }).request;
    const target = request.getHeader('x-amz-target');
    if (typeof target !== 'string' || !target.startsWith('DynamoDB_20120810.')) return;
    if (host && request.getHeader('host') !== host) return;
    const operation = target.slice('DynamoDB_20120810.'.length);
    const items = itemsOf(operation, request[BODY] ?? '');
    counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
    const unitsPerItem = operation.startsWith('Transact') ? 2 : 1;
    if (WRITES.has(operation)) {
      counts.writes++;
      counts.writeUnits += items * unitsPerItem;
    } else if (READS.has(operation)) {
      counts.reads++;
      counts.readUnits += items * unitsPerItem;
    }
  };
  subscribe('http.client.request.start', onStart);
  return {
    /** What was counted since the last `reset()` (or the start). */
    take(): DynamoCounts {
      return structuredClone(counts);
    },
    reset(): void {
      counts = emptyCounts();
    },
    stop(): void {
      unsubscribe('http.client.request.start', onStart);
      ClientRequest.prototype.end = end;
    },
  };
}

export type DynamoCounter = ReturnType<typeof countDynamoRequests>;
