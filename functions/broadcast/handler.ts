/** The broadcast consumer's Lambda entry (`functions/broadcast/app.ts`) on its AWS adapters, made once per container. */
import { makeBroadcastHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeBroadcastHandler(awsDeps());
