/**
 * The broadcast consumer (the `broadcast` rule): puts a requested broadcast's
 * chunks on the send queue, counts statuses and replies of broadcast messages
 * once per recipient and stage, applies template status updates, and keeps
 * users' marketing preferences (`marketing-preferences.ts`), which the sender
 * reads to skip opted-out recipients.
 */
import type { BroadcastRequested } from '../../schemas/events/broadcast-requested.js';
import type { MessageReceived } from '../../schemas/events/message-received.js';
import type { MessageStatusUpdated } from '../../schemas/events/message-status-updated.js';
import type { TemplateStatusUpdated } from '../../schemas/events/template-status-updated.js';
import type { UserPreferencesUpdated } from '../../schemas/events/user-preferences-updated.js';
import { type BroadcastConsumerDeps, STAGE_RANK } from './broadcast-ports.js';
import { ServiceBusy } from './errors.js';
import { BroadcastSendNotRecorded } from './backend-failures.js';
import { applyUserPreference } from './marketing-preferences.js';
import { applyTemplateStatusEvent } from './template-status.js';

/** Puts one message per chunk on the send queue, once per broadcast (a redelivered event only repeats harmless work). */
export async function enqueueBroadcastChunks(deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'sendQueue' | 'clock'>, detail: BroadcastRequested): Promise<'enqueued' | 'duplicate' | 'unknown'> {
  const broadcast = await deps.broadcasts.get(detail.accountId, detail.broadcastId);
  if (!broadcast) return 'unknown';
  if (broadcast.enqueuedAt) return 'duplicate';
  const messages = Array.from({ length: broadcast.chunkCount }, (_, chunk) => ({ accountId: detail.accountId, broadcastId: detail.broadcastId, chunk }));
  // Enqueue first, mark after: a crash in between enqueues again (the sender is idempotent), never loses a chunk.
  await deps.sendQueue.enqueue(messages);
  await deps.broadcasts.markEnqueued(detail.accountId, detail.broadcastId, deps.clock.now().toISOString());
  return 'enqueued';
}

const MAX_STATUS_ATTEMPTS = 8;

/** A status of a broadcast message: moves its recipient forward and counts it once. */
export async function applyBroadcastStatus(
  deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'clock'>,
  detail: Pick<MessageStatusUpdated, 'accountId' | 'broadcastId' | 'status'>,
): Promise<'applied' | 'ignored'> {
  const status = detail.status.status;
  const target = status === 'failed' ? 'failed' : STAGE_RANK[status as keyof typeof STAGE_RANK];
  if (target === undefined) return 'ignored';
  const wamid = detail.status.id;
  const ref = await deps.broadcasts.pointer(wamid);
  if (!ref) {
    // Either not ours, or the sender has not recorded the send yet (Meta can be faster than our write).
    const broadcast = detail.broadcastId ? await deps.broadcasts.get(detail.accountId, detail.broadcastId) : undefined;
    if (!broadcast) return 'ignored';
    throw new BroadcastSendNotRecorded(wamid);
  }
  if (ref.accountId !== detail.accountId) return 'ignored';
  const at = deps.clock.now().toISOString();
  for (let attempt = 1; attempt <= MAX_STATUS_ATTEMPTS; attempt++) {
    const state = (await deps.broadcasts.recipientStates(ref.broadcastId, [ref.waId])).get(ref.waId);
    if (!state || state.status === 'sending') throw new BroadcastSendNotRecorded(wamid);
    if (state.status === 'failed' || state.wamid !== wamid) return 'ignored';
    if (target === 'failed') {
      if (state.rank >= STAGE_RANK.delivered) return 'ignored';
      const metaCode = detail.status.errors?.[0]?.code;
      if (await deps.broadcasts.failAfterSend(ref, state, { ...(metaCode !== undefined ? { metaCode: String(metaCode) } : {}), at })) return 'applied';
      continue;
    }
    if (target <= state.rank) return 'ignored';
    if (await deps.broadcasts.advanceStage(ref, state.rank, target, at)) return 'applied';
  }
  throw new ServiceBusy('The recipient kept changing; retry.');
}

/** An inbound message quoting a broadcast message: counts `replied` once per recipient. */
export async function applyBroadcastReply(
  deps: Pick<BroadcastConsumerDeps, 'broadcasts' | 'clock'>,
  detail: Pick<MessageReceived, 'accountId' | 'message'>,
): Promise<'applied' | 'ignored'> {
  const contextId = detail.message.context?.id;
  if (!contextId) return 'ignored';
  const ref = await deps.broadcasts.pointer(contextId);
  if (!ref || ref.accountId !== detail.accountId) return 'ignored';
  return (await deps.broadcasts.recordReply(ref, deps.clock.now().toISOString())) ? 'applied' : 'ignored';
}

/** What one record of the `broadcast` rule asks. */
export type BroadcastEvent =
  | { kind: 'requested'; detail: BroadcastRequested }
  | { kind: 'status'; detail: MessageStatusUpdated }
  | { kind: 'reply'; detail: MessageReceived }
  | { kind: 'template'; detail: TemplateStatusUpdated }
  | { kind: 'preference'; detail: UserPreferencesUpdated }
  | { kind: 'ignored'; detailType: string };

/** The broadcast consumer: chunk fan-out, metrics from statuses and replies, template statuses, marketing preferences. */
export async function processBroadcastEvent(deps: BroadcastConsumerDeps, event: BroadcastEvent): Promise<string> {
  switch (event.kind) {
    case 'requested':
      return enqueueBroadcastChunks(deps, event.detail);
    case 'status':
      return applyBroadcastStatus(deps, event.detail);
    case 'reply':
      return applyBroadcastReply(deps, event.detail);
    case 'template':
      return applyTemplateStatusEvent(deps, event.detail);
    case 'preference':
      return applyUserPreference(deps, event.detail);
    case 'ignored':
      return 'ignored';
  }
}
