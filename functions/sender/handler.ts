/** The sender's Lambda entry (`functions/sender/app.ts`) on its AWS adapters, made once per container. */
import { makeSenderHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeSenderHandler(awsDeps());
