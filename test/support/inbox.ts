/**
 * Test helpers for the team inbox: bus events as the webhook publishes them
 * (built from Meta's fixtures), SQS batches as the `inbox` queue delivers
 * them, connected numbers written straight to the table, and a recording
 * `MessageSender`.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { SOURCES } from '../../schemas/events/contract.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import type {
  MessageSender,
  SendInteractiveRequest,
  SendMediaRequest,
  SendTemplateRequest,
  SendTextRequest,
  SubmittedTemplate,
  TemplateDefinition,
} from '../../functions/core/messaging.js';
import type { TestTable } from './dynamo.js';
import { fixtureBytes } from './webhook.js';

/** A fixture's text (Meta's payloads, copied into `test/fixtures` so the repo stands alone). */
export function fixtureText(name: string): string {
  return fixtureBytes(name).toString('utf8');
}

/** The fixtures' numbers (fixtures/README.md). */
export const NUMBERS = {
  default: { whatsapp_phno: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001' },
  vendas: { whatsapp_phno: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001' },
  secondWaba: { whatsapp_phno: '5511900001003', phoneNumberId: '110000000000003', wabaId: '210000000000002' },
} as const;

export type FixtureNumber = { whatsapp_phno: string; phoneNumberId: string; wabaId: string };

/** Writes a connected number (number item + PNID route row) as `POST /v1/numbers` would. */
export async function putNumber(table: Pick<TestTable, 'doc' | 'tableName'>, accountId: string, number: FixtureNumber, isDefault = true, name = 'Test number') {
  const common = { accountId, whatsapp_phno: number.whatsapp_phno, phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, isDefault, name };
  await table.doc.send(
    new PutCommand({ TableName: table.tableName, Item: { ...entities.number.key({ accountId, whatsappPhno: number.whatsapp_phno }), type: entities.number.type, ...common, status: 'CONNECTED', connectedAt: '2026-01-01T00:00:00.000Z' } }),
  );
  await table.doc.send(new PutCommand({ TableName: table.tableName, Item: entities.phoneNumberIdRoute.item({ phoneNumberId: number.phoneNumberId }, common) }));
}

interface Envelope {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  id: string;
  time: string;
}

type MetaPayload = {
  entry: { id: string; changes: { field: string; value: Record<string, any> }[] }[];
};

/**
 * The bus events the webhook publishes for a Meta payload, for one account
 * that owns every number in it (tests pick the account).
 */
export function eventsFromPayload(payload: MetaPayload | string, accountId: string, receivedAt = new Date().toISOString()): Envelope[] {
  const body = (typeof payload === 'string' ? JSON.parse(payload) : payload) as MetaPayload;
  const events: Envelope[] = [];
  for (const entry of body.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') continue;
      const value = change.value;
      const context = {
        accountId,
        whatsapp_phno: value.metadata.display_phone_number as string,
        phoneNumberId: value.metadata.phone_number_id as string,
        wabaId: entry.id,
        isDefaultNumber: value.metadata.phone_number_id === NUMBERS.default.phoneNumberId,
        receivedAt,
      };
      for (const message of value.messages ?? []) {
        const contact = (value.contacts ?? []).find((c: any) => c.wa_id === message.from || (message.from_user_id && c.user_id === message.from_user_id)) ?? value.contacts?.[0];
        events.push(envelope(DETAIL_TYPES.messageReceived, { ...context, eventId: message.id, message, ...(contact ? { contact } : {}) }));
      }
      for (const status of value.statuses ?? []) {
        const broadcastId = typeof status.biz_opaque_callback_data === 'string' && status.biz_opaque_callback_data.startsWith('bc:') ? status.biz_opaque_callback_data.slice(3) : undefined;
        events.push(envelope(DETAIL_TYPES.messageStatusUpdated, { ...context, eventId: `${status.id}:${status.status}`, status, ...(broadcastId ? { broadcastId } : {}) }));
      }
    }
  }
  return events;
}

export function envelope(detailType: string, detail: Record<string, unknown>): Envelope {
  return { source: SOURCES.webhook, 'detail-type': detailType, detail, id: randomUUID(), time: new Date().toISOString() };
}

/** A `messageReceived` event for one text message. */
export function textEvent(
  accountId: string,
  options: { number?: FixtureNumber; from?: string; wamid?: string; text?: string; timestamp?: number; name?: string; userId?: string } = {},
): Envelope {
  const number = options.number ?? NUMBERS.default;
  const wamid = options.wamid ?? `wamid.TEST_${randomUUID()}`;
  const message: Record<string, unknown> = {
    id: wamid,
    timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    type: 'text',
    text: { body: options.text ?? 'hello' },
  };
  if (options.from !== undefined) message.from = options.from;
  if (options.userId && options.from === undefined) message.from_user_id = options.userId;
  const contact: Record<string, unknown> = { profile: { name: options.name ?? 'Maria Souza' } };
  if (options.from !== undefined) contact.wa_id = options.from;
  if (options.userId) contact.user_id = options.userId;
  return envelope(DETAIL_TYPES.messageReceived, {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefaultNumber: number.phoneNumberId === NUMBERS.default.phoneNumberId,
    eventId: wamid,
    receivedAt: new Date().toISOString(),
    message,
    contact,
  });
}

/** A `messageStatusUpdated` event. */
export function statusEvent(
  accountId: string,
  options: { wamid: string; status: string; recipient?: string; timestamp?: number; number?: FixtureNumber; errors?: unknown[]; bizOpaqueCallbackData?: string },
): Envelope {
  const number = options.number ?? NUMBERS.default;
  return envelope(DETAIL_TYPES.messageStatusUpdated, {
    accountId,
    whatsapp_phno: number.whatsapp_phno,
    phoneNumberId: number.phoneNumberId,
    wabaId: number.wabaId,
    isDefaultNumber: number.phoneNumberId === NUMBERS.default.phoneNumberId,
    eventId: `${options.wamid}:${options.status}`,
    receivedAt: new Date().toISOString(),
    status: {
      id: options.wamid,
      status: options.status,
      timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
      recipient_id: options.recipient ?? '5511987650001',
      ...(options.errors ? { errors: options.errors } : {}),
      ...(options.bizOpaqueCallbackData ? { biz_opaque_callback_data: options.bizOpaqueCallbackData } : {}),
    },
  });
}

/** An SQS batch of the `inbox` queue: each record's body is one EventBridge event. */
export function sqsBatch(bodies: (Envelope | string)[]): SQSEvent {
  return {
    Records: bodies.map((body): SQSRecord => {
      const messageId = randomUUID();
      return {
        messageId,
        receiptHandle: `test-${messageId}`,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:inbox',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** A `MessageSender` that records what it was asked and answers with fresh wamids (or a given failure). */
export class RecordingSender implements MessageSender {
  readonly texts: SendTextRequest[] = [];
  readonly templates: SendTemplateRequest[] = [];
  readonly interactives: SendInteractiveRequest[] = [];
  readonly media: SendMediaRequest[] = [];
  failWith: Error | undefined;

  async sendText(request: SendTextRequest) {
    if (this.failWith) throw this.failWith;
    this.texts.push(request);
    return { wamid: `wamid.OUT_${randomUUID()}`, waId: request.to };
  }

  async sendTemplate(request: SendTemplateRequest) {
    if (this.failWith) throw this.failWith;
    this.templates.push(request);
    return { wamid: `wamid.TPL_${randomUUID()}`, waId: request.to };
  }

  async sendInteractive(request: SendInteractiveRequest) {
    if (this.failWith) throw this.failWith;
    this.interactives.push(request);
    return { wamid: `wamid.INT_${randomUUID()}`, waId: request.to };
  }

  async sendMedia(request: SendMediaRequest) {
    if (this.failWith) throw this.failWith;
    this.media.push(request);
    return { wamid: `wamid.MED_${randomUUID()}`, waId: request.to };
  }

  async submitTemplate(_wabaId: string, _template: TemplateDefinition): Promise<SubmittedTemplate> {
    return { id: '1', status: 'PENDING' };
  }

  /** Read receipts (and typing indicators) asked for, in order; `failWith` / `failReceiptsWith` make them fail. */
  readonly receipts: { phoneNumberId: string; wamid: string; typing: boolean }[] = [];
  failReceiptsWith: Error | undefined;

  async markRead(phoneNumberId: string, wamid: string, typing?: boolean): Promise<void> {
    const failure = this.failReceiptsWith ?? this.failWith;
    if (failure) throw failure;
    this.receipts.push({ phoneNumberId, wamid, typing: typing === true });
  }
}

/** Every permutation of a list (6 for three statuses). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
