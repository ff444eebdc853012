/**
 * `WhatsApp Template Status Updated` v1 (docs/events.md): Meta's decision on a
 * template, published by the webhook once per connected number of the WABA,
 * because a template is submitted to every number (docs/architecture.md).
 * Routed to the broadcasts.
 */
import type * as z from 'zod';
import { templateStatusUpdate } from '../meta-webhook.js';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';

export const templateStatusUpdated = numberContext.extend({
  update: templateStatusUpdate,
});
export type TemplateStatusUpdated = z.infer<typeof templateStatusUpdated>;

export const templateStatusUpdatedContract = {
  name: 'template-status-updated',
  source: SOURCES.webhook,
  detailType: 'WhatsApp Template Status Updated',
  version: 1,
  schema: templateStatusUpdated,
} as const satisfies EventContract;
