/** The peer as a Lambda entry point (bundled and cold-started beside ours): clients at module scope, as usual. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type PeerRoute, createPeerHandler } from './ingest.js';

const client = new DynamoDBClient({});
const doc = DynamoDBDocumentClient.from(client);
const bus = new EventBridgeClient({});
const secrets = new SecretsManagerClient({});
const tableName = process.env.TABLE_NAME ?? 'table';
const routes = new Map<string, Promise<PeerRoute | undefined>>();

let peer: ReturnType<typeof createPeerHandler> | undefined;

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  if (!peer) {
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: process.env.WHATSAPP_APP_SECRET_SECRET_ARN }));
    peer = createPeerHandler({
      appSecret: secret.SecretString ?? '',
      client,
      doc,
      tableName,
      idempotencyTableName: process.env.IDEMPOTENCY_TABLE_NAME ?? 'idempotency',
      route: (phoneNumberId) => {
        let route = routes.get(phoneNumberId);
        if (!route) {
          route = doc.send(new GetCommand({ TableName: tableName, Key: { pk: `PNID#${phoneNumberId}`, sk: 'ROUTE' } })).then(({ Item }) => Item as PeerRoute | undefined);
          routes.set(phoneNumberId, route);
        }
        return route;
      },
      publish: async (events) => {
        for (let i = 0; i < events.length; i += 10) {
          await bus.send(new PutEventsCommand({ Entries: events.slice(i, i + 10).map((e) => ({ ...e, EventBusName: process.env.EVENT_BUS_NAME })) }));
        }
      },
    });
  }
  return peer(event as never, context);
}
