/**
 * Helpers for the portfolio messaging-limit tests on DynamoDB Local: a
 * virtual clock the sender, its repositories and the limit store all read, a
 * recording scheduler whose due rounds the test runs itself, a tier set the
 * way the webhook sets it (the channel-status writer), a service window
 * opened as the inbox would, and counts of what was really sent.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoChannelStatusWriter } from '../../functions/adapters/dynamo/channel-status-writer.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { broadcastConfig } from '../../functions/commons/config.js';
import { getBroadcast } from '../../functions/core/broadcasts.js';
import { messagingLimitOf } from '../../functions/core/messaging-limit-views.js';
import type { DeferredSendScheduler } from '../../functions/core/messaging-limit.js';
import type { Clock } from '../../functions/core/ports.js';
import { processChunk } from '../../functions/core/sender.js';
import { createSenderDeps } from '../../functions/sender/deps.js';
import type { SendChunkMessage } from '../../schemas/broadcasts.js';
import { newAccount } from './accounts.js';
import { FLAT_RATE_CARD, RecordingSender, approveTemplate, broadcastWorld, connectTestNumber, testSettings } from './broadcasts.js';
import type { TestTable } from './dynamo.js';

export const PRICE = FLAT_RATE_CARD.default.MARKETING;

/** Time that moves only when told to. */
export class VirtualClock implements Clock {
  private at: number;
  constructor(start = Date.now()) {
    this.at = start;
  }
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
  set(to: Date): void {
    this.at = to.getTime();
  }
}

/** The scheduler port, recording: a name scheduled twice is kept once, as EventBridge Scheduler does. */
export class RecordingScheduler implements DeferredSendScheduler {
  readonly schedules = new Map<string, { name: string; at: Date; message: SendChunkMessage; fired: boolean }>();
  async schedule(request: { name: string; at: Date; message: SendChunkMessage }): Promise<void> {
    if (!this.schedules.has(request.name)) this.schedules.set(request.name, { ...request, fired: false });
  }
  /** The rounds due at `now` not run yet, marked run. */
  takeDue(now: Date): SendChunkMessage[] {
    const due = [...this.schedules.values()].filter((s) => !s.fired && s.at.getTime() <= now.getTime());
    for (const schedule of due) schedule.fired = true;
    return due.map((s) => s.message);
  }
  pending(): { name: string; at: Date }[] {
    return [...this.schedules.values()].filter((s) => !s.fired);
  }
}

export type LimitWorld = ReturnType<typeof limitWorld>;

/** A broadcast world whose sender runs on a virtual clock and a recording scheduler. */
export function limitWorld(table: TestTable, options: { chunkSize?: number; messaging?: RecordingSender; clock?: VirtualClock } = {}) {
  const clock = options.clock ?? new VirtualClock();
  const scheduler = new RecordingScheduler();
  const base = broadcastWorld(table, { chunkSize: options.chunkSize ?? 50, ...(options.messaging ? { messaging: options.messaging } : {}) });
  const sender = {
    ...createSenderDeps(table.doc, table.tableName, { messaging: base.messaging, events: base.events, config: broadcastConfig({}), clock, scheduler }),
    rateCard: FLAT_RATE_CARD,
    settings: testSettings(),
  };
  return { ...base, sender, clock, scheduler, channel: new DynamoChannelStatusWriter(table.doc, table.tableName) };
}

/** An account with `numbers` numbers (the first the default), the template approved on each, and `credits`. */
export async function limitedAccount(world: LimitWorld, numbers: number, creditsMicros = 10_000 * PRICE) {
  const account = await newAccount(world.deps, {}, creditsMicros);
  const connected = [];
  for (let i = 0; i < numbers; i++) {
    // Each on its own WABA, none naming a portfolio: all share the account's portfolio.
    const number = await connectTestNumber(world, account.accountId);
    await approveTemplate(world, account.accountId, number);
    connected.push(number);
  }
  return { accountId: account.accountId, numbers: connected };
}

/** The portfolio's tier as Meta reports it (`business_capability_update` / quality update → the channel-status writer). */
export async function setTier(world: LimitWorld, accountId: string, whatsappPhno: string, tier: string, at = world.clock.now()) {
  await world.channel.apply({ accountId, whatsapp_phno: whatsappPhno, at: at.toISOString(), messagingLimitTier: tier, lastChannelEvent: 'business_capability_update:-' });
}

/** The user wrote to the number `ago` ms before now: its service window stays open for the rest of 24 hours. */
export async function openWindow(world: LimitWorld, accountId: string, whatsappPhno: string, waIds: string[], agoMs = 60_000) {
  const wrote = world.clock.now().getTime() - agoMs;
  for (const waId of waIds) {
    await world.table.doc.send(
      new PutCommand({
        TableName: world.table.tableName,
        Item: entities.conversation.item(
          { accountId, whatsappPhno, contactKey: waId, lastMessageAt: new Date(wrote).toISOString() },
          { accountId, whatsapp_phno: whatsappPhno, contactKey: waId, waId, windowOpenUntil: new Date(wrote + 24 * 3_600_000).toISOString() },
        ),
      }),
    );
  }
}

/** Runs every chunk of the broadcasts at once (round 0), as a queue with many consumers would. */
export async function runAllChunks(world: LimitWorld, accountId: string, broadcasts: { broadcastId: string }[], times = 1) {
  const runs: Promise<unknown>[] = [];
  for (const { broadcastId } of broadcasts) {
    const broadcast = await world.api.broadcasts.get(accountId, broadcastId);
    for (let chunk = 0; chunk < broadcast!.chunkCount; chunk++) {
      for (let t = 0; t < times; t++) runs.push(processChunk(world.sender, { accountId, broadcastId, chunk }));
    }
  }
  return Promise.allSettled(runs);
}

/** Runs the rounds due now (each `times` at once: a redelivered message). */
export async function runDue(world: LimitWorld, times = 1) {
  const due = world.scheduler.takeDue(world.clock.now());
  return Promise.allSettled(due.flatMap((message) => Array.from({ length: times }, () => processChunk(world.sender, message))));
}

/** Distinct users sent a message, and the most any one of them got. */
export function reach(world: LimitWorld, phoneNumberIds?: string[]) {
  const sends = world.messaging.sends.filter((s) => !phoneNumberIds || phoneNumberIds.includes(s.phoneNumberId));
  const perUser = new Map<string, number>();
  for (const send of sends) perUser.set(send.to, (perUser.get(send.to) ?? 0) + 1);
  return { sends: sends.length, unique: perUser.size, most: Math.max(0, ...perUser.values()) };
}

export const view = (world: LimitWorld, accountId: string, broadcastId: string) => getBroadcast(world.api, accountId, broadcastId);
export const limitView = (world: LimitWorld, accountId: string) => messagingLimitOf({ ...world.deps, clock: world.clock }, accountId);

/** Rejected runs, other than the retryable ones a queue redelivers (another run of the chunk still sending). */
export function failures(settled: PromiseSettledResult<unknown>[]) {
  return settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as Error);
}
