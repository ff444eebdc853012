/**
 * `WhatsApp User Preferences Updated` v1 (docs/events.md): one per item of a
 * `user_preferences` change, a user stopping or resuming a category of
 * messages (today `marketing_messages`). Published by the webhook, routed to
 * the broadcasts, which keep the preference per (number, contact) and skip
 * opted-out recipients of marketing templates.
 *
 * `eventId` is derived from the content (`pref:{contact}:{category}:{value}:{timestamp}`),
 * so a redelivery dedupes.
 */
import * as z from 'zod';
import { SOURCES, type EventContract } from './contract.js';
import { numberContext } from './number-context.js';
import { recordedContact } from './message-recorded.js';

export const userPreferencesUpdated = numberContext.extend({
  contact: recordedContact,
  /** Meta's category, e.g. `marketing_messages`. */
  category: z.string().min(1),
  /** `stop` or `resume` today; any other value Meta adds passes as it is. */
  value: z.union([z.enum(['stop', 'resume']), z.string().min(1)]),
  /** When the user changed it (ISO), from the item's `timestamp` (or the delivery's time). */
  at: z.string(),
  /** Meta's human-readable detail, when given. */
  detail: z.string().optional(),
});
export type UserPreferencesUpdated = z.infer<typeof userPreferencesUpdated>;

export const userPreferencesUpdatedContract = {
  name: 'user-preferences-updated',
  source: SOURCES.webhook,
  detailType: 'WhatsApp User Preferences Updated',
  version: 1,
  schema: userPreferencesUpdated,
} as const satisfies EventContract;
