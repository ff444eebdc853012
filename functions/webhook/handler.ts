/** The webhook's Lambda entry (`functions/webhook/app.ts`) on its AWS adapters, made once per container. */
import { makeWebhookHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeWebhookHandler(awsDeps());
