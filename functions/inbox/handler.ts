/** The inbox consumer's Lambda entry (`functions/inbox/app.ts`) on its AWS adapters, made once per container. */
import { makeInboxHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeInboxHandler(awsDeps());
