/**
 * The automation consumer: SQS batches of `WhatsApp Message Received` events
 * from the `automation` rule, each record parsed and decided on its own in
 * the one consumer shell (`functions/commons/sqs-consumer.ts`): keywords,
 * default actions, chatbots and routes (docs/automations.md). The Lambda
 * handler and the local runtime's bus build it here with their adapters.
 */
import { busEventKeys, sqsConsumer } from '../commons/sqs-consumer.js';
import { type AutomationConsumerDeps, processAutomationEvent } from '../core/automation-consumer.js';
import { automationRecordBody } from './events.js';

export function makeAutomationHandler(deps: AutomationConsumerDeps) {
  return sqsConsumer({ name: 'automation', body: automationRecordBody, process: (event) => processAutomationEvent(deps, event), describe: busEventKeys });
}
