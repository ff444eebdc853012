/**
 * The embedded runtime behind `npm start` (docs/architecture.md, "The local runtime"): DynamoDB Local with
 * the shared table definition, and an HTTP server on 127.0.0.1 that feeds the
 * very same Lambda handlers API Gateway v2 events. Used by `local/main.ts` and
 * by the end-to-end tests.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { LocalDeferredScheduler } from '../functions/adapters/local/deferred-scheduler.js';
import { LocalStepTimers } from '../functions/adapters/local/step-timers.js';
import { LocalTurnTimers } from '../functions/adapters/local/turn-timers.js';
import { SEQUENCE_STEP_DUE, timerEnvelope } from '../schemas/automation-timers.js';
import { LocalBus, type LocalBusOptions } from '../functions/adapters/local/event-bus.js';
import { LocalSendQueue } from '../functions/adapters/local/send-queue.js';
import { LocalWebhookDeliveryQueue } from '../functions/adapters/local/webhook-delivery-queue.js';
import { LocalLiveHub } from '../functions/adapters/local/live-hub.js';
import { LocalMediaStore } from '../functions/adapters/local/media-store.js';
import { registerMediaRequest } from './graph-media.js';
import { attachLiveServer } from './live-server.js';
import type { ApiReferenceHandler } from './api-reference.js';
import { type LocalAuth, createLocalAuth, tokenRequest } from './auth.js';
import { type DynamoDbLocal, ensureTable, startDynamoDbLocal } from './dynamodb-local.js';
import { answerClientError, lambdaContext, readBody, sendJson, toApiGatewayEvent, toAuthorizerEvent, writeResult } from './http-event.js';
import { API_KEY_HEADER, API_KEY_PATH_PREFIX } from '../schemas/api-keys.js';
import { type GraphSimulator, startGraphSimulator, tableNumberLookup } from './graph-simulator.js';

/** The local defaults (README, "npm start options"); environment variables override them. */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  WHATSAPP_APP_SECRET: 'local-app-secret',
  WHATSAPP_VERIFY_TOKEN: 'local-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'local-access-token',
  TABLE_NAME: 'whatsapp-local',
  /** Outgoing webhooks' master key: subscription secrets are derived from it (a Secrets Manager secret in AWS). */
  WEBHOOK_SIGNING_KEY: 'local-webhook-signing-key',
} as const;

export interface LocalRuntimeOptions {
  /** 0 picks a free port. */
  port: number;
  persistDir?: string;
  /** Extra environment for the handlers (secrets, table name); defaults above. */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** The in-process bus's retry and dead-letter settings (`functions/adapters/local/event-bus.ts`). */
  bus?: Omit<LocalBusOptions, 'log'>;
}

export interface LocalRuntime {
  url: string;
  port: number;
  dynamoEndpoint: string;
  tableName: string;
  env: Record<string, string>;
  /** The in-process EventBridge: consumers `register` on its rules. */
  bus: LocalBus;
  /** The broadcast send queue (in-process SQS): one message per chunk, consumed by the sender. */
  sendQueue: LocalSendQueue;
  /** Deferred broadcast rounds waiting for the messaging limit (EventBridge Scheduler in AWS). */
  scheduler: LocalDeferredScheduler;
  /** Outgoing webhooks' delivery queue (in-process SQS): one message per attempt, delayed by the backoff. */
  webhookQueue: LocalWebhookDeliveryQueue;
  /** Live updates: the open ws://…/ws sockets, by account and numbers. */
  live: LocalLiveHub;
  /** Media files (S3 in AWS): `--persist DIR` → `DIR/media`, else a temporary folder removed on stop; served at /local/media/…. */
  media: LocalMediaStore;
  mediaDir: string;
  /** The Graph API simulator (its media library: `graph.media`). */
  graph: GraphSimulator;
  stop(): Promise<void>;
}

/** Meta's deliveries reach ~3 MB; above this API Gateway (and we) refuse with 413. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => undefined);
  const dynamo: DynamoDbLocal = await startDynamoDbLocal({ persistDir: options.persistDir });
  let graph: GraphSimulator | undefined;
  try {
    const env = {
      WHATSAPP_APP_SECRET: process.env.WHATSAPP_APP_SECRET ?? LOCAL_DEFAULTS.WHATSAPP_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: process.env.WHATSAPP_VERIFY_TOKEN ?? LOCAL_DEFAULTS.WHATSAPP_VERIFY_TOKEN,
      WHATSAPP_ACCESS_TOKEN: process.env.WHATSAPP_ACCESS_TOKEN ?? LOCAL_DEFAULTS.WHATSAPP_ACCESS_TOKEN,
      WEBHOOK_SIGNING_KEY: process.env.WEBHOOK_SIGNING_KEY ?? LOCAL_DEFAULTS.WEBHOOK_SIGNING_KEY,
      TABLE_NAME: process.env.TABLE_NAME ?? LOCAL_DEFAULTS.TABLE_NAME,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // One process and a local table: the webhook re-reads routes every time, so connecting, moving or removing a number takes effect at once.
      ROUTE_CACHE_TTL_SECONDS: process.env.ROUTE_CACHE_TTL_SECONDS ?? '0',
      ROUTE_CACHE_MISS_TTL_SECONDS: process.env.ROUTE_CACHE_MISS_TTL_SECONDS ?? '0',
      ...options.env,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    };
    await ensureTable(dynamo.endpoint, env.TABLE_NAME);
    // The Graph API simulator: sends go to it, and it calls /webhook back like Meta (base URL set once listening).
    graph = await startGraphSimulator({
      appSecret: env.WHATSAPP_APP_SECRET,
      accessToken: env.WHATSAPP_ACCESS_TOKEN,
      lookupNumber: tableNumberLookup({ endpoint: dynamo.endpoint, tableName: env.TABLE_NAME }),
      log,
    });
    Object.assign(env, { GRAPH_API_BASE_URL: options.env?.GRAPH_API_BASE_URL ?? graph.url });
    // Powertools reads its own settings when the logger and metrics are made, at the first import of a function's
    // code as in a Lambda cold start: those two go in the environment first. Everything else is passed, not set.
    process.env.POWERTOOLS_LOG_LEVEL = env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_METRICS_DISABLED = env.POWERTOOLS_METRICS_DISABLED;
    const { wireLocalFunctions } = await import('./functions.js');
    // The API reference reads the route table, whose modules make the logger and metrics: imported here too, never statically.
    const { apiReference } = await import('./api-reference.js');
    // The in-process bus behind the rules (inbox, broadcast), and the send queue the sender takes one chunk at a time from.
    const bus = new LocalBus({ ...options.bus, log });
    const sendQueue = new LocalSendQueue({ log });
    const webhookQueue = new LocalWebhookDeliveryQueue({ log });
    // Live updates: what the consumers and the API write goes to the ws://…/ws sockets that may see it.
    const live = new LocalLiveHub(log);
    // Media files in a folder, served by this runtime with signed URLs like S3's presigned ones (the key is this run's).
    const mediaDir = options.persistDir ? join(options.persistDir, 'media') : await mkdtemp(join(tmpdir(), 'whatsapp-media-'));
    const media = new LocalMediaStore({ dir: mediaDir, baseUrl: () => url, signingKey: randomBytes(32).toString('hex') });
    // Deferred rounds: timers onto the send queue, kept in the persist folder across restarts.
    const scheduler = new LocalDeferredScheduler(sendQueue, { log, ...(options.persistDir ? { file: join(options.persistDir, 'deferred-sends.json') } : {}) });
    // Sequence steps: timers onto the automation rule's queue (EventBridge Scheduler in AWS), kept across restarts too.
    const stepTimers = new LocalStepTimers(async (due) => bus.sendToQueue('automation', JSON.stringify(timerEnvelope(SEQUENCE_STEP_DUE, due))), {
      log,
      ...(options.persistDir ? { file: join(options.persistDir, 'sequence-steps.json') } : {}),
    });
    // AI turns: their due message onto the automation rule's queue after the debounce (SQS DelaySeconds in AWS), kept across restarts.
    const turnTimers = new LocalTurnTimers((body) => bus.sendToQueue('automation', body), {
      log,
      ...(options.persistDir ? { file: join(options.persistDir, 'ai-turns.json') } : {}),
    });
    const { api, webhook, authorizer, integrationSink, liveSubscribe } = wireLocalFunctions({
      table: { tableName: env.TABLE_NAME, endpoint: dynamo.endpoint, region: env.AWS_REGION },
      bus,
      sendQueue,
      scheduler,
      stepTimers,
      turnTimers,
      webhookQueue,
      live,
      media,
      settings: { ...process.env, ...env },
    });

    // Everything a request can reach exists before the port opens: nothing answers before it is ready.
    const auth: LocalAuth = await createLocalAuth({ jwksUri: 'http://127.0.0.1/local/.well-known/jwks.json', persistDir: options.persistDir });
    const unauthenticated = auth.persistent
      ? 'A valid bearer token is required: mint one with POST /local/token.'
      : 'A valid bearer token is required: mint one with POST /local/token. In memory mode tokens are signed by a key made for this run, so tokens from before a restart are refused (start with --persist DIR to keep them).';
    let url = '';
    // Built once the URL is known (its `servers` entry names it), before any request is handled.
    let reference: ApiReferenceHandler = () => false;
    const server = createServer((req, res) => {
      handle(req, res).catch((error: unknown) => {
        log(`local runtime error: ${(error as Error).stack ?? error}`);
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } });
      });
    });

    // What Node's parser refuses (headers over 16 KB, bytes that are not HTTP): a JSON 431 or 400, as every refusal.
    server.on('clientError', answerClientError);

    // ws://…/ws?token=JWT: the WebSocket API's protocol on the same port (local/live-server.ts).
    const liveServer = attachLiveServer(server, { auth, hub: live, subscribe: liveSubscribe, log });

    async function handle(req: IncomingMessage, res: ServerResponse) {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      // Files (up to 100 MB) are read by their own handlers, before the API's 5 MiB body reader.
      if (path === '/local/graph/media' && req.method === 'POST') return registerMediaRequest(graph!.media, req, res);
      if (await media.serve(req, res)) return;
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body === 'too-large') {
        // The rest of the body was read and dropped, so the client gets to read this answer; then the connection closes.
        res.setHeader('connection', 'close');
        sendJson(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: `The body is larger than ${MAX_BODY_BYTES} bytes.` } });
        return;
      }
      // The API reference (GET /openapi.json and /docs): no token needed.
      if (reference(req, res)) return;
      if (path === '/local/token' && req.method === 'POST') {
        const parsed = tokenRequest.safeParse(safeJson(body));
        if (!parsed.success) {
          sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: 'Send {role, accountId?}.', issues: parsed.error.issues } });
          return;
        }
        sendJson(res, 200, { token: await auth.mint(parsed.data) });
        return;
      }
      if (path === '/local/graph/messages' && req.method === 'GET') {
        sendJson(res, 200, { items: graph!.sentMessages() });
        return;
      }
      if (path === '/local/graph/read-receipts' && req.method === 'GET') {
        sendJson(res, 200, { items: graph!.readReceipts() });
        return;
      }
      if (path === '/local/bus/events' && req.method === 'GET') {
        sendJson(res, 200, { items: bus.recentEvents() });
        return;
      }
      if (path === '/local/bus/dead-letters' && req.method === 'GET') {
        sendJson(res, 200, { items: bus.deadLetters() });
        return;
      }
      // Answers once every bus delivery under way (retries included) has finished: `npm run replay` reads the dead letters then.
      if (path === '/local/bus/drain' && req.method === 'POST') {
        await bus.drain();
        sendJson(res, 200, { deadLetters: bus.deadLetters().length });
        return;
      }
      // Operator tools (`npm run redrive`, README "Runbook: a DLQ alarm fired"): dead letters back to the consumer they failed on.
      if (path === '/local/bus/dead-letters/redrive' && req.method === 'POST') {
        const parsed = busRedriveRequest.safeParse(safeJson(body));
        if (!parsed.success) {
          sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: 'Send {} or {rule}.', issues: parsed.error.issues } });
          return;
        }
        const redriven = bus.redrive(parsed.data);
        sendJson(res, 200, { redriven, remaining: bus.deadLetters().length });
        return;
      }
      // The archive replay (EventBridge StartReplay): the recorded events of a window, again to the consumers.
      if (path === '/local/bus/replay' && req.method === 'POST') {
        const parsed = busReplayRequest.safeParse(safeJson(body));
        if (!parsed.success) {
          sendJson(res, 400, { error: { code: 'VALIDATION_FAILED', message: 'Send {from, to, name?}: ISO 8601 times, from before to.', issues: parsed.error.issues } });
          return;
        }
        sendJson(res, 200, { replayed: bus.replay(parsed.data) });
        return;
      }
      if (path === '/local/send-queue/dead-letters/redrive' && req.method === 'POST') {
        sendJson(res, 200, { redriven: sendQueue.redrive(), remaining: sendQueue.deadLetters().length });
        return;
      }
      if (path === '/local/webhook-deliveries/dead-letters/redrive' && req.method === 'POST') {
        sendJson(res, 200, { redriven: webhookQueue.redrive(), remaining: webhookQueue.deadLetters().length });
        return;
      }
      if (path === '/local/send-queue/dead-letters' && req.method === 'GET') {
        sendJson(res, 200, { items: sendQueue.deadLetters() });
        return;
      }
      if (path === '/local/webhook-deliveries/dead-letters' && req.method === 'GET') {
        sendJson(res, 200, { items: webhookQueue.deadLetters() });
        return;
      }
      if (path === '/local/scheduler' && req.method === 'GET') {
        sendJson(res, 200, { items: scheduler.list() });
        return;
      }
      if (path === '/local/sequence-steps' && req.method === 'GET') {
        sendJson(res, 200, { items: stepTimers.list() });
        return;
      }
      if (path === '/local/integrations/events' && req.method === 'GET') {
        sendJson(res, 200, { items: integrationSink.recorded() });
        return;
      }
      if (path === '/local/.well-known/jwks.json') {
        sendJson(res, 200, auth.jwks);
        return;
      }
      if (path === '/webhook') {
        writeResult(res, await webhook(toApiGatewayEvent(req, body), lambdaContext('webhook')));
        return;
      }
      // The API with an API key: as behind the HTTP API's Lambda authorizer (the same handler), with AWS's 401 and 403.
      if (path.startsWith(`${API_KEY_PATH_PREFIX}/`)) {
        if (req.headers[API_KEY_HEADER] === undefined) {
          sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: `Send the API key in the ${API_KEY_HEADER} header.` } });
          return;
        }
        const decision = await authorizer(toAuthorizerEvent(req, API_KEY_HEADER), lambdaContext('authorizer'));
        if (!decision.isAuthorized) {
          sendJson(res, 403, { error: { code: 'FORBIDDEN', message: 'The API key is not valid (unknown or deleted).' } });
          return;
        }
        writeResult(res, await api(toApiGatewayEvent(req, body, undefined, decision.context), lambdaContext('api')));
        return;
      }
      // The dashboard API: as behind the HTTP API's JWT authorizer, a missing or bad token never reaches the handler.
      const claims = await auth.verify(req.headers.authorization);
      if (path.startsWith('/v1/') && !claims) {
        sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: unauthenticated } });
        return;
      }
      writeResult(res, await api(toApiGatewayEvent(req, body, claims), lambdaContext('api')));
    }

    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        // Synchronously in the listening callback: no connection is handled before the URL is known here and to the simulator.
        const bound = (server.address() as { port: number }).port;
        url = `http://127.0.0.1:${bound}`;
        reference = apiReference(url);
        graph!.setWebhookBaseUrl(url);
        resolve(bound);
      });
    });

    return {
      url,
      port,
      dynamoEndpoint: dynamo.endpoint,
      tableName: env.TABLE_NAME,
      env,
      bus,
      sendQueue,
      scheduler,
      webhookQueue,
      live,
      media,
      mediaDir,
      graph: graph!,
      async stop() {
        // Queued deliveries are dropped; the batches already with a consumer finish while the table is still up.
        scheduler.stop();
        stepTimers.stop();
        turnTimers.stop();
        bus.stop();
        sendQueue.stop();
        webhookQueue.stop();
        await Promise.all([bus.drain(), sendQueue.drain(), webhookQueue.drain()]);
        liveServer.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await graph?.stop();
        await dynamo.stop();
        if (!options.persistDir) await rm(mediaDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await graph?.stop();
    await dynamo.stop();
    throw error;
  }
}

const busRedriveRequest = z.strictObject({ rule: z.string().min(1).optional() });
const busReplayRequest = z
  .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), name: z.string().min(1).max(64).optional() })
  .refine((w) => Date.parse(w.from) <= Date.parse(w.to), { message: 'from must not be after to', path: ['to'] });

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}
