import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { bindFoundationModel } from './ai-model.js';
import { ApiKeyAuthorizer } from './api-keys.js';
import { AppFunction } from './app-function.js';
import { type StageConfig, isDevStage } from './config.js';
import { CONSUMERS, SENDER } from './consumers.js';
import { DashboardApi } from './dashboard-api.js';
import { LiveUpdates } from './live-updates.js';
import { Observability } from './observability.js';
import { OutgoingWebhookDelivery } from './outgoing-webhooks.js';
import { QueueConsumer } from './queue-consumer.js';
import type { StatefulStack } from './stateful-stack.js';

export interface StatelessStackProps extends StackProps {
  readonly config: StageConfig;
  readonly stateful: StatefulStack;
}

/** A sender invocation paces itself at most at this rate; concurrency makes up the number's throughput. */
const PER_INVOCATION_RATE = 40;

/** Functions, rules and the HTTP API: no data lives here, so it can be replaced at will. */
export class StatelessStack extends Stack {
  public readonly api: DashboardApi;
  public readonly live: LiveUpdates;
  public readonly functions: Record<string, AppFunction>;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const retainLogs = !isDevStage(config);
    const table = stateful.data.table;
    const bus = stateful.routing.bus;
    const { secrets } = stateful;
    const graphEnv = { GRAPH_API_VERSION: config.graphApiVersion };
    // The rate card was validated at synth (lib/config.ts) with the schema the functions parse it with.
    const creditsEnv = {
      CREDITS_LOW_THRESHOLD_MICROS: String(config.creditsLowThresholdMicros),
      BROADCAST_CHUNK_SIZE: String(config.broadcastChunkSize),
      ...(config.rateCard ? { PRICING_RATE_CARD: config.rateCard } : {}),
    };

    const apiFunction = new AppFunction(this, 'ApiFunction', {
      handlerDir: 'api',
      description: 'Dashboard API (HTTP API, JWT-authorized)',
      retainLogs,
      environment: { ...graphEnv, ...creditsEnv },
    })
      .bindTable(table)
      .bindBus(bus)
      .bindSecret('WHATSAPP_ACCESS_TOKEN', secrets.accessToken);
    // POST /v1/sequences/{id}/enrollments schedules an enrolment's step 0.
    stateful.sequenceSchedules.bindScheduler(apiFunction, stateful.queues.automation.queue);

    const webhookFunction = new AppFunction(this, 'WebhookFunction', {
      handlerDir: 'webhook',
      description: "Meta's WhatsApp webhook: verifies, splits, tags and publishes deliveries",
      retainLogs,
      memorySize: 1024,
    })
      .bindTable(table)
      .bindBus(bus)
      .bindSecret('WHATSAPP_APP_SECRET', secrets.appSecret)
      .bindSecret('WHATSAPP_VERIFY_TOKEN', secrets.verifyToken);

    const consumers = Object.fromEntries(
      Object.entries(CONSUMERS).map(([name, consumer]) => [
        name,
        new QueueConsumer(this, `${name}Consumer`, {
          handlerDir: consumer.handlerDir,
          description: consumer.description,
          timeout: consumer.timeout,
          batchSize: consumer.batchSize,
          retainLogs,
          queue: stateful.queues[name as keyof typeof CONSUMERS],
          environment: { ...graphEnv, ...creditsEnv },
          ...('memorySize' in consumer ? { memorySize: consumer.memorySize } : {}),
        }),
      ]),
    ) as Record<keyof typeof CONSUMERS, QueueConsumer>;
    consumers.inbox.handler.bindTable(table);
    // Media in: the file of each media message, from the Graph API (with the access token) to the media bucket.
    consumers.media.handler.bindTable(table).bindSecret('WHATSAPP_ACCESS_TOKEN', secrets.accessToken);
    stateful.media.bindTo(consumers.media.handler, 'readWrite');
    // The API presigns GETs of stored files (message views) and PUTs of uploads (POST /v1/uploads).
    stateful.media.bindTo(apiFunction, 'readWrite');
    // Replies go out through the Graph API, as the sender's do. An AI turn's due message goes back on the
    // automation queue itself (SQS DelaySeconds, `AI Turn Due`); the runner schedules each next sequence step.
    consumers.automation.handler
      .bindTable(table)
      .bindSecret('WHATSAPP_ACCESS_TOKEN', secrets.accessToken)
      .bindQueue(stateful.queues.automation.queue, 'AUTOMATION_QUEUE_URL');
    stateful.sequenceSchedules.bindScheduler(consumers.automation.handler, stateful.queues.automation.queue);
    bindFoundationModel(consumers.automation.handler, { modelId: config.aiModelId, region: config.aiRegion });
    // A sequence's template step is priced by the same rate card as a broadcast message.
    for (const [name, value] of Object.entries(creditsEnv)) consumers.automation.handler.fn.addEnvironment(name, value);
    consumers.broadcast.handler.bindTable(table).bindBus(bus).bindQueue(stateful.sendQueue.queue, 'SEND_QUEUE_URL');
    // Integrations read the account's integration and default number, and sign pushes with the webhooks' master key.
    consumers.integration.handler.bindTable(table, 'read').bindSecret('WEBHOOK_SIGNING_KEY', secrets.webhookSigningKey);

    // Each invocation sends one chunk at ≤ PER_INVOCATION_RATE msg/s; reserved concurrency caps the sum at the number's throughput.
    const senderConcurrency = Math.max(1, Math.ceil(config.throughputPerSecond / PER_INVOCATION_RATE));
    const sender = new QueueConsumer(this, 'SenderConsumer', {
      handlerDir: SENDER.handlerDir,
      description: SENDER.description,
      timeout: SENDER.timeout,
      batchSize: SENDER.batchSize,
      queue: stateful.sendQueue,
      retainLogs,
      reservedConcurrentExecutions: senderConcurrency,
      environment: {
        ...graphEnv,
        ...creditsEnv,
        SENDER_THROUGHPUT_PER_SECOND: String(Math.floor(config.throughputPerSecond / senderConcurrency)),
      },
    });
    sender.handler.bindTable(table).bindBus(bus).bindSecret('WHATSAPP_ACCESS_TOKEN', secrets.accessToken);
    // Rounds the portfolio's messaging limit defers are scheduled back onto the send queue.
    stateful.deferredSends.bindScheduler(sender.handler, stateful.sendQueue.queue);

    // Outgoing webhooks: the dispatcher (a bus consumer above) queues deliveries; the delivery function (no VPC) POSTs them.
    const outgoingWebhooks = new OutgoingWebhookDelivery(this, 'OutgoingWebhooks', {
      queue: stateful.outgoingWebhooks.delivery,
      table,
      signingKey: secrets.webhookSigningKey,
      dispatcher: consumers.outgoingWebhooks.handler,
      api: apiFunction,
      retainLogs,
    });

    // API keys: /api/v1/* behind a Lambda authorizer that verifies x-api-key (lib/api-keys.ts).
    const apiKeys = new ApiKeyAuthorizer(this, 'ApiKeys', { table, retainLogs });

    this.api = new DashboardApi(this, 'Api', {
      apiFunction,
      webhookFunction,
      apiKeyAuthorizer: apiKeys.authorizer,
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      retainUserPool: !isDevStage(config),
    });

    // Live updates: the dashboard's WebSocket, on the same tokens; whoever writes a message or a conversation pushes it.
    this.live = new LiveUpdates(this, 'LiveUpdates', {
      table,
      jwtIssuer: this.api.jwtIssuer,
      jwtAudiences: this.api.jwtAudiences,
      retainLogs,
    });
    for (const writer of [apiFunction, consumers.inbox.handler, consumers.automation.handler, consumers.media.handler]) this.live.grantPush(writer);

    this.functions = {
      api: apiFunction,
      webhook: webhookFunction,
      authorizer: apiKeys.authorizerFunction,
      inbox: consumers.inbox.handler,
      automation: consumers.automation.handler,
      broadcast: consumers.broadcast.handler,
      integration: consumers.integration.handler,
      media: consumers.media.handler,
      sender: sender.handler,
      webhookDispatch: consumers.outgoingWebhooks.handler,
      webhookDelivery: outgoingWebhooks.consumer.handler,
      live: this.live.routeFunction,
      liveAuthorizer: this.live.authorizerFunction,
    };

    new Observability(this, 'Observability', {
      stage: config.stage,
      functions: this.functions,
      queues: { ...stateful.queues, send: stateful.sendQueue, webhookDelivery: stateful.outgoingWebhooks.delivery },
      deadLetterQueues: { deferredSends: stateful.deferredSends.dlq, sequenceSteps: stateful.sequenceSchedules.dlq },
      httpApi: this.api.httpApi,
      alarmEmail: config.alarmEmail,
    });
  }
}
