/**
 * The automation consumer's adapters. `createAutomationDeps` binds them to a
 * table and a Graph API client (the local runtime passes its simulator, tests
 * a recording sender); `awsDeps` is the Lambda's composition root:
 * configuration read and clients made once per container, at cold start.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAccountRepository } from '../adapters/dynamo/account-repository.js';
import { DynamoAutomationRepository } from '../adapters/dynamo/automation-repository.js';
import { DynamoAutomationState } from '../adapters/dynamo/automation-state.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoInboxRepository } from '../adapters/dynamo/inbox-repository.js';
import { GraphClient } from '../adapters/graph/graph-client.js';
import { type AutomationConfig, automationConfig, graphConfig, tableConfig } from '../commons/config.js';
import { systemClock, timeOrderedIds } from '../commons/ids.js';
import { secretsFromEnv } from '../commons/secrets.js';
import type { AutomationConsumerDeps } from '../core/automation-consumer.js';
import type { MessageSender } from '../core/messaging.js';
import type { Clock } from '../core/ports.js';

export interface AutomationWiring {
  messaging: MessageSender;
  config: AutomationConfig;
  clock?: Clock;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

export function createAutomationDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: AutomationWiring): AutomationConsumerDeps {
  const clock = wiring.clock ?? systemClock;
  const { config } = wiring;
  return {
    state: new DynamoAutomationState(doc, tableName, clock),
    automations: new DynamoAutomationRepository(doc, tableName),
    inbox: new DynamoInboxRepository(doc, tableName, clock),
    accounts: new DynamoAccountRepository(doc, tableName, clock),
    messaging: wiring.messaging,
    clock,
    ids: timeOrderedIds,
    settings: {
      maxRepliesPer10Min: config.AUTOMATION_MAX_REPLIES_PER_10_MIN,
      lockWaitMs: config.AUTOMATION_LOCK_WAIT_MS,
      leaseSeconds: config.AUTOMATION_LEASE_SECONDS,
    },
    ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): AutomationConsumerDeps {
  const table = tableConfig(env);
  const graph = graphConfig(env);
  const secret = secretsFromEnv(env);
  return createAutomationDeps(createDocumentClient(table), table.tableName, {
    messaging: new GraphClient({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secret('WHATSAPP_ACCESS_TOKEN') }),
    config: automationConfig(env),
  });
}
