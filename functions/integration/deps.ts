/**
 * The integration consumer's adapters. `createIntegrationConsumerDeps` binds
 * them to a table and a sink (the local runtime passes its recording sink,
 * tests theirs); `awsDeps` is the Lambda's composition root: the `http`
 * sink over the guarded transport (https only, no loopback) and the master
 * signing key from Secrets Manager, read once per container.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoIntegrationStore } from '../adapters/dynamo/integration-store.js';
import { DynamoNumberRepository } from '../adapters/dynamo/number-repository.js';
import { HttpIntegrationSink } from '../adapters/http/http-integration-sink.js';
import { SafeHttpTransport } from '../adapters/http/safe-http.js';
import { tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { secretsFromEnv } from '../commons/secrets.js';
import type { IntegrationConsumerDeps, IntegrationSink } from '../core/integrations.js';
import type { Clock } from '../core/ports.js';

export function createIntegrationConsumerDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: { sink: IntegrationSink; clock?: Clock }): IntegrationConsumerDeps {
  return {
    integrations: new DynamoIntegrationStore(doc, tableName),
    numbers: new DynamoNumberRepository(doc, tableName, wiring.clock ?? systemClock),
    sink: wiring.sink,
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): IntegrationConsumerDeps {
  const table = tableConfig(env);
  return createIntegrationConsumerDeps(createDocumentClient(table), table.tableName, {
    // In AWS: https only, never loopback (docs/integrations.md, "Pushes").
    sink: new HttpIntegrationSink({
      transport: new SafeHttpTransport({ allowHttp: false, allowLoopback: false }),
      signingKey: secretsFromEnv(env)('WEBHOOK_SIGNING_KEY'),
      clock: systemClock,
    }),
  });
}
