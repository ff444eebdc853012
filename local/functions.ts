/**
 * The six functions of the local runtime, built by the very factories the
 * Lambda handlers use (`functions/<fn>/app.ts` over `functions/<fn>/deps.ts`),
 * with local adapters instead of AWS ones: the in-process bus and send queue,
 * the Graph API simulator, plain secret values and DynamoDB Local. Nothing is
 * injected through globals or `process.env`, so two runtimes in one process
 * each serve their own table.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { createDocumentClient } from '../functions/adapters/dynamo/client.js';
import { GraphClient } from '../functions/adapters/graph/graph-client.js';
import { GraphMediaSource } from '../functions/adapters/graph/graph-media.js';
import type { LocalMediaStore } from '../functions/adapters/local/media-store.js';
import { makeMediaHandler } from '../functions/media/app.js';
import { createMediaConsumerDeps } from '../functions/media/deps.js';
import { HttpIntegrationSink } from '../functions/adapters/http/http-integration-sink.js';
import type { LocalDeferredScheduler } from '../functions/adapters/local/deferred-scheduler.js';
import { RecordingIntegrationSink } from '../functions/adapters/local/recording-integration-sink.js';
import type { LocalBus } from '../functions/adapters/local/event-bus.js';
import { LocalKnowledgeAnswerer } from '../functions/adapters/local/knowledge-answerer.js';
import type { LocalStepTimers } from '../functions/adapters/local/step-timers.js';
import type { LocalTurnTimers } from '../functions/adapters/local/turn-timers.js';
import type { LocalSendQueue } from '../functions/adapters/local/send-queue.js';
import type { LocalWebhookDeliveryQueue } from '../functions/adapters/local/webhook-delivery-queue.js';
import { SafeHttpTransport } from '../functions/adapters/http/safe-http.js';
import { makeApiHandler } from '../functions/api/app.js';
import { createApiDeps } from '../functions/api/deps.js';
import { type AuthorizerResult, makeAuthorizerHandler } from '../functions/authorizer/app.js';
import { createAuthorizerDeps } from '../functions/authorizer/deps.js';
import { makeAutomationHandler } from '../functions/automation/app.js';
import { createAutomationDeps } from '../functions/automation/deps.js';
import { makeBroadcastHandler } from '../functions/broadcast/app.js';
import { createBroadcastConsumerDeps } from '../functions/broadcast/deps.js';
import { automationConfig, broadcastConfig, graphConfig, webhookConfig, webhookDeliveryConfig } from '../functions/commons/config.js';
import { systemClock } from '../functions/commons/ids.js';
import { makeInboxHandler } from '../functions/inbox/app.js';
import { createInboxConsumerDeps } from '../functions/inbox/deps.js';
import { makeIntegrationHandler } from '../functions/integration/app.js';
import { createIntegrationConsumerDeps } from '../functions/integration/deps.js';
import { makeSenderHandler } from '../functions/sender/app.js';
import { createSenderDeps } from '../functions/sender/deps.js';
import { makeWebhookHandler } from '../functions/webhook/app.js';
import { makeWebhookDeliveryHandler } from '../functions/webhook-delivery/app.js';
import { createWebhookDeliveryDeps, deliverySettingsOf } from '../functions/webhook-delivery/deps.js';
import { makeWebhookDispatchHandler } from '../functions/webhook-dispatch/app.js';
import { createWebhookDispatchDeps } from '../functions/webhook-dispatch/deps.js';
import { createWebhookDeps } from '../functions/webhook/deps.js';
import type { LocalLiveHub } from '../functions/adapters/local/live-hub.js';
import { makeLiveSubscribe } from '../functions/live/app.js';
import { createLiveAccessDeps } from '../functions/live/deps.js';
import { lambdaContext } from './http-event.js';

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

/** The API-key authorizer (a Lambda REQUEST authorizer in AWS). */
export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEventV2, context: Context) => Promise<AuthorizerResult>;

export interface LocalInfrastructure {
  table: { tableName: string; endpoint: string; region: string };
  bus: LocalBus;
  sendQueue: LocalSendQueue;
  /** Timers that put a chunk's deferred round on the send queue (EventBridge Scheduler in AWS). */
  scheduler: LocalDeferredScheduler;
  /** Timers that put a due sequence step on the automation queue (EventBridge Scheduler in AWS). */
  stepTimers: LocalStepTimers;
  /** Timers that put an AI turn's due message on the automation queue (SQS DelaySeconds in AWS). */
  turnTimers: LocalTurnTimers;
  /** Outgoing webhooks' delivery queue (SQS with DelaySeconds in AWS). */
  webhookQueue: LocalWebhookDeliveryQueue;
  /** Media files (S3 in AWS): the runtime's folder, served at /local/media/…. */
  media: LocalMediaStore;
  /** Live updates: the sockets of ws://…/ws (the WebSocket API in AWS); the consumers and the API push to it. */
  live: LocalLiveHub;
  /** The functions' settings: the local defaults, the runtime's options and the environment, as one set of variables. */
  settings: NodeJS.ProcessEnv & { WHATSAPP_APP_SECRET: string; WHATSAPP_VERIFY_TOKEN: string; WHATSAPP_ACCESS_TOKEN: string; WEBHOOK_SIGNING_KEY: string };
}

/**
 * Builds the functions and attaches the consumers: the inbox, automation and
 * broadcast consumers to their bus rules, the sender to the send queue. Returns the two
 * HTTP functions and the API-key authorizer for the runtime's server.
 */
export function wireLocalFunctions({ table, bus, sendQueue, scheduler, stepTimers, turnTimers, webhookQueue, live, media, settings }: LocalInfrastructure): {
  api: LambdaHandler;
  webhook: LambdaHandler;
  authorizer: AuthorizerHandler;
  /** What the integration consumer pushed (GET /local/integrations/events). */
  integrationSink: RecordingIntegrationSink;
  /** A ws://…/ws connection's scope from its verified claims (the WebSocket API's $connect in AWS). */
  liveSubscribe: ReturnType<typeof makeLiveSubscribe>;
} {
  const doc = createDocumentClient(table);
  const { tableName } = table;
  const value = (secret: string) => () => Promise.resolve(secret);
  const graph = graphConfig(settings);
  const messaging = new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: value(settings.WHATSAPP_ACCESS_TOKEN) });
  const broadcasts = broadcastConfig(settings);

  const inbox = makeInboxHandler(createInboxConsumerDeps(doc, tableName, systemClock, live));
  bus.register('inbox', (event) => inbox(event, lambdaContext('inbox')), 'inbox');
  // AI turns wait on timers that put their due message on the automation rule's queue (`turnTimers`);
  // the answerer is the local knowledge matcher, a stand-in for Amazon Bedrock.
  const automation = makeAutomationHandler(
    createAutomationDeps(doc, tableName, {
      messaging,
      config: automationConfig(settings),
      ai: { answerer: new LocalKnowledgeAnswerer(), turns: turnTimers },
      sequences: { scheduler: stepTimers, rateCard: broadcasts.PRICING_RATE_CARD },
      live,
    }),
  );
  bus.register('automation', (event) => automation(event, lambdaContext('automation')), 'automation');
  const broadcast = makeBroadcastHandler(createBroadcastConsumerDeps(doc, tableName, { sendQueue }));
  bus.register('broadcast', (event) => broadcast(event, lambdaContext('broadcast')), 'broadcast');
  const sender = makeSenderHandler(createSenderDeps(doc, tableName, { messaging, events: bus, config: broadcasts, scheduler }));
  sendQueue.setConsumer((event) => sender(event, lambdaContext('sender')));
  // Outgoing webhooks: the dispatcher on its bus rule, the delivery function behind the in-process delivery queue.
  // Locally the guard lets http and loopback through, so a receiver on 127.0.0.1 gets deliveries.
  const webhookTransport = new SafeHttpTransport({ allowHttp: true, allowLoopback: true });
  const webhookSigningKey = value(settings.WEBHOOK_SIGNING_KEY);
  const webhookDispatch = makeWebhookDispatchHandler(createWebhookDispatchDeps(doc, tableName, { queue: webhookQueue }));
  bus.register('outgoingWebhooks', (event) => webhookDispatch(event, lambdaContext('webhook-dispatch')), 'webhook-dispatch');
  const webhookDelivery = makeWebhookDeliveryHandler(
    createWebhookDeliveryDeps(doc, tableName, { queue: webhookQueue, transport: webhookTransport, signingKey: webhookSigningKey, settings: deliverySettingsOf(webhookDeliveryConfig(settings)) }),
  );
  webhookQueue.setConsumer((event) => webhookDelivery(event, lambdaContext('webhook-delivery')));
  // Integrations: every pushed record is kept for GET /local/integrations/events; one to a loopback URL is also
  // POSTed there, through the same guard and signed with the same key as webhooks, so a local receiver can try it.
  const integrationSink = new RecordingIntegrationSink({ forward: new HttpIntegrationSink({ transport: webhookTransport, signingKey: webhookSigningKey, clock: systemClock }) });
  const integration = makeIntegrationHandler(createIntegrationConsumerDeps(doc, tableName, { sink: integrationSink }));
  bus.register('integrations', (event) => integration(event, lambdaContext('integration')), 'integration');
  // Media in: each media message's file from the simulator (as from the Graph API) into the runtime's media folder.
  const mediaSource = new GraphMediaSource({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: value(settings.WHATSAPP_ACCESS_TOKEN) });
  const mediaConsumer = makeMediaHandler(createMediaConsumerDeps(doc, tableName, { source: mediaSource, store: media, live }));
  bus.register('media', (event) => mediaConsumer(event, lambdaContext('media')), 'media');

  return {
    integrationSink,
    liveSubscribe: makeLiveSubscribe(createLiveAccessDeps(doc, tableName)),
    authorizer: makeAuthorizerHandler(createAuthorizerDeps(doc, tableName)),
    api: makeApiHandler(createApiDeps(doc, tableName, { events: bus, messaging, chunkSize: broadcasts.BROADCAST_CHUNK_SIZE, rateCard: broadcasts.PRICING_RATE_CARD, stepScheduler: stepTimers, webhookQueue, webhookTransport, webhookSigningKey, live, media })),
    webhook: makeWebhookHandler(
      createWebhookDeps(doc, tableName, {
        publisher: bus,
        appSecret: value(settings.WHATSAPP_APP_SECRET),
        verifyToken: value(settings.WHATSAPP_VERIFY_TOKEN),
        routeCache: webhookConfig(settings),
      }),
    ),
  };
}
