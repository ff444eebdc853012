/**
 * What a million inbound text messages cost in AWS, from the requests the
 * bench measured per message and AWS's on-demand list prices. An estimate:
 * where a figure cannot be measured here (a Lambda's wall time in AWS, the
 * latency of DynamoDB and PutEvents), the assumption is a named constant.
 */
import type { FigureBook, Results } from './figures.js';

/** us-east-1 list prices, USD, as published by AWS on this date (free tiers ignored). */
export const PRICES_AS_OF = '2025-06-01';
export const PRICE = {
  /** API Gateway HTTP API, per request (first 300 million a month). */
  httpApiRequest: 1.0 / 1e6,
  /** Lambda, per invocation. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda on arm64 (Graviton), per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** EventBridge custom event published (per 64 KB chunk). */
  eventBridgeEvent: 1.0 / 1e6,
  /** SQS standard queue, per request (per 64 KB chunk). */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB on-demand (since the November 2024 price cut), per write request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit. */
  dynamoReadUnit: 0.125 / 1e6,
} as const;

/** The configured memory (lib/stateless-stack.ts: the webhook has 1024 MB; consumers the AppFunction default). */
export const MEMORY_GB = { webhook: 1, inbox: 0.5 } as const;

/** Assumed: one PutEvents round trip from Lambda, and one DynamoDB request from the inbox consumer (they run one after another). */
export const ASSUMED_PUT_EVENTS_MS = 15;
export const ASSUMED_DYNAMODB_REQUEST_MS = 5;
/** Worst case, one message per delivery and per consumer batch: EventBridge's SendMessage to the inbox queue, the poller's receive and delete. */
export const SQS_REQUESTS_PER_MESSAGE = 3;

export function costFigures(book: FigureBook, figures: Results): void {
  const get = (name: string) => figures[name]?.value ?? Number.NaN;
  const cpuMs = get('ingest.cpu_us.one_message') / 1000;
  const reads = get('ddb.reads_per_inbound_message');
  const writes = get('ddb.writes_per_inbound_message');
  const units = figures['ddb.write_units_per_inbound_message'] ? get('ddb.write_units_per_inbound_message') : writes;
  const readUnits = figures['ddb.read_units_per_inbound_message'] ? get('ddb.read_units_per_inbound_message') : reads;
  // Lambda bills wall time rounded up to the millisecond.
  const webhookMs = Math.ceil(cpuMs + ASSUMED_PUT_EVENTS_MS);
  const inboxMs = Math.ceil((reads + writes) * ASSUMED_DYNAMODB_REQUEST_MS + 1);
  const perMessage = {
    httpApi: PRICE.httpApiRequest,
    webhookLambda: PRICE.lambdaRequest + (webhookMs / 1000) * MEMORY_GB.webhook * PRICE.lambdaArmGbSecond,
    eventBridge: PRICE.eventBridgeEvent,
    sqs: SQS_REQUESTS_PER_MESSAGE * PRICE.sqsRequest,
    inboxLambda: PRICE.lambdaRequest + (inboxMs / 1000) * MEMORY_GB.inbox * PRICE.lambdaArmGbSecond,
    dynamodb: units * PRICE.dynamoWriteUnit + readUnits * PRICE.dynamoReadUnit,
  };
  const total = Object.values(perMessage).reduce((a, b) => a + b, 0);
  const parts = Object.entries(perMessage)
    .map(([name, usd]) => `${name} ${(usd * 1e6).toFixed(2)}`)
    .join(', ');
  book.set(
    'cost.usd_per_million_inbound',
    total * 1e6,
    'USD',
    `list prices of ${PRICES_AS_OF} (us-east-1, arm64): ${parts}; webhook ${webhookMs} ms at 1 GB, inbox ${inboxMs} ms at 0.5 GB, ${units} WRU + ${readUnits} RRU per message (GSI writes not included), one message per delivery and per batch (the worst case)`,
  );
}
