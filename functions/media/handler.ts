/** The media consumer's Lambda entry (`functions/media/app.ts`) on its AWS adapters, made once per container. */
import { makeMediaHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeMediaHandler(awsDeps());
