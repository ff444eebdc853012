/**
 * Helpers for template and broadcast tests on DynamoDB Local: a fake of our
 * own `MessageSender` port that records every send, a recording publisher,
 * a counting document client (how many quota/ledger writes a broadcast
 * costs), and shortcuts to connect numbers, approve templates and make
 * broadcasts through the core use cases.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBroadcastRepository } from '../../functions/adapters/dynamo/broadcast-repository.js';
import { DynamoMarketingPreferenceStore } from '../../functions/adapters/dynamo/marketing-preferences.js';
import { DynamoTemplateRepository } from '../../functions/adapters/dynamo/template-repository.js';
import type { BroadcastApiDeps, BroadcastConsumerDeps } from '../../functions/core/broadcast-ports.js';
import { createBroadcast } from '../../functions/core/broadcasts.js';
import type { MessageSender, SendTemplateRequest, SentMessage, SubmittedTemplate, TemplateDefinition } from '../../functions/core/messaging.js';
import { connectNumber } from '../../functions/core/numbers.js';
import type { BusEvent } from '../../schemas/events/contract.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import type { RateCard } from '../../schemas/rate-card.js';
import { processChunk } from '../../functions/core/sender.js';
import type { SenderDeps, SenderSettings } from '../../functions/core/sender-ports.js';
import { createSenderDeps } from '../../functions/sender/deps.js';
import { broadcastConfig } from '../../functions/commons/config.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import { adaptersFor } from './accounts.js';
import type { TestTable } from './dynamo.js';

/** One price everywhere: 1,000 micros a marketing message, so "affords k" is plain arithmetic. */
export const FLAT_RATE_CARD: RateCard = {
  default: { MARKETING: 1_000, UTILITY: 500, AUTHENTICATION: 700 },
  byCallingCode: {},
};

type SendBehaviour = (request: SendTemplateRequest, attempt: number) => Error | undefined;

/** Our `MessageSender` port, faked: records sends, answers wamids, fails where told to. */
export class RecordingSender implements MessageSender {
  readonly sends: (SendTemplateRequest & { wamid: string })[] = [];
  readonly submissions: { wabaId: string; template: TemplateDefinition }[] = [];
  private readonly attempts = new Map<string, number>();
  private counter = 0;
  /** Runs before answering a submission (e.g. a webhook decision that beats our write). */
  onSubmit?: (wabaId: string, template: TemplateDefinition) => Promise<void>;

  constructor(private readonly behaviour: SendBehaviour = () => undefined) {}

  async sendText(): Promise<SentMessage> {
    throw new Error('not used by broadcasts');
  }

  async sendInteractive(): Promise<SentMessage> {
    throw new Error('not used by broadcasts');
  }

  async sendMedia(): Promise<SentMessage> {
    throw new Error('not used by broadcasts');
  }

  async sendTemplate(request: SendTemplateRequest): Promise<SentMessage> {
    const attempt = (this.attempts.get(request.to) ?? 0) + 1;
    this.attempts.set(request.to, attempt);
    // Yield like a network call would, so concurrent runs interleave.
    await new Promise((resolve) => setImmediate(resolve));
    const error = this.behaviour(request, attempt);
    if (error) throw error;
    const wamid = `wamid.${request.to}.${++this.counter}.${Math.random().toString(36).slice(2, 8)}`;
    this.sends.push({ ...request, wamid });
    return { wamid };
  }

  async submitTemplate(wabaId: string, template: TemplateDefinition): Promise<SubmittedTemplate> {
    this.submissions.push({ wabaId, template });
    await this.onSubmit?.(wabaId, template);
    return { id: `tpl-${wabaId}-${template.name}`, status: 'PENDING' };
  }

  async markRead(): Promise<void> {}

  sentTo(waId: string): number {
    return this.sends.filter((s) => s.to === waId).length;
  }
}

export class RecordingPublisher implements EventPublisher {
  readonly events: BusEvent[] = [];
  async publish(events: BusEvent[]): Promise<void> {
    this.events.push(...events);
  }
  ofType(detailType: string): BusEvent[] {
    return this.events.filter((e) => e['detail-type'] === detailType);
  }
}

/** Writes that touch the credit pool, a quota, the ledger or a number's spend, counted per call. */
export function countingClient(doc: DynamoDBDocumentClient): { doc: DynamoDBDocumentClient; quotaWrites: () => number } {
  let count = 0;
  const quotaItems = [entities.creditPool, entities.gaugeQuota, entities.periodQuota, entities.ledgerEntry, entities.numberSpend];
  const quotaKey = (key: Record<string, unknown> | undefined) => key !== undefined && quotaItems.some((entity) => entity.owns(key));
  const counting = Object.create(doc) as DynamoDBDocumentClient;
  counting.send = (async (command: { constructor: { name: string }; input: Record<string, any> }) => {
    const name = command.constructor.name;
    const input = command.input;
    let touches = false;
    if (name === 'TransactWriteCommand') {
      touches = (input.TransactItems as Record<string, any>[]).some((item) => {
        const body = Object.values(item)[0] as { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
        return quotaKey(body.Key ?? body.Item);
      });
    } else if (name === 'UpdateCommand' || name === 'PutCommand' || name === 'DeleteCommand') {
      touches = quotaKey(input.Key ?? input.Item);
    }
    if (touches) count++;
    return doc.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  return { doc: counting, quotaWrites: () => count };
}

export function testSettings(overrides: Partial<SenderSettings> = {}): SenderSettings {
  return {
    throughputPerSecond: 1_000,
    concurrency: 8,
    maxThrottleRetries: 3,
    throttleBackoffMs: 1,
    staleSendingSeconds: 300,
    creditsLowThresholdMicros: 0,
    ...overrides,
  };
}

export interface BroadcastWorld {
  table: TestTable;
  deps: ReturnType<typeof adaptersFor>;
  api: BroadcastApiDeps;
  consumer: BroadcastConsumerDeps;
  sender: SenderDeps;
  messaging: RecordingSender;
  events: RecordingPublisher;
  queued: { accountId: string; broadcastId: string; chunk: number }[];
}

/** Everything a broadcast needs on one table, faked only where it leaves our system (Meta, the bus, the queue). */
export function broadcastWorld(
  table: TestTable,
  options: { messaging?: RecordingSender; settings?: Partial<SenderSettings>; rateCard?: RateCard; chunkSize?: number; doc?: DynamoDBDocumentClient } = {},
): BroadcastWorld {
  const doc = options.doc ?? table.doc;
  const scoped = { ...table, doc };
  const deps = adaptersFor(scoped);
  const messaging = options.messaging ?? new RecordingSender();
  const events = new RecordingPublisher();
  const queued: BroadcastWorld['queued'] = [];
  const broadcasts = new DynamoBroadcastRepository(doc, table.tableName, deps.clock);
  const templates = new DynamoTemplateRepository(doc, table.tableName);
  const sender = createSenderDeps(doc, table.tableName, { messaging, events, config: broadcastConfig({}) });
  return {
    table: scoped,
    deps,
    api: { ...deps, templates, broadcasts, events, broadcastSettings: { chunkSize: options.chunkSize ?? 250 } },
    consumer: { broadcasts, templates, marketingPreferences: new DynamoMarketingPreferenceStore(doc, table.tableName), sendQueue: { enqueue: async (m) => void queued.push(...m) }, clock: deps.clock },
    sender: { ...sender, rateCard: options.rateCard ?? FLAT_RATE_CARD, settings: testSettings(options.settings) },
    messaging,
    events,
    queued,
  };
}

let numberSeq = 0;

/** Connects a fresh number (unique platform-wide) to the account; additional ones need a number add-on first. */
export async function connectTestNumber(world: BroadcastWorld, accountId: string, options: { wabaId?: string; prefix?: string } = {}) {
  const n = ++numberSeq;
  const unique = `${process.pid % 1000}${String(Date.now() % 100_000).padStart(5, '0')}${String(n).padStart(3, '0')}`;
  const phno = `${options.prefix ?? '1555'}${unique}`.slice(0, 15);
  const defaultOf = await world.deps.numbers.defaultOf(accountId);
  if (defaultOf) {
    const { purchaseAddon } = await import('../../functions/core/accounts.js');
    await purchaseAddon(world.deps, accountId, { type: 'number', quantity: 1 }, `addon-${phno}`);
  }
  return connectNumber(
    world.deps,
    accountId,
    { name: `Number ${n}`, whatsapp_phno: phno, phoneNumberId: `9${unique}`.slice(0, 15), wabaId: options.wabaId ?? `8${unique}`.slice(0, 15) },
    `connect-${phno}`,
  );
}

/** Stores a template approved by Meta on one number (as the webhook's event would). */
export async function approveTemplate(world: BroadcastWorld, accountId: string, number: { whatsapp_phno: string; wabaId: string }, name = 'promo', category = 'MARKETING') {
  const templates = world.consumer.templates;
  const at = new Date().toISOString();
  await templates.createIfAbsent({ accountId, name, language: 'en_US', category, components: [{ type: 'BODY', text: 'Hi' }], numbers: {}, wabas: {}, createdAt: at, updatedAt: at });
  await templates.applyMetaStatus({ accountId, name, language: 'en_US' }, { whatsappPhno: number.whatsapp_phno, wabaId: number.wabaId, status: 'APPROVED', occurredAt: at }, at);
  return { name, language: 'en_US' };
}

/** Recipients `{prefix}0000001…`: distinct, valid numbers. */
export function recipients(count: number, prefix = '1202'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(7, '0')}`);
}

export async function makeBroadcast(world: BroadcastWorld, accountId: string, whatsappPhno: string, to: string[], template = { name: 'promo', language: 'en_US' }) {
  return createBroadcast(world.api, accountId, { whatsapp_phno: whatsappPhno, template, recipients: to }, `req-${Math.random()}`);
}

/** Processes every chunk of a broadcast once, in order. */
export async function sendAllChunks(world: BroadcastWorld, accountId: string, broadcastId: string) {
  const broadcast = await world.api.broadcasts.get(accountId, broadcastId);
  const outcomes = [];
  for (let chunk = 0; chunk < broadcast!.chunkCount; chunk++) outcomes.push(await processChunk(world.sender, { accountId, broadcastId, chunk }));
  return outcomes;
}

export async function balanceOf(world: BroadcastWorld, accountId: string): Promise<number> {
  const { Item } = await world.table.doc.send(new GetCommand({ TableName: world.table.tableName, Key: entities.creditPool.key({ accountId }), ConsistentRead: true }));
  return Item!.balanceMicros as number;
}

export async function ledgerOf(world: BroadcastWorld, accountId: string) {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await world.table.doc.send(
      new QueryCommand({
        TableName: world.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': entities.ledgerEntry.partition({ accountId }), ':prefix': entities.ledgerEntry.skPrefix() },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
