/** The integration consumer's Lambda entry (`functions/integration/app.ts`) on its AWS adapters, made once per container. */
import { makeIntegrationHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeIntegrationHandler(awsDeps());
