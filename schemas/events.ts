/**
 * The catalogue of bus events (docs/events.md): every contract module of
 * `schemas/events/`, one per detail type, gathered to look one up by its
 * detail type. What an event is (source, detail type, version, schema,
 * example) is in its module; what every contract has and `busEvent`, the one
 * way to build an event, are in `schemas/events/contract.ts`.
 */
import type { EventOf } from './events/contract.js';
import { broadcastRequestedContract } from './events/broadcast-requested.js';
import { creditsLowContract } from './events/credits-low.js';
import { messageReceivedContract } from './events/message-received.js';
import { messageRecordedContract } from './events/message-recorded.js';
import { messageStatusUpdatedContract } from './events/message-status-updated.js';
import { numberUpdatedContract } from './events/number-updated.js';
import { templateStatusUpdatedContract } from './events/template-status-updated.js';
import { userPreferencesUpdatedContract } from './events/user-preferences-updated.js';

/** Every contract by name. Bump a contract's `version` on a breaking change. */
export const EVENT_CONTRACTS = {
  messageReceived: messageReceivedContract,
  messageRecorded: messageRecordedContract,
  messageStatusUpdated: messageStatusUpdatedContract,
  templateStatusUpdated: templateStatusUpdatedContract,
  numberUpdated: numberUpdatedContract,
  userPreferencesUpdated: userPreferencesUpdatedContract,
  broadcastRequested: broadcastRequestedContract,
  creditsLow: creditsLowContract,
} as const;

export type Contract = (typeof EVENT_CONTRACTS)[keyof typeof EVENT_CONTRACTS];

/** Every detail type by name, as consumers branch on them. */
export const DETAIL_TYPES = {
  messageReceived: messageReceivedContract.detailType,
  messageRecorded: messageRecordedContract.detailType,
  messageStatusUpdated: messageStatusUpdatedContract.detailType,
  templateStatusUpdated: templateStatusUpdatedContract.detailType,
  numberUpdated: numberUpdatedContract.detailType,
  userPreferencesUpdated: userPreferencesUpdatedContract.detailType,
  broadcastRequested: broadcastRequestedContract.detailType,
  creditsLow: creditsLowContract.detailType,
} as const;

export type DetailType = Contract['detailType'];

/** Everything the webhook publishes, discriminated by `detail-type`. */
export type WebhookEvent =
  | EventOf<typeof messageReceivedContract>
  | EventOf<typeof messageRecordedContract>
  | EventOf<typeof messageStatusUpdatedContract>
  | EventOf<typeof templateStatusUpdatedContract>
  | EventOf<typeof numberUpdatedContract>
  | EventOf<typeof userPreferencesUpdatedContract>;

/** The contract of an envelope's detail type, to parse a received event with. */
export function contractOf(detailType: string): Contract | undefined {
  return Object.values(EVENT_CONTRACTS).find((contract) => contract.detailType === detailType);
}
