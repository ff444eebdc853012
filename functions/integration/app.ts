/**
 * The integration consumer: SQS batches of bus events (messages received on
 * a default number) from the `integrations` rule, each record's contact and
 * conversation pushed to the account's integration in the one consumer
 * shell (`functions/commons/sqs-consumer.ts`). The Lambda handler and the
 * local runtime's bus build it here with their adapters.
 */
import { busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { type IntegrationConsumerDeps, pushIntegrationRecords } from '../core/integrations.js';
import { integrationRecordBody } from './events.js';

export function makeIntegrationHandler(deps: IntegrationConsumerDeps) {
  return sqsConsumer({ name: 'integration', body: integrationRecordBody, process: (event) => pushIntegrationRecords(deps, event), describe: busEventKeys });
}
