/**
 * The media consumer's adapters. `createMediaConsumerDeps` binds them to a
 * table, a media store and a Graph API media source (the local runtime
 * passes its folder store and its simulator, tests theirs); `awsDeps` is the
 * Lambda's composition root: the S3 bucket (`MEDIA_BUCKET_NAME`), the Graph
 * API with the access token from Secrets Manager, read once per container.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { apiGatewayLiveUpdates } from '../adapters/apigw/live-updates.js';
import { createDocumentClient } from '../adapters/dynamo/client.js';
import { DynamoLiveConnectionStore } from '../adapters/dynamo/live-connections.js';
import { DynamoContactRepository } from '../adapters/dynamo/contact-repository.js';
import { DynamoMessageRepository } from '../adapters/dynamo/message-repository.js';
import { GraphMediaSource } from '../adapters/graph/graph-media.js';
import { S3MediaStore } from '../adapters/s3/media-store.js';
import { graphConfig, liveUpdatesConfig, mediaConfig, tableConfig } from '../commons/config.js';
import { systemClock } from '../commons/ids.js';
import { secretsFromEnv } from '../commons/secrets.js';
import type { MediaConsumerDeps, MediaSource } from '../core/inbound-media.js';
import type { LiveUpdates } from '../core/live-updates.js';
import type { MediaStore } from '../core/media-ports.js';
import type { Clock } from '../core/ports.js';

export interface MediaWiring {
  source: MediaSource;
  store: MediaStore;
  clock?: Clock;
  /** Dashboards' live updates (`message.updated` once a file is stored). */
  live?: LiveUpdates;
}

export function createMediaConsumerDeps(doc: DynamoDBDocumentClient, tableName: string, wiring: MediaWiring): MediaConsumerDeps {
  const clock = wiring.clock ?? systemClock;
  const messages = new DynamoMessageRepository(doc, tableName, clock);
  const contacts = new DynamoContactRepository(doc, tableName);
  return {
    source: wiring.source,
    store: wiring.store,
    clock,
    messages: {
      recordMedia: (target, media) => messages.recordMedia(target, media),
      hasMessage: (phoneNumberId, wamid) => messages.hasMessage(phoneNumberId, wamid),
      contactKeyForUserId: (accountId, whatsappPhno, userId) => contacts.contactKeyForUserId(accountId, whatsappPhno, userId),
    },
    ...(wiring.live ? { live: wiring.live } : {}),
  };
}

export function awsDeps(env: NodeJS.ProcessEnv = process.env): MediaConsumerDeps {
  const table = tableConfig(env);
  const graph = graphConfig(env);
  const media = mediaConfig(env);
  const doc = createDocumentClient(table);
  // Dashboards hear of a stored file when the stack gives the WebSocket API's endpoint (`message.updated`).
  const live = env.LIVE_UPDATES_ENDPOINT
    ? apiGatewayLiveUpdates(liveUpdatesConfig(env).LIVE_UPDATES_ENDPOINT, liveUpdatesConfig(env).AWS_REGION, new DynamoLiveConnectionStore(doc, table.tableName, systemClock))
    : undefined;
  return createMediaConsumerDeps(doc, table.tableName, {
    ...(live ? { live } : {}),
    source: new GraphMediaSource({ baseUrl: graph.GRAPH_API_BASE_URL, version: graph.GRAPH_API_VERSION, accessToken: secretsFromEnv(env)('WHATSAPP_ACCESS_TOKEN') }),
    store: new S3MediaStore({ bucketName: media.bucketName, region: media.region }),
  });
}
