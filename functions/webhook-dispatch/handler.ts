/** The outgoing-webhook dispatcher's Lambda entry (`functions/webhook-dispatch/app.ts`) on its AWS adapters, made once per container. */
import { makeWebhookDispatchHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeWebhookDispatchHandler(awsDeps());
