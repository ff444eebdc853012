/**
 * Broadcasts: one approved template sent from one number to up to 100,000
 * recipients, measured per broadcast and number (docs/quotas.md, rule 6).
 *
 * Flow: the API stores the broadcast and its recipients in chunk items and
 * puts `Broadcast Requested` on the bus (recipients never travel on the bus);
 * the broadcast consumer puts one message per chunk on the send queue; the
 * sender (`sender.ts`) reserves the chunk's credits in one write, sends, and
 * settles. Statuses and replies come back through the bus and move each
 * recipient forward.
 *
 * This file holds what the dashboard API asks; the model and the counting
 * rules are in `broadcast-ports.ts`.
 */
import { createHash } from 'node:crypto';
import type { BroadcastView } from '../../schemas/broadcasts.js';
import { type BroadcastRequested, broadcastRequestedContract } from '../../schemas/events/broadcast-requested.js';
import { busEvent } from '../../schemas/events/contract.js';
import { requireAccount } from './accounts.js';
import type { BroadcastApiDeps, BroadcastRecord, BroadcastTally } from './broadcast-ports.js';
import { Conflict, NotFound } from './errors.js';
import type { Page, PageRequest } from './ports.js';
import { numberStatusOf } from './template-status.js';

// ------------------------------------------------------------- API use cases

export interface BroadcastInput {
  whatsapp_phno: string;
  template: { name: string; language: string };
  /** Normalised and de-duplicated. */
  recipients: string[];
}

/**
 * Accepts a broadcast: the template must be APPROVED on that number. The id
 * is derived from the request's idempotency key, so a retry after a failure
 * (the bus refused the event) finds the same broadcast and publishes again.
 */
export async function createBroadcast(deps: BroadcastApiDeps, accountId: string, input: BroadcastInput, idempotencyKey: string): Promise<{ broadcastId: string }> {
  await requireAccount(deps, accountId);
  const number = await deps.numbers.get(accountId, input.whatsapp_phno);
  if (!number) throw new NotFound(`The number ${input.whatsapp_phno}`);
  const template = await deps.templates.get({ accountId, ...input.template });
  const status = template ? numberStatusOf(template, number) : undefined;
  if (!template || status !== 'APPROVED') {
    throw new Conflict(
      'TEMPLATE_NOT_APPROVED',
      `The template ${input.template.name} (${input.template.language}) is not approved on ${input.whatsapp_phno}${status ? ` (it is ${status})` : ' (it was never submitted)'}.`,
      { whatsapp_phno: input.whatsapp_phno, template: input.template, status: status ?? null },
    );
  }
  const broadcastId = broadcastIdFor(accountId, idempotencyKey);
  const chunkSize = deps.broadcastSettings.chunkSize;
  const chunks: string[][] = [];
  for (let i = 0; i < input.recipients.length; i += chunkSize) chunks.push(input.recipients.slice(i, i + chunkSize));
  await deps.broadcasts.create(
    {
      accountId,
      broadcastId,
      whatsapp_phno: number.whatsapp_phno,
      phoneNumberId: number.phoneNumberId,
      template: { ...input.template, category: template.category },
      recipients: input.recipients.length,
      chunkCount: chunks.length,
      status: 'queued',
      createdAt: deps.clock.now().toISOString(),
    },
    chunks,
  );
  const detail: BroadcastRequested = {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    eventId: `brq:${broadcastId}`,
    broadcastId,
    chunkCount: chunks.length,
  };
  await deps.events.publish([busEvent(broadcastRequestedContract, detail)]);
  return { broadcastId };
}

export async function getBroadcast(deps: Pick<BroadcastApiDeps, 'accounts' | 'broadcasts'>, accountId: string, broadcastId: string): Promise<BroadcastView> {
  await requireAccount(deps, accountId);
  const broadcast = await deps.broadcasts.get(accountId, broadcastId);
  if (!broadcast) throw new NotFound('The broadcast');
  return toBroadcastView(broadcast, await deps.broadcasts.tally(broadcastId));
}

export async function listBroadcasts(
  deps: Pick<BroadcastApiDeps, 'accounts' | 'broadcasts'>,
  accountId: string,
  filter: { whatsappPhno?: string },
  page: PageRequest,
): Promise<Page<BroadcastView>> {
  await requireAccount(deps, accountId);
  const { items, nextCursor } = await deps.broadcasts.list(accountId, filter, page);
  const views = await Promise.all(items.map(async (b) => toBroadcastView(b, await deps.broadcasts.tally(b.broadcastId))));
  return { items: views, nextCursor };
}

export function toBroadcastView(broadcast: BroadcastRecord, tally: BroadcastTally): BroadcastView {
  return {
    broadcastId: broadcast.broadcastId,
    whatsapp_phno: broadcast.whatsapp_phno,
    template: broadcast.template,
    status: tally.done >= broadcast.recipients ? 'completed' : broadcast.status,
    counts: {
      recipients: broadcast.recipients,
      sent: tally.sent,
      delivered: tally.delivered,
      read: tally.read,
      failed: tally.failed,
      replied: tally.replied,
      skippedOptOut: tally.skippedOptOut,
      deferred: tally.deferred,
    },
    creditsSpentMicros: tally.creditsSpentMicros,
    failedReasons: tally.failedReasons,
    resumesAt: tally.deferred > 0 ? (tally.resumesAt ?? null) : null,
    createdAt: broadcast.createdAt,
  };
}

/** `brd_` + 24 hex digits of a hash of the account and the request's idempotency key. */
export function broadcastIdFor(accountId: string, idempotencyKey: string): string {
  return `brd_${createHash('sha256').update(`${accountId}\n${idempotencyKey}`).digest('hex').slice(0, 24)}`;
}
