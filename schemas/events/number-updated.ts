/**
 * `WhatsApp Number Updated` v1 (docs/events.md): every change field other than
 * `messages` and `message_template_status_update` (quality, account updates,
 * fields the code does not model), published by the webhook once per number
 * it concerns. No rule routes it today; it stays in the archive.
 */
import * as z from 'zod';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';

export const numberUpdated = numberContext.extend({
  /** Meta's change field, e.g. `phone_number_quality_update`, `account_update`. */
  field: z.string(),
  update: z.looseObject({}),
});
export type NumberUpdated = z.infer<typeof numberUpdated>;

export const numberUpdatedContract = {
  name: 'number-updated',
  source: SOURCES.webhook,
  detailType: 'WhatsApp Number Updated',
  version: 1,
  schema: numberUpdated,
} as const satisfies EventContract;
