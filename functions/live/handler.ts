/** The WebSocket API's route function (`functions/live/app.ts`) on its AWS adapters, made once per container. */
import { makeLiveHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeLiveHandler(awsDeps());
