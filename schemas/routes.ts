/**
 * Event routes, declared once (docs/events.md): each rule is an EventBridge
 * event pattern over the contracts of `schemas/events/`. The CDK rules take these objects as they are; the local bus
 * routes with `matches`, which implements the part of EventBridge's pattern
 * language these rules use, with EventBridge's semantics:
 *
 * - a pattern leaf is an array of alternatives (OR): exact strings, numbers,
 *   booleans or null, `{exists: true|false}`, `{prefix: "…"}`;
 * - a nested object matches nested fields (AND across keys);
 * - `$or: [pattern, …]` matches when any sub-pattern does;
 * - when the event's value is an array, any of its elements may match;
 * - `exists` applies to leaf values only, as in EventBridge (an object is not
 *   a leaf, so match on a field inside it, e.g. `context.id`).
 */
import { broadcastRequestedContract as broadcastRequested } from './events/broadcast-requested.js';
import { messageReceivedContract as messageReceived } from './events/message-received.js';
import { messageRecordedContract as messageRecorded } from './events/message-recorded.js';
import { messageStatusUpdatedContract as messageStatusUpdated } from './events/message-status-updated.js';
import { numberUpdatedContract as numberUpdated } from './events/number-updated.js';
import { templateStatusUpdatedContract as templateStatusUpdated } from './events/template-status-updated.js';
import { userPreferencesUpdatedContract as userPreferencesUpdated } from './events/user-preferences-updated.js';

export type PatternLeaf = string | number | boolean | null | { exists: boolean } | { prefix: string };

export interface EventPattern {
  readonly [field: string]: readonly PatternLeaf[] | EventPattern | readonly EventPattern[] | undefined;
  readonly $or?: readonly EventPattern[];
}

/** Rule name → pattern. Consumers (inbox, automation, broadcast) attach to a rule by its name. */
export const RULES = {
  /** Contacts, conversations, messages and statuses of every number; echoes and history (`Message Recorded`) go here only. */
  inbox: {
    source: [messageReceived.source],
    'detail-type': [messageReceived.detailType, messageStatusUpdated.detailType, messageRecorded.detailType],
  },
  /** Keywords, default actions, chatbots and AI agents answer inbound messages. */
  automation: {
    source: [messageReceived.source],
    'detail-type': [messageReceived.detailType],
  },
  /**
   * Integrations: messages received on the default number become contact and conversation records. Every number's
   * messages reach the consumer, which asks the account's default marker: the webhook's `isDefaultNumber` comes from
   * a route cached up to a minute, so a number promoted to default would be filtered out here meanwhile.
   */
  integrations: {
    source: [messageReceived.source],
    'detail-type': [messageReceived.detailType],
  },
  /**
   * Outgoing webhooks (docs/outgoing-webhooks.md): the public events of every number reach the dispatcher, which
   * delivers only the account's current default number's. Not filtered on `isDefaultNumber`, for the reason the
   * integrations rule gives: that flag comes from a route the webhook caches, and a promoted default would be lost.
   */
  outgoingWebhooks: {
    source: [messageReceived.source],
    'detail-type': [messageReceived.detailType, messageStatusUpdated.detailType, templateStatusUpdated.detailType, numberUpdated.detailType],
  },
  /**
   * Media in: the files of messages received (and of echoes and history) whose type is a media type are fetched
   * from the Graph API, checked and stored (`functions/media/`). The inbox stores the message itself regardless.
   */
  media: {
    source: [messageReceived.source],
    'detail-type': [messageReceived.detailType, messageRecorded.detailType],
    detail: { message: { type: ['image', 'video', 'audio', 'document', 'sticker'] } },
  },
  /** Broadcasts: the API's send command, then their metrics (statuses of their messages, replies), template fan-out and marketing preferences. */
  broadcast: {
    $or: [
      { source: [broadcastRequested.source], 'detail-type': [broadcastRequested.detailType] },
      { source: [messageStatusUpdated.source], 'detail-type': [messageStatusUpdated.detailType], detail: { broadcastId: [{ exists: true }] } },
      { source: [messageReceived.source], 'detail-type': [messageReceived.detailType], detail: { message: { context: { id: [{ exists: true }] } } } },
      { source: [templateStatusUpdated.source], 'detail-type': [templateStatusUpdated.detailType] },
      { source: [userPreferencesUpdated.source], 'detail-type': [userPreferencesUpdated.detailType] },
    ],
  },
} as const satisfies Record<string, EventPattern>;

export type RuleName = keyof typeof RULES;

export const RULE_NAMES = Object.keys(RULES) as RuleName[];

/** Whether an EventBridge event (the envelope: `source`, `detail-type`, `detail`, …) matches a pattern. */
export function matches(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

/** The rules an event is routed to. */
export function rulesMatching(event: unknown, rules: Readonly<Record<string, EventPattern>> = RULES): string[] {
  return Object.entries(rules)
    .filter(([, pattern]) => matches(pattern, event))
    .map(([name]) => name);
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (sub === undefined) continue;
    if (key === '$or') {
      if (!(sub as readonly EventPattern[]).some((alternative) => matchObject(alternative, value))) return false;
      continue;
    }
    const field = isRecord(value) ? value[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub as readonly PatternLeaf[], field)) return false;
    } else if (!matchNested(sub as EventPattern, field)) {
      return false;
    }
  }
  return true;
}

function matchNested(pattern: EventPattern, value: unknown): boolean {
  // An array of objects matches when one of its elements does.
  if (Array.isArray(value)) return value.some((element) => matchNested(pattern, element));
  return matchObject(pattern, isRecord(value) ? value : undefined);
}

function matchLeaf(alternatives: readonly PatternLeaf[], value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some((alternative) => {
    if (isRecord(alternative) && 'exists' in alternative) {
      const present = values.some((v) => v !== undefined && !isRecord(v));
      return alternative.exists ? present : !present;
    }
    return values.some((v) => matchValue(alternative, v));
  });
}

function matchValue(alternative: PatternLeaf, value: unknown): boolean {
  if (value === undefined || isRecord(value)) return false;
  if (isRecord(alternative) && 'prefix' in alternative) return typeof value === 'string' && value.startsWith(alternative.prefix);
  return alternative === value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
