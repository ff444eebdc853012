/** The dashboard API's Lambda entry (`functions/api/app.ts`) on its AWS adapters, made once per container. */
import { makeApiHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeApiHandler(awsDeps());
