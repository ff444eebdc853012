/** The WebSocket API's `$connect` authorizer (`functions/live-authorizer/app.ts`) on its AWS adapters, made once per container. */
import { makeLiveAuthorizerHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeLiveAuthorizerHandler(awsDeps());
