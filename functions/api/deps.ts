/**
 * The API's adapters. `createApiDeps` binds them to a table, a Graph API
 * client and a bus (the local runtime passes its simulator and in-process
 * bus, tests recording ones); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApiKeyStore } from '../adapters/dynamo/api-key-store.js';
import { DynamoTeamStore } from '../adapters/dynamo/team-store.js';
import { DynamoAutomationRepository } from '../adapters/dynamo/automation-repository.js';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoLiveConnectionStore } from '../adapters/dynamo/live-connections.js';
import { liveInboxRepository } from '../adapters/dynamo/live-inbox-repository.js';
import { apiGatewayLiveUpdates } from '../adapters/apigw/live-updates.js';
import { DynamoIntegrationStore } from '../adapters/dynamo/integration-store.js';
import { DynamoMarketingPreferenceStore } from '../adapters/dynamo/marketing-preferences.js';
import { createDynamoAdapters } from '../adapters/dynamo/index.js';
import { DynamoSequenceStore } from '../adapters/dynamo/sequence-store.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { DynamoUploadRepository } from '../adapters/dynamo/upload-repository.js';
import { DynamoWebhookSubscriptionStore } from '../adapters/dynamo/webhook-subscription-store.js';
import { EventBridgePublisher, createEventBridgeClient } from '../adapters/eventbridge/publisher.js';
import { GraphClient } from '../adapters/graph/graph-client.js';
import { S3MediaStore } from '../adapters/s3/media-store.js';
import { SafeHttpTransport } from '../adapters/http/safe-http.js';
import { SqsWebhookDeliveryQueue } from '../adapters/sqs/webhook-delivery-queue.js';
import { createSqsClient } from '../adapters/sqs/send-queue.js';
import { NoStepScheduler, stepSchedulerOf } from '../adapters/scheduler/sequence-scheduler.js';
import { broadcastConfig, busConfig, graphConfig, mediaConfig, sequenceScheduleConfig, tableConfig, webhookDeliveryConfig } from '../commons/config.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { reportLiveUpdateFailure, reportPublishProblem } from '../commons/observability.js';
import { liveUpdatesConfig } from '../commons/config.js';
import { type LiveUpdates, noLiveUpdates } from '../core/live-updates.js';
import { secretsFromEnv } from '../commons/secrets.js';
import { DEFAULT_CHUNK_SIZE } from '../core/broadcast-ports.js';
import { EXAMPLE_RATE_CARD } from '../core/pricing.js';
import { InvalidConfiguration } from '../core/backend-failures.js';
import type { MediaStore } from '../core/media-ports.js';
import type { MessageSender } from '../core/messaging.js';
import type { WebhookDeliveryQueue, WebhookTransport } from '../core/outgoing-webhook-ports.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import type { StepScheduler } from '../core/sequence-ports.js';
import type { RateCard } from '../../schemas/rate-card.js';
import type { ApiDeps } from './routes/index.js';

export interface ApiWiring {
  /** Where `Broadcast Requested` goes. */
  events: EventPublisher;
  /** The Graph API: inbox replies and template submissions. */
  messaging: MessageSender;
  /** Recipients per stored chunk. @default 250 */
  chunkSize?: number;
  /** What an agent's template costs (`PRICING_RATE_CARD`, as the sender's). @default EXAMPLE_RATE_CARD */
  rateCard?: RateCard;
  clock?: Clock;
  /** Where a sequence enrolment's first step is scheduled (EventBridge Scheduler in AWS, timers locally). */
  stepScheduler?: StepScheduler;
  /** Outgoing webhooks: where a redelivery is queued (SQS in AWS, in-process locally). */
  webhookQueue?: WebhookDeliveryQueue;
  /** The URL guard; @default https only, no loopback (AWS). The local runtime allows http and loopback. */
  webhookTransport?: WebhookTransport;
  /** The master key subscription secrets are derived from (`WEBHOOK_SIGNING_KEY`). */
  webhookSigningKey?: () => Promise<string>;
  /** Where media files live (S3 in AWS, the runtime's folder locally): uploads to send, inbound files' URLs. */
  media?: MediaStore;
  /** Where inbox writes are pushed (the WebSocket API in AWS, the runtime's hub locally). @default nowhere */
  live?: LiveUpdates;
}

/** Wiring left out (a test that never reaches webhooks): fails naming what is missing when used. */
const notWired = (what: string) => () => Promise.reject(new InvalidConfiguration(`Invalid configuration: ${what} is not wired`));

export function createApiDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: ApiWiring): ApiDeps {
  const clock = wiring.clock ?? systemClock;
  const dynamo = createDynamoAdapters(doc, tableName, clock);
  return {
    ...dynamo,
    clock,
    ids: timeOrderedIds,
    inbox: liveInboxRepository(doc, tableName, clock, wiring.live ?? noLiveUpdates, reportLiveUpdateFailure),
    messaging: wiring.messaging,
    templates: new DynamoTemplateRepository(doc, tableName),
    broadcasts: new DynamoBroadcastRepository(doc, tableName, clock),
    automations: new DynamoAutomationRepository(doc, tableName),
    sequences: new DynamoSequenceStore(doc, tableName),
    integrations: new DynamoIntegrationStore(doc, tableName),
    marketingPreferences: new DynamoMarketingPreferenceStore(doc, tableName),
    apiKeys: new DynamoApiKeyStore(doc, tableName, clock),
    teams: new DynamoTeamStore(doc, tableName),
    ...webhookDepsOf(doc, tableName, wiring),
    stepScheduler: wiring.stepScheduler ?? new NoStepScheduler(),
    events: wiring.events,
    broadcastSettings: { chunkSize: wiring.chunkSize ?? DEFAULT_CHUNK_SIZE },
    rateCard: wiring.rateCard ?? EXAMPLE_RATE_CARD,
    credits: dynamo.quotas,
    uploads: new DynamoUploadRepository(doc, tableName),
    media: wiring.media ?? notWiredMediaStore,
  };
}

/** No media store wired (a test that never reaches media): each use fails naming it. */
const notWiredMediaStore: MediaStore = {
  put: notWired('the media store'),
  urlFor: notWired('the media store'),
  uploadTargetFor: notWired('the media store'),
  head: notWired('the media store'),
};

function webhookDepsOf(doc: DynamoDBDocumentClient, tableName: string, wiring: ApiWiring) {
  const store = new DynamoWebhookSubscriptionStore(doc, tableName);
  return {
    webhookSubscriptions: store,
    webhookDeliveries: store,
    webhookQueue: wiring.webhookQueue ?? { enqueue: notWired('the webhook delivery queue') },
    webhookTransport: wiring.webhookTransport ?? new SafeHttpTransport({ allowHttp: false, allowLoopback: false }),
    webhookSigningKey: wiring.webhookSigningKey ?? notWired('WEBHOOK_SIGNING_KEY'),
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const table = tableConfig(env);
  const bus = busConfig(env);
  const graph = graphConfig(env);
  const secret = secretsFromEnv(env);
  const doc = createDocumentClient(table);
  const { LIVE_UPDATES_ENDPOINT, AWS_REGION } = liveUpdatesConfig(env);
  return createApiDeps(doc, table.tableName, {
    live: apiGatewayLiveUpdates(LIVE_UPDATES_ENDPOINT, AWS_REGION, new DynamoLiveConnectionStore(doc, table.tableName, systemClock)),
    events: new EventBridgePublisher(createEventBridgeClient(bus.region), bus.eventBusName, { onProblem: reportPublishProblem }),
    // The media bucket (lib/media-bucket.ts): presigned GETs of stored files, presigned PUTs of uploads.
    media: new S3MediaStore({ bucketName: mediaConfig(env).bucketName, region: mediaConfig(env).region }),
    messaging: new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secret('WHATSAPP_ACCESS_TOKEN') }),
    chunkSize: broadcastConfig(env).BROADCAST_CHUNK_SIZE,
    rateCard: broadcastConfig(env).PRICING_RATE_CARD,
    stepScheduler: stepSchedulerOf(sequenceScheduleConfig(env), systemClock),
    ...webhookWiringOf(env, secret('WEBHOOK_SIGNING_KEY')),
  });
}

/** Outgoing webhooks in AWS: the delivery queue when `bindQueue` set it, https only, the signing key from Secrets Manager. */
function webhookWiringOf(env: NodeJS.ProcessEnv, signingKey: () => Promise<string>): Pick<ApiWiring, 'webhookQueue' | 'webhookTransport' | 'webhookSigningKey'> {
  const config = webhookDeliveryConfig(env);
  return {
    ...(config.WEBHOOK_DELIVERY_QUEUE_URL ? { webhookQueue: new SqsWebhookDeliveryQueue(createSqsClient(config.AWS_REGION), config.WEBHOOK_DELIVERY_QUEUE_URL) } : {}),
    webhookTransport: new SafeHttpTransport({ allowHttp: false, allowLoopback: false }),
    webhookSigningKey: signingKey,
  };
}
