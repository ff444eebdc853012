/**
 * The automation consumer's adapters. `createAutomationDeps` binds them to a
 * table and a Graph API client (the local runtime passes its simulator, tests
 * a recording sender); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BedrockAnswerer } from '../adapters/bedrock/bedrock-answerer.js';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { DynamoAiAgentState } from '../adapters/dynamo/ai-agent-state.js';
import { DynamoAutomationRepository } from '../adapters/dynamo/automation-repository.js';
import { DynamoAutomationState } from '../adapters/dynamo/automation-state.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoLiveConnectionStore, DynamoLiveMessageLookup } from '../adapters/dynamo/live-connections.js';
import { liveInboxRepository } from '../adapters/dynamo/live-inbox-repository.js';
import { apiGatewayLiveUpdates } from '../adapters/apigw/live-updates.js';
import { GraphClient } from '../adapters/graph/graph-client.js';
import { stepSchedulerOf } from '../adapters/scheduler/sequence-scheduler.js';
import { SqsTurnQueue } from '../adapters/sqs/turn-queue.js';
import { type AutomationConfig, automationConfig, broadcastConfig, graphConfig, liveUpdatesConfig, sequenceScheduleConfig, tableConfig } from '../commons/config.js';
import { reportLiveUpdateFailure } from '../commons/observability.js';
import { withLiveAutomationState } from '../core/live-inbox.js';
import { type LiveUpdates, noLiveUpdates } from '../core/live-updates.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { secretsFromEnv } from '../commons/secrets.js';
import type { AiAnswerer, TurnQueue } from '../core/ai-ports.js';
import type { AutomationConsumerDeps } from '../core/automation-consumer.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock } from '../core/ports.js';
import { processSequenceStepDue } from '../core/sequence-runner.js';
import type { StepScheduler } from '../core/sequence-ports.js';
import { sequenceEnrolments } from '../core/sequences.js';
import type { RateCard } from '../../schemas/rate-card.js';
import { createSequenceDeps } from './sequence-deps.js';

export interface AutomationWiring {
  messaging: MessageSender;
  config: AutomationConfig;
  /** AI agents: the answerer (Bedrock in AWS, the local knowledge matcher locally) and the queue turns wait on; absent, AI agents are skipped. */
  ai?: { answerer: AiAnswerer; turns: TurnQueue };
  /** Sequences: where steps are scheduled (EventBridge Scheduler in AWS, timers locally); absent, sequence actions are skipped. */
  sequences?: { scheduler: StepScheduler; rateCard?: RateCard };
  clock?: Clock;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
  /** Where the consumer's inbox writes are pushed (the WebSocket API in AWS, the runtime's hub locally). @default nowhere */
  live?: LiveUpdates;
}

export function createAutomationDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: AutomationWiring): AutomationConsumerDeps {
  const clock = wiring.clock ?? systemClock;
  const { config } = wiring;
  const automations = new DynamoAutomationRepository(doc, tableName);
  const live = wiring.live ?? noLiveUpdates;
  const inbox = liveInboxRepository(doc, tableName, clock, live, reportLiveUpdateFailure);
  return {
    state: withLiveAutomationState(new DynamoAutomationState(doc, tableName, clock), inbox, live, {
      messages: new DynamoLiveMessageLookup(doc, tableName),
      onFailure: reportLiveUpdateFailure,
    }),
    automations,
    inbox,
    accounts: new DynamoAccountRepository(doc, tableName, clock),
    messaging: wiring.messaging,
    clock,
    ids: timeOrderedIds,
    settings: {
      maxRepliesPer10Min: config.AUTOMATION_MAX_REPLIES_PER_10_MIN,
      lockWaitMs: config.AUTOMATION_LOCK_WAIT_MS,
      leaseSeconds: config.AUTOMATION_LEASE_SECONDS,
    },
    ...(wiring.ai
      ? {
          ai: {
            state: new DynamoAiAgentState(doc, tableName, clock),
            automations,
            answerer: wiring.ai.answerer,
            turns: wiring.ai.turns,
            debounceMs: config.AI_DEBOUNCE_MS,
            historyMessages: config.AI_HISTORY_MESSAGES,
          },
        }
      : {}),
    ...(wiring.sequences ? sequencesOf(doc, tableName, wiring, clock) : {}),
    ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
  };
}

/** Enrolments for the consumer's plans and the runner of due steps, on one set of sequence adapters. */
function sequencesOf(doc: DynamoDBDocumentClient, tableName: string, wiring: AutomationWiring, clock: Clock): Pick<AutomationConsumerDeps, 'sequences' | 'sequenceSteps'> {
  const { scheduler, rateCard } = wiring.sequences!;
  const deps = createSequenceDeps(doc, tableName, { messaging: wiring.messaging, scheduler, clock, ...(rateCard ? { rateCard } : {}), ...(wiring.live ? { live: wiring.live } : {}) });
  return { sequences: sequenceEnrolments(deps), sequenceSteps: (due) => processSequenceStepDue(deps, due) };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): AutomationConsumerDeps {
  const table = tableConfig(env);
  const graph = graphConfig(env);
  const secret = secretsFromEnv(env);
  const config = automationConfig(env);
  const doc = createDocumentClient(table);
  const { LIVE_UPDATES_ENDPOINT, AWS_REGION } = liveUpdatesConfig(env);
  return createAutomationDeps(doc, table.tableName, {
    live: apiGatewayLiveUpdates(LIVE_UPDATES_ENDPOINT, AWS_REGION, new DynamoLiveConnectionStore(doc, table.tableName, systemClock)),
    messaging: new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secret('WHATSAPP_ACCESS_TOKEN') }),
    config,
    sequences: { scheduler: stepSchedulerOf(sequenceScheduleConfig(env), systemClock), rateCard: broadcastConfig(env).PRICING_RATE_CARD },
    ...(config.AUTOMATION_QUEUE_URL
      ? {
          ai: {
            answerer: new BedrockAnswerer({ modelId: config.AI_MODEL_ID, ...(config.AI_REGION ? { region: config.AI_REGION } : {}) }),
            turns: new SqsTurnQueue(new SQSClient({}), config.AUTOMATION_QUEUE_URL),
          },
        }
      : {}),
  });
}
