/**
 * The sender's adapters. `createSenderDeps` binds them to a table, a Graph
 * API client and a bus (the local runtime passes its simulator and in-process
 * bus, tests recording ones); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoMarketingPreferenceStore } from '../adapters/dynamo/marketing-preferences.js';
import { DynamoMessagingLimitStore } from '../adapters/dynamo/messaging-limit-store.js';
import { DynamoNumberRepository } from '../adapters/dynamo/number-repository.js';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.js';
import { EventBridgePublisher, createEventBridgeClient } from '../adapters/eventbridge/publisher.js';
import { GraphClient } from '../adapters/graph/graph-client.js';
import { EventBridgeDeferredScheduler, createSchedulerClient } from '../adapters/scheduler/eventbridge-scheduler.js';
import { type BroadcastConfig, broadcastConfig, busConfig, deferredSendsConfig, graphConfig, tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { reportPublishProblem } from '../commons/observability.js';
import { secretsFromEnv } from '../commons/secrets.js';
import { InternalError } from '../core/errors.js';
import type { DeferredSendScheduler } from '../core/messaging-limit.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import type { SenderDeps } from '../core/sender-ports.js';

export interface SenderWiring {
  messaging: Pick<MessageSender, 'sendTemplate'>;
  events: EventPublisher;
  config: BroadcastConfig;
  /** Where a chunk's deferred round is scheduled (EventBridge Scheduler in AWS, timers locally). */
  scheduler?: DeferredSendScheduler;
  clock?: Clock;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

export function createSenderDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: SenderWiring): SenderDeps {
  const { config } = wiring;
  const clock = wiring.clock ?? systemClock;
  return {
    accounts: new DynamoAccountRepository(doc, tableName, clock),
    numbers: new DynamoNumberRepository(doc, tableName, clock),
    broadcasts: new DynamoBroadcastRepository(doc, tableName, clock),
    credits: new DynamoQuotaStore(doc, tableName, clock),
    messagingLimits: new DynamoMessagingLimitStore(doc, tableName, clock),
    marketingPreferences: new DynamoMarketingPreferenceStore(doc, tableName),
    scheduler: wiring.scheduler ?? unscheduled,
    messaging: wiring.messaging,
    events: wiring.events,
    clock,
    rateCard: config.PRICING_RATE_CARD,
    settings: {
      throughputPerSecond: config.SENDER_THROUGHPUT_PER_SECOND,
      ...(config.SENDER_CONCURRENCY ? { concurrency: config.SENDER_CONCURRENCY } : {}),
      maxThrottleRetries: config.SENDER_MAX_THROTTLE_RETRIES,
      staleSendingSeconds: config.SENDER_STALE_SENDING_SECONDS,
      creditsLowThresholdMicros: config.CREDITS_LOW_THRESHOLD_MICROS,
    },
    ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
  };
}

/** Wiring without a scheduler (tests that never defer): asked to schedule, it fails the chunk loudly. */
const unscheduled: DeferredSendScheduler = {
  schedule: async ({ name }) => {
    throw new InternalError(`No deferred-sends scheduler is wired; cannot schedule ${name}.`);
  },
};

export function awsDeps(env: NodeJS.ProcessEnv = process.env): SenderDeps {
  const table = tableConfig(env);
  const bus = busConfig(env);
  const graph = graphConfig(env);
  const deferred = deferredSendsConfig(env);
  const secret = secretsFromEnv(env);
  return createSenderDeps(createDocumentClient(table), table.tableName, {
    scheduler: new EventBridgeDeferredScheduler(createSchedulerClient(deferred.region), { ...deferred, clock: systemClock }),
    messaging: new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secret('WHATSAPP_ACCESS_TOKEN') }),
    events: new EventBridgePublisher(createEventBridgeClient(bus.region), bus.eventBusName, { onProblem: reportPublishProblem }),
    config: broadcastConfig(env),
  });
}
