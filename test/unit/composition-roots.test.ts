/**
 * Each function's composition root (`functions/<fn>/deps.ts`, `awsDeps`):
 * in AWS the functions publish to EventBridge on the configured bus, every
 * required setting fails at cold start with its name, and the handler
 * factories use the adapters they are given (the local runtime's bus), never
 * a global one.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/eventbridge/publisher.js';
import { LocalBus } from '../../functions/adapters/local/event-bus.js';
import { awsDeps as apiAwsDeps } from '../../functions/api/deps.js';
import { awsDeps as broadcastAwsDeps } from '../../functions/broadcast/deps.js';
import { awsDeps as inboxAwsDeps } from '../../functions/inbox/deps.js';
import { awsDeps as integrationAwsDeps } from '../../functions/integration/deps.js';
import { awsDeps as mediaAwsDeps } from '../../functions/media/deps.js';
import { awsDeps as senderAwsDeps } from '../../functions/sender/deps.js';
import { makeWebhookHandler } from '../../functions/webhook/app.js';
import { awsDeps as webhookAwsDeps } from '../../functions/webhook/deps.js';
import { awsDeps as webhookDeliveryAwsDeps } from '../../functions/webhook-delivery/deps.js';
import { awsDeps as webhookDispatchAwsDeps } from '../../functions/webhook-dispatch/deps.js';
import { APP_SECRET, InMemoryRoutes, RecordingChannelStatus, fixtureBytes, sign } from '../support/webhook.js';

const TABLE = { TABLE_NAME: 'whatsapp-test', AWS_REGION: 'us-east-1' };
const SECRETS = { WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'verify', WHATSAPP_ACCESS_TOKEN: 'token', WEBHOOK_SIGNING_KEY: 'signing-key' };
const DEFERRED_SENDS = {
  DEFERRED_SENDS_GROUP: 'whatsapp-test-deferred-sends',
  DEFERRED_SENDS_ROLE_ARN: 'arn:aws:iam::000000000000:role/deferred-sends',
  DEFERRED_SENDS_TARGET_ARN: 'arn:aws:sqs:us-east-1:000000000000:send',
  DEFERRED_SENDS_DLQ_ARN: 'arn:aws:sqs:us-east-1:000000000000:deferred-sends-dlq',
};
const AWS_ENV = { ...TABLE, ...SECRETS, ...DEFERRED_SENDS, EVENT_BUS_NAME: 'whatsapp-bus', SEND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send',
  WEBHOOK_DELIVERY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-delivery',
  WEBHOOK_DELIVERY_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-delivery-dlq',
  MEDIA_BUCKET_NAME: 'whatsapp-test-media-000000000000-us-east-1',
};

const without = (name: string) => Object.fromEntries(Object.entries(AWS_ENV).filter(([key]) => key !== name));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('awsDeps', () => {
  it('publishes to EventBridge, on the bus EVENT_BUS_NAME names (webhook, api, sender)', async () => {
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const publishers = [webhookAwsDeps(AWS_ENV).publisher, apiAwsDeps(AWS_ENV).events, senderAwsDeps(AWS_ENV).events];
    for (const publisher of publishers) {
      expect(publisher).toBeInstanceOf(EventBridgePublisher);
      await publisher.publish([{ source: 'whatsapp.api', 'detail-type': 'Test', detail: { eventId: 'e-1' } }]);
    }
    const buses = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.[0]?.EventBusName);
    expect(buses).toEqual(['whatsapp-bus', 'whatsapp-bus', 'whatsapp-bus']);
    eventBridge.restore();
  });

  it.each([
    ['webhook', webhookAwsDeps, 'EVENT_BUS_NAME'],
    ['api', apiAwsDeps, 'EVENT_BUS_NAME'],
    ['sender', senderAwsDeps, 'EVENT_BUS_NAME'],
    ['broadcast', broadcastAwsDeps, 'SEND_QUEUE_URL'],
    ['inbox', inboxAwsDeps, 'TABLE_NAME'],
    ['integration', integrationAwsDeps, 'TABLE_NAME'],
    ['integration', integrationAwsDeps, 'WEBHOOK_SIGNING_KEY'],
    ['webhook', webhookAwsDeps, 'TABLE_NAME'],
    ['webhook', webhookAwsDeps, 'WHATSAPP_APP_SECRET'],
    ['webhook', webhookAwsDeps, 'WHATSAPP_VERIFY_TOKEN'],
    ['api', apiAwsDeps, 'WHATSAPP_ACCESS_TOKEN'],
    ['sender', senderAwsDeps, 'WHATSAPP_ACCESS_TOKEN'],
    ['sender', senderAwsDeps, 'DEFERRED_SENDS_GROUP'],
    ['api', apiAwsDeps, 'WEBHOOK_SIGNING_KEY'],
    ['webhook-dispatch', webhookDispatchAwsDeps, 'WEBHOOK_DELIVERY_QUEUE_URL'],
    ['webhook-delivery', webhookDeliveryAwsDeps, 'WEBHOOK_DELIVERY_QUEUE_URL'],
    ['webhook-delivery', webhookDeliveryAwsDeps, 'WEBHOOK_DELIVERY_DLQ_URL'],
    ['webhook-delivery', webhookDeliveryAwsDeps, 'WEBHOOK_SIGNING_KEY'],
    ['media', mediaAwsDeps, 'MEDIA_BUCKET_NAME'],
    ['media', mediaAwsDeps, 'WHATSAPP_ACCESS_TOKEN'],
    ['media', mediaAwsDeps, 'TABLE_NAME'],
    ['api', apiAwsDeps, 'MEDIA_BUCKET_NAME'],
  ] as const)('fails at cold start for the %s function naming %s when it is not set', (_fn, awsDeps, name) => {
    expect(() => awsDeps(without(name))).toThrow(new RegExp(name));
  });
});

describe('makeWebhookHandler', () => {
  const context = { functionName: 'webhook', awsRequestId: 'req-1' } as Context;
  const delivery = (name: string) => {
    const body = fixtureBytes(name);
    return {
      rawPath: '/webhook',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body) },
      body: body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2;
  };

  it('publishes every delivery through the one bus it was given (the local runtime’s), whatever EVENT_BUS_NAME says', async () => {
    vi.stubEnv('EVENT_BUS_NAME', 'whatsapp-bus');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const bus = new LocalBus();
    const handler = makeWebhookHandler({
      appSecret: async () => APP_SECRET,
      verifyToken: async () => 'verify',
      routes: new InMemoryRoutes(),
      publisher: bus,
      channelStatus: new RecordingChannelStatus(),
      clock: { now: () => new Date('2026-11-27T12:00:00.000Z') },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'test', serviceName: 'webhook-test' }),
    });
    expect((await handler(delivery('text-message.json'), context)).statusCode).toBe(200);
    expect((await handler(delivery('status-read.json'), context)).statusCode).toBe(200);
    expect(bus.recentEvents().map(({ event }) => event['detail-type'])).toEqual(['WhatsApp Message Received', 'WhatsApp Message Status Updated']);
  });
});
