/** The automation consumer's Lambda entry (`functions/automation/app.ts`) on its AWS adapters, made once per container. */
import { makeAutomationHandler } from './app.js';
import { awsDeps } from './deps.js';

export const handler = makeAutomationHandler(awsDeps());
