/**
 * The API's adapters. `createApiDeps` binds them to a table, a Graph API
 * client and a bus (the local runtime passes its simulator and in-process
 * bus, tests recording ones); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAutomationRepository } from '../adapters/dynamo/automation-repository.js';
import { DynamoBroadcastRepository } from '../adapters/dynamo/broadcast-repository.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoInboxRepository } from '../adapters/dynamo/inbox-repository.js';
import { createDynamoAdapters } from '../adapters/dynamo/index.js';
import { DynamoSequenceStore } from '../adapters/dynamo/sequence-store.js';
import { DynamoTemplateRepository } from '../adapters/dynamo/template-repository.js';
import { EventBridgePublisher, createEventBridgeClient } from '../adapters/eventbridge/publisher.js';
import { GraphClient } from '../adapters/graph/graph-client.js';
import { NoStepScheduler, stepSchedulerOf } from '../adapters/scheduler/sequence-scheduler.js';
import { broadcastConfig, busConfig, graphConfig, sequenceScheduleConfig, tableConfig } from '../commons/config.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { reportPublishProblem } from '../commons/observability.js';
import { secretsFromEnv } from '../commons/secrets.js';
import { DEFAULT_CHUNK_SIZE } from '../core/broadcast-ports.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import type { StepScheduler } from '../core/sequence-ports.js';
import type { ApiDeps } from './routes/index.js';

export interface ApiWiring {
  /** Where `Broadcast Requested` goes. */
  events: EventPublisher;
  /** The Graph API: inbox replies and template submissions. */
  messaging: MessageSender;
  /** Recipients per stored chunk. @default 250 */
  chunkSize?: number;
  clock?: Clock;
  /** Where a sequence enrolment's first step is scheduled (EventBridge Scheduler in AWS, timers locally). */
  stepScheduler?: StepScheduler;
}

export function createApiDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: ApiWiring): ApiDeps {
  const clock = wiring.clock ?? systemClock;
  const dynamo = createDynamoAdapters(doc, tableName, clock);
  return {
    ...dynamo,
    clock,
    ids: timeOrderedIds,
    inbox: new DynamoInboxRepository(doc, tableName, clock),
    messaging: wiring.messaging,
    templates: new DynamoTemplateRepository(doc, tableName),
    broadcasts: new DynamoBroadcastRepository(doc, tableName, clock),
    automations: new DynamoAutomationRepository(doc, tableName),
    sequences: new DynamoSequenceStore(doc, tableName),
    stepScheduler: wiring.stepScheduler ?? new NoStepScheduler(),
    events: wiring.events,
    broadcastSettings: { chunkSize: wiring.chunkSize ?? DEFAULT_CHUNK_SIZE },
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const table = tableConfig(env);
  const bus = busConfig(env);
  const graph = graphConfig(env);
  const secret = secretsFromEnv(env);
  return createApiDeps(createDocumentClient(table), table.tableName, {
    events: new EventBridgePublisher(createEventBridgeClient(bus.region), bus.eventBusName, { onProblem: reportPublishProblem }),
    messaging: new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secret('WHATSAPP_ACCESS_TOKEN') }),
    chunkSize: broadcastConfig(env).BROADCAST_CHUNK_SIZE,
    stepScheduler: stepSchedulerOf(sequenceScheduleConfig(env), systemClock),
  });
}
