/**
 * The floor under the webhook's bundle and cold start: only the AWS SDK
 * clients and commands the webhook uses, created at module scope as the
 * webhook creates them, and a handler making the calls the webhook's first
 * delivery makes (the app secret, one route read, one PutEvents). Whatever
 * the webhook weighs or takes beyond this is ours to cut.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), { marshallOptions: { removeUndefinedValues: true } });
const events = new EventBridgeClient({});
const secrets = new SecretsManagerClient({});
const table = process.env.TABLE_NAME ?? 'table';

/** Commands the webhook sends on other deliveries (WABA routes, channel status): bundled, not called here. */
export const unused = { QueryCommand, UpdateCommand, ConditionalCheckFailedException };

export async function handler(): Promise<{ statusCode: number; body: string }> {
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: process.env.WHATSAPP_APP_SECRET_SECRET_ARN }));
  const route = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'PNID#110000000000002', sk: 'ROUTE' }, ConsistentRead: true }));
  await events.send(new PutEventsCommand({ Entries: [{ Source: 'bench', DetailType: 'bench', Detail: JSON.stringify(route.Item ?? {}), EventBusName: process.env.EVENT_BUS_NAME }] }));
  return { statusCode: 200, body: JSON.stringify({ secret: Boolean(secret.SecretString) }) };
}
