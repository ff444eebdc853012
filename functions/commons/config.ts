/**
 * Environment configuration, parsed with zod by each function's composition
 * root (`functions/<fn>/deps.ts`, `awsDeps()`) once per container, at cold
 * start: a missing or malformed variable fails there with its name in the
 * message. The local runtime parses the same schemas from its own settings.
 */
import * as z from 'zod';
import { rateCardSchema } from '../../schemas/rate-card.js';
import { InvalidConfiguration } from '../core/backend-failures.js';
import { EXAMPLE_RATE_CARD } from '../core/pricing.js';

export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new InvalidConfiguration(`Invalid configuration: ${names}`);
  }
  return result.data;
}

const region = z.string().min(1).default('us-east-1');

/** The table, in the shape the document client takes (`functions/adapters/dynamo/client.ts`). */
const tableSchema = z
  .object({
    TABLE_NAME: z.string().min(1),
    /** Set only locally and in tests (DynamoDB Local); in AWS the SDK's default endpoint is used. */
    DYNAMODB_ENDPOINT: z.url().optional(),
    AWS_REGION: region,
  })
  .transform((env) => ({ tableName: env.TABLE_NAME, region: env.AWS_REGION, ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}) }));

export type TableConfig = z.infer<typeof tableSchema>;

export function tableConfig(env: NodeJS.ProcessEnv = process.env): TableConfig {
  return parseConfig(tableSchema, env);
}

/** The EventBridge bus a function publishes to (`bindBus` sets it). */
const busSchema = z
  .object({ EVENT_BUS_NAME: z.string().min(1), AWS_REGION: region })
  .transform((env) => ({ eventBusName: env.EVENT_BUS_NAME, region: env.AWS_REGION }));

export type BusConfig = z.infer<typeof busSchema>;

export function busConfig(env: NodeJS.ProcessEnv = process.env): BusConfig {
  return parseConfig(busSchema, env);
}

/** The send queue (SQS) the broadcast consumer fills (`bindQueue(…, 'SEND_QUEUE_URL')` sets it). */
const sendQueueSchema = z
  .object({ SEND_QUEUE_URL: z.url(), AWS_REGION: region })
  .transform((env) => ({ queueUrl: env.SEND_QUEUE_URL, region: env.AWS_REGION }));

export type SendQueueConfig = z.infer<typeof sendQueueSchema>;

export function sendQueueConfig(env: NodeJS.ProcessEnv = process.env): SendQueueConfig {
  return parseConfig(sendQueueSchema, env);
}

/**
 * Where the sender schedules a chunk's deferred round (`lib/deferred-sends.ts`
 * sets them): the EventBridge Scheduler group, the role its schedules assume,
 * their target (the send queue) and their dead-letter queue.
 */
const deferredSendsSchema = z
  .object({
    DEFERRED_SENDS_GROUP: z.string().min(1),
    DEFERRED_SENDS_ROLE_ARN: z.string().startsWith('arn:'),
    DEFERRED_SENDS_TARGET_ARN: z.string().startsWith('arn:'),
    DEFERRED_SENDS_DLQ_ARN: z.string().startsWith('arn:'),
    AWS_REGION: region,
  })
  .transform((env) => ({
    groupName: env.DEFERRED_SENDS_GROUP,
    roleArn: env.DEFERRED_SENDS_ROLE_ARN,
    targetArn: env.DEFERRED_SENDS_TARGET_ARN,
    deadLetterArn: env.DEFERRED_SENDS_DLQ_ARN,
    region: env.AWS_REGION,
  }));

export type DeferredSendsConfig = z.infer<typeof deferredSendsSchema>;

export function deferredSendsConfig(env: NodeJS.ProcessEnv = process.env): DeferredSendsConfig {
  return parseConfig(deferredSendsSchema, env);
}

/**
 * Where a sequence step is scheduled (`lib/sequence-schedules.ts` sets them on
 * the API and automation functions): the EventBridge Scheduler group, the role
 * its schedules assume, their target (the automation queue) and their
 * dead-letter queue. Optional as a group: all four or none (the local
 * runtime, which schedules with timers); some without the others is an error.
 */
const SEQUENCE_SCHEDULE_VARS = ['SEQUENCE_SCHEDULE_GROUP', 'SEQUENCE_SCHEDULE_ROLE_ARN', 'SEQUENCE_SCHEDULE_TARGET_ARN', 'SEQUENCE_SCHEDULE_DLQ_ARN'] as const;

const sequenceScheduleSchema = z
  .object({
    SEQUENCE_SCHEDULE_GROUP: z.string().min(1),
    SEQUENCE_SCHEDULE_ROLE_ARN: z.string().startsWith('arn:'),
    SEQUENCE_SCHEDULE_TARGET_ARN: z.string().startsWith('arn:'),
    SEQUENCE_SCHEDULE_DLQ_ARN: z.string().startsWith('arn:'),
    AWS_REGION: region,
  })
  .transform((env) => ({
    groupName: env.SEQUENCE_SCHEDULE_GROUP,
    roleArn: env.SEQUENCE_SCHEDULE_ROLE_ARN,
    targetArn: env.SEQUENCE_SCHEDULE_TARGET_ARN,
    deadLetterArn: env.SEQUENCE_SCHEDULE_DLQ_ARN,
    region: env.AWS_REGION,
  }));

export type SequenceScheduleConfig = z.infer<typeof sequenceScheduleSchema>;

/** The sequence-steps schedules' settings, or `undefined` when none of the four is set. */
export function sequenceScheduleConfig(env: NodeJS.ProcessEnv = process.env): SequenceScheduleConfig | undefined {
  if (SEQUENCE_SCHEDULE_VARS.every((name) => env[name] === undefined || env[name] === '')) return undefined;
  return parseConfig(sequenceScheduleSchema, env);
}

const webhookSchema = z.object({
  /** How long a container trusts a route it read (number → account); a removed or moved number keeps routing to its old account this long. */
  ROUTE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(60),
  /** How long "no account has this number" is trusted: kept short so a number just connected starts routing quickly. */
  ROUTE_CACHE_MISS_TTL_SECONDS: z.coerce.number().int().min(0).default(5),
});

export type WebhookConfig = z.infer<typeof webhookSchema>;

export function webhookConfig(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  return parseConfig(webhookSchema, env);
}

const graphSchema = z.object({
  /** Meta's Graph API; locally the simulator's URL. */
  GRAPH_API_BASE_URL: z.url().default('https://graph.facebook.com'),
  /** Pinned, so a Meta release never changes behaviour under us. */
  GRAPH_API_VERSION: z.string().regex(/^v\d+\.\d+$/, 'e.g. v23.0').default('v23.0'),
});

export type GraphConfig = z.infer<typeof graphSchema>;

export function graphConfig(env: NodeJS.ProcessEnv = process.env): GraphConfig {
  return parseConfig(graphSchema, env);
}

/** `PRICING_RATE_CARD` as JSON; the example card when unset. */
const rateCardFromEnv = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text) return EXAMPLE_RATE_CARD;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Not JSON.' });
      return z.NEVER;
    }
    const card = rateCardSchema.safeParse(json);
    if (!card.success) {
      ctx.addIssue({ code: 'custom', message: card.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return z.NEVER;
    }
    return card.data;
  });

const broadcastSchema = z.object({
  /** Rate card of what a template message costs (`functions/core/pricing.ts`). */
  PRICING_RATE_CARD: rateCardFromEnv,
  /** `Credits Low` is published once when a debit takes the pool's balance under this. */
  CREDITS_LOW_THRESHOLD_MICROS: z.coerce.number().int().min(0).default(5_000_000),
  /** Recipients per chunk: one credit reservation and one settlement each. */
  BROADCAST_CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(250),
  /** Messages per second one sender invocation sends at most (Meta: 80 per number by default). */
  SENDER_THROUGHPUT_PER_SECOND: z.coerce.number().positive().max(1000).default(80),
  /** Sends in flight at once within the rate; by default enough to reach it at ~200 ms per Graph call. */
  SENDER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  /** Retries of one recipient after WhatsApp throttled it (130429 / 131056); then it fails as `throttled`. */
  SENDER_MAX_THROTTLE_RETRIES: z.coerce.number().int().min(0).max(20).default(5),
  /** A recipient left `sending` longer than this (a crashed sender) is settled as `send_outcome_unknown`, never re-sent. */
  SENDER_STALE_SENDING_SECONDS: z.coerce.number().int().min(30).default(300),
});

export type BroadcastConfig = z.infer<typeof broadcastSchema>;

export function broadcastConfig(env: NodeJS.ProcessEnv = process.env): BroadcastConfig {
  return parseConfig(broadcastSchema, env);
}

const automationSchema = z.object({
  /** Automatic replies per conversation per 10-minute window; past it the conversation is flagged for an agent. */
  AUTOMATION_MAX_REPLIES_PER_10_MIN: z.coerce.number().int().min(1).max(1000).default(10),
  /** How long a run waits for another run's lock on the same conversation before its record is retried. */
  AUTOMATION_LOCK_WAIT_MS: z.coerce.number().int().min(0).max(20_000).default(5_000),
  /** Leases of the conversation lock and the decision claim: longer than a run can last (the function's timeout). */
  AUTOMATION_LEASE_SECONDS: z.coerce.number().int().min(5).max(900).default(60),
  /** The Amazon Bedrock model AI agents answer with (`lib/ai-model.ts` sets it; the IAM grant names this model only). */
  AI_MODEL_ID: z.string().min(1).default('amazon.nova-lite-v1:0'),
  /** Where Bedrock is called; the function's own region (`AWS_REGION`) when unset. */
  AI_REGION: z.string().min(1).optional(),
  /** An AI turn waits this long after the contact's last message for more before it is answered (SQS delays it at most 900 s). */
  AI_DEBOUNCE_MS: z.coerce.number().int().min(0).max(900_000).default(5_000),
  /** Messages of the conversation before the turn the model is shown, oldest first. */
  AI_HISTORY_MESSAGES: z.coerce.number().int().min(0).max(100).default(10),
  /** The automation queue itself, where an AI turn's due message is sent with a delay (`bindQueue` sets it); absent in the local runtime, which uses timers. */
  AUTOMATION_QUEUE_URL: z.url().optional(),
});

export type AutomationConfig = z.infer<typeof automationSchema>;

export function automationConfig(env: NodeJS.ProcessEnv = process.env): AutomationConfig {
  return parseConfig(automationSchema, env);
}

/**
 * Outgoing webhooks (docs/outgoing-webhooks.md): the delivery queue (`bindQueue` sets its URL on the API, the
 * dispatcher and the delivery function; absent in the local runtime, which queues in-process), its DLQ (the
 * delivery function only) and the retry schedule.
 */
const webhookDeliverySchema = z.object({
  WEBHOOK_DELIVERY_QUEUE_URL: z.url().optional(),
  WEBHOOK_DELIVERY_DLQ_URL: z.url().optional(),
  /** Attempts per round before a delivery fails and is dead-lettered. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** Backoff base: attempt n waits uniform [0, min(max, base · 2^(n-1))]. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(0).default(30_000),
  /** SQS delays a message at most 900 s. */
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(0).max(900_000).default(900_000),
  /** A claimed attempt older than this belongs to a run that died: longer than the delivery function's timeout. */
  WEBHOOK_CLAIM_LEASE_MS: z.coerce.number().int().min(0).default(60_000),
  AWS_REGION: region,
});

export type WebhookDeliveryConfig = z.infer<typeof webhookDeliverySchema>;

export function webhookDeliveryConfig(env: NodeJS.ProcessEnv = process.env): WebhookDeliveryConfig {
  return parseConfig(webhookDeliverySchema, env);
}

/** The media bucket (`lib/media-bucket.ts`; `bindMedia` sets it): inbound files and uploads. */
const mediaSchema = z
  .object({ MEDIA_BUCKET_NAME: z.string().min(1), AWS_REGION: region })
  .transform((env) => ({ bucketName: env.MEDIA_BUCKET_NAME, region: env.AWS_REGION }));

export type MediaConfig = z.infer<typeof mediaSchema>;

export function mediaConfig(env: NodeJS.ProcessEnv = process.env): MediaConfig {
  return parseConfig(mediaSchema, env);
}

/**
 * Live updates (lib/live-updates.ts; `bindLiveUpdates` sets it): the WebSocket
 * stage's management endpoint the consumers and the API push to. Absent
 * (tests, tools, a stack without the WebSocket API): nothing is pushed.
 */
const liveUpdatesSchema = z.object({ LIVE_UPDATES_ENDPOINT: z.url().optional(), AWS_REGION: region });

export type LiveUpdatesConfig = z.infer<typeof liveUpdatesSchema>;

export function liveUpdatesConfig(env: NodeJS.ProcessEnv = process.env): LiveUpdatesConfig {
  return parseConfig(liveUpdatesSchema, env);
}

/** The WebSocket API's authorizer: the HTTP API's JWT issuer and audiences (comma-separated; empty: any). */
const liveAuthorizerSchema = z.object({
  JWT_ISSUER: z.url(),
  JWT_AUDIENCES: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((audience) => audience.trim()).filter(Boolean)),
});

export type LiveAuthorizerConfig = z.infer<typeof liveAuthorizerSchema>;

export function liveAuthorizerConfig(env: NodeJS.ProcessEnv = process.env): LiveAuthorizerConfig {
  return parseConfig(liveAuthorizerSchema, env);
}
