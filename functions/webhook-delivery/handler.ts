/** The outgoing-webhook delivery function's Lambda entry (`functions/webhook-delivery/app.ts`) on its AWS adapters, made once per container. */
import { makeWebhookDeliveryHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeWebhookDeliveryHandler(awsDeps());
