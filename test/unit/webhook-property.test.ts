/**
 * Properties of `POST /webhook` over bodies of any shape (fast-check):
 * a signed body never gets a 5xx (bad input is 400, the rest 200), an unsigned
 * or wrongly signed one always gets 401 with nothing published, and whatever
 * is published matches its event contract.
 *
 * Bodies stay far below 256 KB per item: a single event larger than
 * EventBridge accepts answers 500 by design (see the EventBridge publisher).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contractOf } from '../../schemas/events.js';
import { type DeliveryDeps, receiveDelivery } from '../../functions/webhook/delivery.js';
import {
  APP_SECRET,
  InMemoryRoutes,
  RecordingChannelStatus,
  RecordingPublisher,
  deliveryRequest,
  fixtureJson,
  fixtureNames,
  sign,
} from '../support/webhook.js';

function newDeps(): DeliveryDeps & { publisher: RecordingPublisher } {
  return {
    appSecret: async () => APP_SECRET,
    routes: new InMemoryRoutes(),
    publisher: new RecordingPublisher(),
    channelStatus: new RecordingChannelStatus(),
    clock: { now: () => new Date('2026-11-27T12:00:00.000Z') },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'webhook-property' }),
  };
}

const KNOWN_IDS = ['110000000000001', '110000000000002', '110000000000003', '119999999999999'];
const WABAS = ['210000000000001', '210000000000002', '299999999999999'];

const json = fc.jsonValue({ maxDepth: 4 });
const id = fc.oneof(fc.constantFrom(...KNOWN_IDS, ...WABAS), fc.string(), fc.integer(), json);

const messageLike = fc.record(
  {
    id: fc.oneof(fc.string(), json),
    from: fc.oneof(fc.constantFrom('16505550002', '5511987650001'), json),
    timestamp: fc.oneof(fc.constantFrom('1764230400', '0', '-1', '1e400', 'NaN'), fc.integer(), json),
    type: fc.oneof(fc.constantFrom('text', 'image', 'interactive', 'reaction', 'order', 'system', 'unsupported', 'location'), fc.string()),
    text: fc.oneof(fc.record({ body: fc.string() }), json),
    context: json,
    referral: json,
    status: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'failed'), json),
    biz_opaque_callback_data: fc.oneof(fc.constant('bc:brd_0001'), fc.string(), json),
  },
  { requiredKeys: [] },
);

const change = fc.record(
  {
    field: fc.oneof(fc.constantFrom('messages', 'message_template_status_update', 'phone_number_quality_update', 'account_update'), fc.string(), json),
    value: fc.oneof(
      json,
      fc.record(
        {
          metadata: fc.oneof(fc.record({ display_phone_number: fc.oneof(fc.string(), json), phone_number_id: id }, { requiredKeys: [] }), json),
          contacts: fc.oneof(fc.array(fc.record({ wa_id: fc.oneof(fc.string(), json), profile: json }, { requiredKeys: [] })), json),
          messages: fc.oneof(fc.array(fc.oneof(messageLike, json), { maxLength: 5 }), json),
          statuses: fc.oneof(fc.array(fc.oneof(messageLike, json), { maxLength: 5 }), json),
          event: fc.oneof(fc.constantFrom('APPROVED', 'FLAGGED', 'UPGRADE', 'DISABLED_UPDATE'), json),
          display_phone_number: fc.oneof(fc.constantFrom('15550001001', '15550001002', '+1 555-000-1002'), fc.string(), json),
          phone_number: fc.oneof(fc.string(), json),
          current_limit: fc.oneof(fc.constantFrom('TIER_10K', 'TIER_UNLIMITED', '10K'), fc.string(), json),
          max_daily_conversation_per_phone_number: fc.oneof(fc.integer(), fc.double(), json),
          message_template_id: fc.oneof(fc.integer(), fc.string(), json),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

const whatsappShaped = fc.record({
  object: fc.constant('whatsapp_business_account'),
  entry: fc.array(fc.oneof(json, fc.record({ id, time: fc.oneof(fc.integer(), fc.double(), json), changes: fc.oneof(fc.array(change, { maxLength: 4 }), json) }, { requiredKeys: [] })), {
    maxLength: 4,
  }),
});

/** A fixture with one of its values (anywhere) replaced by arbitrary JSON. */
const mutatedFixture = fc.tuple(fc.constantFrom(...fixtureNames()), fc.noBias(fc.nat(100_000)), json).map(([name, pick, replacement]) => {
  const body = fixtureJson(name) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (value && typeof value === 'object') for (const [key, child] of Object.entries(value)) walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(body, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  let parent = body as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path.at(-1)!] = replacement;
  return body;
});

const anyBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.string().map((text) => Buffer.from(text, 'utf8')),
  json.map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')),
  whatsappShaped.map((value) => Buffer.from(JSON.stringify(value), 'utf8')),
  mutatedFixture.map((value) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')),
);

describe('POST /webhook over bodies of any shape', () => {
  it('never answers a signed body with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, fc.boolean(), async (body, base64) => {
        const deps = newDeps();
        const response = await receiveDelivery(deliveryRequest(body, { 'x-hub-signature-256': sign(body) }, base64 ? 'base64' : 'text'), deps);
        expect([200, 400]).toContain(response.statusCode);
      }),
      { numRuns: 400 },
    );
  });

  it('publishes only events that match their contracts', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { arbitrary: whatsappShaped.map((v) => Buffer.from(JSON.stringify(v))), weight: 1 },
          { arbitrary: mutatedFixture.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), weight: 3 },
        ),
        async (body) => {
        const deps = newDeps();
        await receiveDelivery(deliveryRequest(body, { 'x-hub-signature-256': sign(body) }), deps);
        for (const event of deps.publisher.published) {
          expect(contractOf(event['detail-type'])?.schema.safeParse(event.detail).success).toBe(true);
          checked++;
        }
        },
      ),
      { numRuns: 200 },
    );
    // The generators reach publishing often enough for the property to mean something.
    expect(checked).toBeGreaterThan(50);
  });

  it('answers every unsigned body 401 and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const deps = newDeps();
        const response = await receiveDelivery(deliveryRequest(body, {}), deps);
        expect(response.statusCode).toBe(401);
        expect(deps.publisher.published).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('answers every wrongly signed body 401 and publishes nothing', async () => {
    const wrongSignature = (body: Buffer) =>
      fc.oneof(
        fc.string(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => `sha256=${Buffer.from(bytes).toString('hex')}`),
        fc.string({ minLength: 1 }).filter((secret) => secret !== APP_SECRET).map((secret) => sign(body, secret)),
        fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => sign(Buffer.concat([body, Buffer.from(extra)]))),
      );
    await fc.assert(
      fc.asyncProperty(
        anyBody.chain((body) => fc.tuple(fc.constant(body), wrongSignature(body))),
        async ([body, signature]) => {
          const deps = newDeps();
          const response = await receiveDelivery(deliveryRequest(body, { 'x-hub-signature-256': signature }), deps);
          expect(response.statusCode).toBe(401);
          expect(deps.publisher.published).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
