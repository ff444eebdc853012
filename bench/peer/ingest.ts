/**
 * The peer: the webhook's ingest work done "the usual way", to measure ours
 * against. A middy chain: a signature middleware over the raw body, the
 * Powertools parser (API Gateway v2 envelope, the whole delivery parsed with
 * one zod schema), and per message the Powertools idempotency utility on its
 * own table plus a conditional credit debit, then one event per item put on
 * the bus. Not product code: it lives here so the comparison runs in every
 * `npm run bench`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ApiGatewayV2Envelope } from '@aws-lambda-powertools/parser/envelopes/api-gatewayv2';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { InboundMessage } from '../../schemas/meta-message.js';
import { type WebhookDelivery, webhookDelivery } from '../../schemas/meta-webhook.js';

type Delivery = WebhookDelivery;
type Message = InboundMessage;

export interface PeerRoute {
  accountId: string;
  whatsapp_phno: string;
}

export interface PeerEvent {
  Source: string;
  DetailType: string;
  Detail: string;
}

export interface PeerDeps {
  appSecret: string;
  /** The DynamoDB client the idempotency utility writes with, and the document client of the credit debit. */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tableName: string;
  idempotencyTableName: string;
  route: (phoneNumberId: string) => Promise<PeerRoute | undefined>;
  publish: (events: PeerEvent[]) => Promise<void>;
  /** What one inbound message costs, debited from the account's credit pool. */
  priceMicros?: number;
}

/** The usual signature check: HMAC-SHA256 of the raw body, refused with 401 before anything is parsed. */
function verifyMetaSignature(appSecret: string): MiddlewareObj {
  return {
    before: async (request) => {
      const event = request.event as APIGatewayProxyEventV2;
      const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      const given = Buffer.from((event.headers['x-hub-signature-256'] ?? '').replace(/^sha256=/, ''), 'hex');
      const expected = createHmac('sha256', appSecret).update(body).digest();
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { statusCode: 401, body: 'invalid signature' };
      return undefined;
    },
  };
}

export function createPeerHandler(deps: PeerDeps) {
  const logger = new Logger({ serviceName: 'peer', logLevel: 'WARN' });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: deps.idempotencyTableName, awsSdkV3Client: deps.client });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'message.id', expiresAfterSeconds: 10 * 24 * 3600 });
  const price = deps.priceMicros ?? 1;

  // Once per message: a redelivered message is neither debited nor published again.
  const recordMessage = makeIdempotent(
    async ({ message, route }: { message: Message; route: PeerRoute }): Promise<PeerEvent> => {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.tableName,
          Key: { pk: `A#${route.accountId}`, sk: 'CREDITS' },
          UpdateExpression: 'SET balanceMicros = balanceMicros - :price',
          ConditionExpression: 'balanceMicros >= :price',
          ExpressionAttributeValues: { ':price': price },
        }),
      );
      return { Source: 'whatsapp.webhook', DetailType: 'WhatsApp Message Received', Detail: JSON.stringify({ ...route, eventId: message.id, message }) };
    },
    { persistenceStore, config },
  );

  return middy<Delivery, { statusCode: number; body: string }, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(verifyMetaSignature(deps.appSecret))
    .use(parser({ schema: JSONStringified(webhookDelivery), envelope: ApiGatewayV2Envelope }))
    .handler(async (payload, context) => {
      config.registerLambdaContext(context);
      const events: PeerEvent[] = [];
      for (const entry of payload.entry) {
        for (const change of entry.changes) {
          if (change.field !== 'messages') continue;
          const value = change.value as Extract<Delivery['entry'][number]['changes'][number], { field: 'messages' }>['value'];
          const route = await deps.route(value.metadata.phone_number_id);
          if (!route) continue;
          for (const message of value.messages ?? []) events.push(await recordMessage({ message, route }));
          for (const status of value.statuses ?? []) {
            events.push({ Source: 'whatsapp.webhook', DetailType: 'WhatsApp Message Status Updated', Detail: JSON.stringify({ ...route, eventId: `${status.id}:${status.status}`, status }) });
          }
        }
      }
      await deps.publish(events);
      return { statusCode: 200, body: JSON.stringify({ published: events.length }) };
    });
}
