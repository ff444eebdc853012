/** The API-key authorizer's Lambda entry (`functions/authorizer/app.ts`) on its AWS adapters, made once per container. */
import { makeAuthorizerHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeAuthorizerHandler(awsDeps());
