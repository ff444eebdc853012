/**
 * `POST /webhook`: one delivery from Meta, from raw bytes to "every event is
 * on the bus" (docs/architecture.md, "The webhook"):
 *
 * 413 over 5 MiB (decoded bytes) → 401 unless the signature matches the raw
 * bytes (nothing stored or published) → 400 unless it is JSON with
 * `object: whatsapp_business_account` → one event per item
 * (`ingestDelivery`) → publish → channel status → 200. A bus or table failure
 * answers 500 so Meta redelivers; unrouted and invalid items answer 200
 * (retrying cannot fix them) and are logged and counted.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WebhookEvent } from '../../schemas/events.js';
import { DETAIL_TYPES } from '../../schemas/events.js';
import { webhookEnvelope } from '../../schemas/meta-webhook.js';
import { type HttpResponse, errorResponse, header, json, parseJsonBytes, rawBody } from '../commons/http.js';
import { type ChannelStatusWriter, channelStatusChange } from '../core/channel-status.js';
import { AppError, PayloadTooLarge, Unauthenticated, ValidationFailed } from '../core/errors.js';
import { type Ingestion, type NumberRouteLookup, ingestDelivery } from '../core/ingestion.js';
import type { Clock, EventPublisher } from '../core/ports.js';
import { verifySignature } from './signature.js';

/** Meta's batches reach ~3 MB and must pass; API Gateway's own limit is higher than Lambda's, so we check too. */
export const MAX_DELIVERY_BYTES = 5 * 1024 * 1024;

const DEBUG_LEVELS: ReadonlySet<string> = new Set(['TRACE', 'DEBUG']);

export interface DeliveryDeps {
  appSecret: () => Promise<string>;
  routes: NumberRouteLookup;
  publisher: EventPublisher;
  channelStatus: ChannelStatusWriter;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

export type DeliveryRequest = Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded' | 'headers'>;

export async function receiveDelivery(request: DeliveryRequest, deps: DeliveryDeps): Promise<HttpResponse> {
  const { logger, metrics } = deps;
  try {
    const body = rawBody(request);
    if (body.length > MAX_DELIVERY_BYTES) throw new PayloadTooLarge(MAX_DELIVERY_BYTES);
    if (!verifySignature(body, header(request, 'x-hub-signature-256'), await deps.appSecret())) {
      metrics.addMetric('InvalidSignatures', MetricUnit.Count, 1);
      logger.warn('webhook delivery refused: missing or wrong X-Hub-Signature-256', { bytes: body.length });
      throw new Unauthenticated('The X-Hub-Signature-256 header is missing or does not match the body.');
    }
    metrics.addMetric('Deliveries', MetricUnit.Count, 1);
    const envelope = parseEnvelope(body);

    const ingestion = await ingestDelivery(envelope.entry, deps.routes, deps.clock.now().toISOString());
    report(ingestion, deps);
    try {
      await deps.publisher.publish(ingestion.events);
    } catch (error) {
      metrics.addMetric('PublishFailures', MetricUnit.Count, 1);
      throw error;
    }
    metrics.addMetric('EventsPublished', MetricUnit.Count, ingestion.events.length);
    // A 3 MB batch is 10,000 events: their debug lines are built only when they will be written.
    if (DEBUG_LEVELS.has(logger.getLevelName())) {
      for (const event of ingestion.events) logger.debug('event published', { ...eventKeys(event), detailType: event['detail-type'] });
    }

    await applyChannelStatus(ingestion.events, deps);
    return json(200, { published: ingestion.events.length, unrouted: ingestion.unrouted.length, invalid: ingestion.invalid.length });
  } catch (error) {
    if (!(error instanceof AppError) || !error.expose) logger.error('webhook delivery failed', { error: error as Error });
    return errorResponse(error);
  }
}

function parseEnvelope(body: Buffer) {
  // Not JSON or with a `__proto__` key: 400 naming the problem. Bytes that are not UTF-8 are read as U+FFFD: the
  // signature held, so Meta sent them, and refusing would only make it redeliver the same bytes until it gives up.
  const json = parseJsonBytes(body, { invalidUtf8: 'replace' });
  const envelope = webhookEnvelope.safeParse(json);
  if (!envelope.success) {
    const issues = envelope.error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)], message: issue.message, code: issue.code }));
    throw new ValidationFailed(issues, 'Not a WhatsApp Business Account webhook payload (object: whatsapp_business_account, entry: [...]).');
  }
  return envelope.data;
}

/** Every line about an event names it, its account and its number. */
function eventKeys(event: WebhookEvent) {
  return { eventId: event.detail.eventId, accountId: event.detail.accountId, whatsapp_phno: event.detail.whatsapp_phno };
}

function report(ingestion: Ingestion, { logger, metrics }: DeliveryDeps) {
  for (const item of ingestion.unrouted) {
    logger.warn('unrouted: no account has connected this number; answered 200, nothing published', { ...item });
  }
  for (const item of ingestion.invalid) {
    logger.warn('item skipped: it does not match the Meta webhook schema', { ...item });
  }
  for (const item of ingestion.changeErrors) {
    logger.warn('Meta reported errors on a messages change', { ...item });
  }
  if (ingestion.unrouted.length) metrics.addMetric('UnroutedEvents', MetricUnit.Count, ingestion.unrouted.length);
  if (ingestion.invalid.length) metrics.addMetric('InvalidItems', MetricUnit.Count, ingestion.invalid.length);
}

type NumberUpdatedEvent = Extract<WebhookEvent, { 'detail-type': typeof DETAIL_TYPES.numberUpdated }>;

async function applyChannelStatus(events: WebhookEvent[], deps: DeliveryDeps) {
  // Number updates are a handful among thousands of messages and statuses: pick them first, no promise per event.
  const updates = events.filter((event): event is NumberUpdatedEvent => event['detail-type'] === DETAIL_TYPES.numberUpdated);
  await Promise.all(
    updates.map(async (event) => {
      const change = channelStatusChange(event.detail);
      if (!change) return;
      const outcome = await deps.channelStatus.apply(change);
      deps.logger.info('channel status', { ...eventKeys(event), outcome, ...change });
    }),
  );
}
