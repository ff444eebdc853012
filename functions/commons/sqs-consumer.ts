/**
 * The one shell of every SQS consumer (inbox, broadcast, sender, and the
 * consumers to come): Powertools' `BatchProcessor`, each record's body parsed
 * as JSON of the consumer's `body` schema, then handed to the consumer's one
 * core call. Records are processed on their own and failures reported per
 * record (`batchItemFailures`), so one bad record never retries the batch.
 *
 * One policy for a record that fails, malformed or not (docs/architecture.md,
 * "Consumers"): it is reported failed, never dropped. SQS receives it again
 * after the visibility timeout and, after the queue's `maxReceiveCount`,
 * moves it to the queue's DLQ, which an alarm watches. A malformed record
 * (`MalformedRecord`) will not pass on a retry; it goes the same way so that
 * it is kept and seen rather than lost. A failure is logged at `info` when
 * its error is `retryable` (it should pass later), at `error` otherwise.
 *
 * Bodies are parsed here rather than by `@aws-lambda-powertools/parser`
 * through the processor's parser option: that package imports zod as one
 * `z` object, which defeats tree-shaking and added ~370 KB to each consumer's
 * bundle.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { busEnvelope } from '../../schemas/events/contract.js';
import { AppError } from '../core/errors.js';
import { MalformedRecord } from '../core/backend-failures.js';
import { logger } from './observability.js';

export interface SqsConsumer<S extends z.ZodType> {
  /** Names the consumer in its log lines. */
  name: string;
  /** A record's body (JSON text) must match this; a record that does not is malformed. */
  body: S;
  /** The one core call for a parsed body; throwing fails the record. What it returns is logged as the outcome. */
  process: (body: z.output<S>) => Promise<unknown>;
  /** Log fields saying what a record is about (its ids). */
  describe?: (body: z.output<S>) => Record<string, unknown>;
  /** Level of the line logged per processed record. @default 'debug' */
  outcomeLevel?: 'debug' | 'info';
}

/** What an SQS event source invokes: a batch in, the failed message ids out. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function sqsConsumer<S extends z.ZodType>(consumer: SqsConsumer<S>): SqsHandler {
  const body = jsonText(consumer.body);
  const processRecord = async (record: SQSRecord) => {
    const parsed = body.safeParse(record.body);
    if (!parsed.success) {
      const error = new MalformedRecord(z.prettifyError(parsed.error));
      logger.error(`${consumer.name} record malformed`, { messageId: record.messageId, error });
      throw error;
    }
    const about = { messageId: record.messageId, ...consumer.describe?.(parsed.data) };
    try {
      const outcome = await consumer.process(parsed.data);
      logger[consumer.outcomeLevel ?? 'debug'](`${consumer.name} record processed`, { ...about, outcome });
    } catch (error) {
      const retryable = error instanceof AppError && error.retryable;
      (retryable ? logger.info : logger.error).call(logger, `${consumer.name} record failed`, { ...about, error: error as Error });
      throw error;
    }
  };
  return middy(async (event: SQSEvent, context: Context) => {
    // A processor per batch: it holds the batch's state, and the local bus may run batches concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** JSON text whose value matches `schema`. */
function jsonText<S extends z.ZodType>(schema: S) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'The record body is not JSON.' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** What a bus-event consumer reads: a detail type it handles, parsed with its schema, or one it ignores. */
export type RoutedBusEvent<D extends Record<string, { kind: string; schema: z.ZodType }>> =
  | { [T in keyof D]: { kind: D[T]['kind']; detail: z.output<D[T]['schema']> } }[keyof D]
  | { kind: 'ignored'; detailType: string };

/**
 * The body of a record a bus rule forwarded to a queue: the EventBridge
 * envelope (`busEnvelope`, the one envelope schema), its detail parsed with
 * the schema of its detail type into `{kind, detail}`. A detail type not
 * listed is `{kind: 'ignored'}` (a wider rule pattern must not make records
 * fail); a detail that fails its schema makes the record malformed.
 */
export function busEventBody<const D extends Record<string, { kind: string; schema: z.ZodType }>>(details: D): z.ZodType<RoutedBusEvent<D>> {
  return busEnvelope.transform((event, ctx): RoutedBusEvent<D> => {
    const detailType = event['detail-type'];
    const known = Object.hasOwn(details, detailType) ? details[detailType] : undefined;
    if (!known) return { kind: 'ignored', detailType };
    const detail = known.schema.safeParse(event.detail);
    if (!detail.success) {
      ctx.addIssue({ code: 'custom', path: ['detail'], message: `Bad ${detailType} detail: ${z.prettifyError(detail.error)}` });
      return z.NEVER;
    }
    // The detail type picked the entry, so kind and detail belong together (which TypeScript cannot follow through the lookup).
    return { kind: known.kind, detail: detail.data } as RoutedBusEvent<D>;
  });
}

/** The log fields of a bus event: the keys every log line about an event carries. */
export function busEventKeys(event: { kind: string; detail?: unknown; detailType?: string }): Record<string, unknown> {
  if (event.kind === 'ignored') return { detailType: event.detailType };
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  return { eventId: detail.eventId, accountId: detail.accountId, whatsapp_phno: detail.whatsapp_phno };
}

/**
 * Parses one record body (JSON text) as the shell does, for a consumer's own
 * parser and its tests; `malformed` makes the error of a body that does not match.
 */
export function parseRecordBody<S extends z.ZodType>(schema: S, body: string, malformed: (message: string) => Error): z.output<S> {
  const result = jsonText(schema).safeParse(body);
  if (!result.success) throw malformed(z.prettifyError(result.error));
  return result.data as z.output<S>;
}
