/**
 * Webhook test helpers: Meta's fixtures (`test/fixtures/meta-webhooks/`),
 * signing exactly as Meta does, route rows as the
 * numbers feature writes them, and in-memory doubles of the ingestion ports.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BusEvent } from '../../schemas/events/contract.js';
import * as entities from '../../functions/adapters/dynamo/entities/index.js';
import type { ChannelStatusChange, ChannelStatusWriter } from '../../functions/core/channel-status.js';
import type { NumberRoute, NumberRouteLookup } from '../../functions/core/ingestion.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import { signatureFor } from '../../functions/webhook/signature.js';

export const APP_SECRET = 'local-app-secret';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'meta-webhooks');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR).filter((name) => name.endsWith('.json')).sort();
}

/** A fixture's exact bytes: sign these, never a re-serialisation. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name));
}

export function fixtureJson(name: string): { entry: unknown[] } & Record<string, unknown> {
  return JSON.parse(fixtureBytes(name).toString('utf8'));
}

/** The `X-Hub-Signature-256` value Meta would send. */
export function sign(body: Buffer | string, secret = APP_SECRET): string {
  return signatureFor(body, secret);
}

export const FIXTURE_ACCOUNT = 'acc_fixture0001';

/** The fixtures' numbers (fixtures/README.md); 119999999999999 is connected to no account. */
export const FIXTURE_ROUTES = {
  default: { accountId: FIXTURE_ACCOUNT, whatsapp_phno: '15550001001', phoneNumberId: '110000000000001', wabaId: '210000000000001', isDefault: true, name: 'Support' },
  vendas: { accountId: FIXTURE_ACCOUNT, whatsapp_phno: '15550001002', phoneNumberId: '110000000000002', wabaId: '210000000000001', isDefault: false, name: 'Vendas' },
  secondWaba: { accountId: FIXTURE_ACCOUNT, whatsapp_phno: '5511900001003', phoneNumberId: '110000000000003', wabaId: '210000000000002', isDefault: false, name: 'Campinas' },
} as const satisfies Record<string, NumberRoute>;

/** Writes a number's two route rows as the numbers feature does (PNID route + WABA route). */
export async function seedRoute(doc: DynamoDBDocumentClient, tableName: string, route: NumberRoute): Promise<void> {
  const attributes = { ...route };
  await doc.send(new PutCommand({ TableName: tableName, Item: entities.phoneNumberIdRoute.item({ phoneNumberId: route.phoneNumberId }, attributes) }));
  await doc.send(new PutCommand({ TableName: tableName, Item: entities.wabaRoute.item({ wabaId: route.wabaId, whatsappPhno: route.whatsapp_phno }, attributes) }));
}

/** A number item, as connecting a number leaves it (channel status included). */
export async function seedNumberItem(doc: DynamoDBDocumentClient, tableName: string, route: NumberRoute, extra: Record<string, unknown> = {}): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        ...entities.number.key({ accountId: route.accountId, whatsappPhno: route.whatsapp_phno }),
        ...route,
        status: 'CONNECTED',
        messagingLimitTier: 'TIER_250',
        qualityRating: 'GREEN',
        ...extra,
      },
    }),
  );
}

/** Routes held in memory, with a count of lookups. */
export class InMemoryRoutes implements NumberRouteLookup {
  lookups = 0;
  constructor(private readonly routes: NumberRoute[] = Object.values(FIXTURE_ROUTES)) {}
  async byPhoneNumberId(phoneNumberId: string) {
    this.lookups++;
    return this.routes.find((route) => route.phoneNumberId === phoneNumberId);
  }
  async byWaba(wabaId: string) {
    this.lookups++;
    return this.routes.filter((route) => route.wabaId === wabaId);
  }
}

/** Keeps what was published; `failWith` makes every publish reject. */
export class RecordingPublisher implements EventPublisher {
  readonly published: BusEvent[] = [];
  failWith?: Error;
  async publish(events: BusEvent[]) {
    if (this.failWith) throw this.failWith;
    this.published.push(...events);
  }
}

export class RecordingChannelStatus implements ChannelStatusWriter {
  readonly applied: ChannelStatusChange[] = [];
  async apply(change: ChannelStatusChange) {
    this.applied.push(change);
    return 'applied' as const;
  }
}

/**
 * An API Gateway v2 POST as the HTTP API hands it to the webhook Lambda. Like
 * API Gateway, bytes that are not valid UTF-8 always travel base64-encoded.
 */
export function deliveryRequest(body: Buffer, headers: Record<string, string> = {}, encoding: 'text' | 'base64' = 'text') {
  const base64 = encoding === 'base64' || !Buffer.from(body.toString('utf8'), 'utf8').equals(body);
  return {
    headers: { 'content-type': 'application/json', ...headers },
    body: base64 ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: base64,
  };
}
