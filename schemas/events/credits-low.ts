/**
 * `Credits Low` v1 (docs/events.md): published by the sender, once, when a
 * reservation takes (or finds) the credit pool under the threshold. No rule
 * routes it today; it is archived for a notifier to come.
 */
import * as z from 'zod';
import { SOURCES, type EventContract } from './contract.js';

export const creditsLow = z.object({
  accountId: z.string(),
  /** The number whose spending crossed the threshold. */
  whatsapp_phno: z.string(),
  /** `credits-low:{accountId}:{at}`. */
  eventId: z.string(),
  balanceMicros: z.int(),
  thresholdMicros: z.int(),
});
export type CreditsLow = z.infer<typeof creditsLow>;

export const creditsLowContract = {
  name: 'credits-low',
  source: SOURCES.api,
  detailType: 'Credits Low',
  version: 1,
  schema: creditsLow,
} as const satisfies EventContract;
