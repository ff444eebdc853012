/**
 * `POST /webhook` (`receiveDelivery`): the answers of docs/architecture.md, the signature
 * over raw bytes, and "nothing stored or published" unless it is Meta.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EventsNotPublished } from '../../functions/core/errors.js';
import { type DeliveryDeps, MAX_DELIVERY_BYTES, receiveDelivery } from '../../functions/webhook/delivery.js';
import { signatureFor, verifySignature } from '../../functions/webhook/signature.js';
import {
  APP_SECRET,
  InMemoryRoutes,
  RecordingChannelStatus,
  RecordingPublisher,
  deliveryRequest,
  fixtureBytes,
  sign,
} from '../support/webhook.js';

let publisher: RecordingPublisher;
let channelStatus: RecordingChannelStatus;
let metrics: Metrics;
let deps: DeliveryDeps;

beforeEach(() => {
  publisher = new RecordingPublisher();
  channelStatus = new RecordingChannelStatus();
  metrics = new Metrics({ namespace: 'test', serviceName: 'webhook-test' });
  deps = {
    appSecret: async () => APP_SECRET,
    routes: new InMemoryRoutes(),
    publisher,
    channelStatus,
    clock: { now: () => new Date('2026-11-27T12:00:00.000Z') },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  };
});

const post = (body: Buffer, headers: Record<string, string> = { 'x-hub-signature-256': sign(body) }, encoding: 'text' | 'base64' = 'text') =>
  receiveDelivery(deliveryRequest(body, headers, encoding), deps);

/** The (name, value) of every metric added. */
const metricCalls = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map((call) => [call[0], call[2]]);

describe('verifySignature', () => {
  const body = Buffer.from('{"a":1}');

  it('accepts the HMAC-SHA256 of the bytes with the app secret', () => {
    expect(verifySignature(body, signatureFor(body, APP_SECRET), APP_SECRET)).toBe(true);
  });

  it('accepts upper-case hex', () => {
    const hex = signatureFor(body, APP_SECRET).slice('sha256='.length);
    expect(verifySignature(body, `sha256=${hex.toUpperCase()}`, APP_SECRET)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', signatureFor(body, APP_SECRET).slice(7)],
    ['sha1', signatureFor(body, APP_SECRET).replace('sha256', 'sha1')],
    ['truncated', signatureFor(body, APP_SECRET).slice(0, -2)],
    ['signed with another secret', signatureFor(body, 'another-secret')],
    ['of other bytes', signatureFor(Buffer.from('{"a":2}'), APP_SECRET)],
  ])('refuses a signature that is %s', (_, value) => {
    expect(verifySignature(body, value, APP_SECRET)).toBe(false);
  });
});

describe('receiveDelivery', () => {
  it('answers 200 once the events are published', async () => {
    const response = await post(fixtureBytes('text-message.json'));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body as string)).toEqual({ published: 1, unrouted: 0, invalid: 0 });
    expect(publisher.published.map((e) => (e.detail as { eventId: string }).eventId)).toEqual(['wamid.IN_TEXT_0001']);
  });

  it('answers 401 and publishes nothing without a signature', async () => {
    const response = await post(fixtureBytes('text-message.json'), {});
    expect(response.statusCode).toBe(401);
    expect(publisher.published).toEqual([]);
  });

  it('answers 401 and publishes nothing with a wrong signature', async () => {
    const body = fixtureBytes('text-message.json');
    const response = await post(body, { 'x-hub-signature-256': sign(body, 'not-the-app-secret') });
    expect(response.statusCode).toBe(401);
    expect(publisher.published).toEqual([]);
  });

  it('answers 401 to a signature of the re-serialised JSON instead of the bytes sent', async () => {
    const body = fixtureBytes('text-message.json');
    const response = await post(body, { 'x-hub-signature-256': sign(JSON.stringify(JSON.parse(body.toString('utf8')))) });
    expect(response.statusCode).toBe(401);
  });

  it('counts a refused signature', async () => {
    const spy = vi.spyOn(metrics, 'addMetric');
    await post(fixtureBytes('text-message.json'), {});
    expect(metricCalls(spy)).toEqual([['InvalidSignatures', 1]]);
  });

  it('verifies escaped unicode, surrogate-pair emoji and raw UTF-8 accents, because the bytes are signed', async () => {
    const body = Buffer.from(
      '{"object":"whatsapp_business_account","entry":[{"id":"210000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",' +
        '"metadata":{"display_phone_number":"15550001001","phone_number_id":"110000000000001"},' +
        '"messages":[{"from":"5511987650001","id":"wamid.UNICODE","timestamp":"1764230400","type":"text","text":{"body":"Ol\\u00e1 \\ud83d\\udc4d São Paulo ação"}}]}}]}]}',
      'utf8',
    );
    const response = await post(body);
    expect(response.statusCode).toBe(200);
    expect(publisher.published[0]!.detail).toMatchObject({ message: { text: { body: 'Olá 👍 São Paulo ação' } } });
  });

  it('verifies a base64-encoded event against the decoded bytes', async () => {
    const body = fixtureBytes('template-quick-reply.json');
    const response = await post(body, { 'x-hub-signature-256': sign(body) }, 'base64');
    expect(response.statusCode).toBe(200);
    expect(publisher.published).toHaveLength(1);
  });

  it('answers 400 to malformed JSON', async () => {
    const response = await post(Buffer.from('{"object":"whatsapp_business_account",'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body as string).error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 400 to a payload that is not a WhatsApp Business Account one', async () => {
    const response = await post(Buffer.from('{"object":"page","entry":[]}'));
    expect(response.statusCode).toBe(400);
    expect(publisher.published).toEqual([]);
  });

  it('answers 413 over 5 MiB, measured on the decoded bytes', async () => {
    const body = Buffer.alloc(MAX_DELIVERY_BYTES + 1, 0x20);
    const response = await post(body, { 'x-hub-signature-256': sign(body) }, 'base64');
    expect(response.statusCode).toBe(413);
  });

  it('accepts a base64 body whose encoding is over 5 MiB but whose bytes are not', async () => {
    const json = fixtureBytes('text-message.json');
    const body = Buffer.concat([json, Buffer.alloc(MAX_DELIVERY_BYTES - json.length, 0x20)]);
    expect(body.toString('base64').length).toBeGreaterThan(MAX_DELIVERY_BYTES);
    const response = await post(body, { 'x-hub-signature-256': sign(body) }, 'base64');
    expect(response.statusCode).toBe(200);
  });

  it('answers 200, publishes nothing and counts an unknown phone_number_id as unrouted', async () => {
    const spy = vi.spyOn(metrics, 'addMetric');
    const response = await post(fixtureBytes('unknown-number.json'));
    expect(response.statusCode).toBe(200);
    expect(publisher.published).toEqual([]);
    expect(metricCalls(spy)).toContainEqual(['UnroutedEvents', 1]);
  });

  it('counts deliveries and published events', async () => {
    const spy = vi.spyOn(metrics, 'addMetric');
    await post(fixtureBytes('two-numbers-one-delivery.json'));
    expect(metricCalls(spy)).toEqual([
      ['Deliveries', 1],
      ['EventsPublished', 3],
    ]);
  });

  it('answers 500 with a generic body when the bus refuses, so Meta redelivers', async () => {
    publisher.failWith = new EventsNotPublished(1, 1, 'throttled');
    const spy = vi.spyOn(metrics, 'addMetric');
    const response = await post(fixtureBytes('text-message.json'));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body as string)).toEqual({ error: { code: 'EVENTS_NOT_PUBLISHED', message: 'Internal error.' } });
    expect(metricCalls(spy)).toContainEqual(['PublishFailures', 1]);
  });

  it('answers 500 when the route lookup fails, rather than dropping the delivery', async () => {
    deps.routes = { byPhoneNumberId: () => Promise.reject(new Error('table unavailable')), byWaba: async () => [] };
    const response = await post(fixtureBytes('text-message.json'));
    expect(response.statusCode).toBe(500);
    expect(publisher.published).toEqual([]);
  });

  it('applies the channel status of a quality update after publishing it', async () => {
    await post(fixtureBytes('phone-number-quality-update.json'));
    expect(channelStatus.applied).toEqual([
      {
        accountId: 'acc_fixture0001',
        whatsapp_phno: '15550001002',
        at: '2025-11-27T08:06:40.000Z',
        messagingLimitTier: 'TIER_10K',
        lastChannelEvent: 'phone_number_quality_update:UPGRADE',
      },
    ]);
  });

  it('does not touch channel status when publishing failed', async () => {
    publisher.failWith = new EventsNotPublished(1, 1, 'throttled');
    await post(fixtureBytes('phone-number-quality-update.json'));
    expect(channelStatus.applied).toEqual([]);
  });
});
