/**
 * The `http` integration (docs/integrations.md): each record POSTed as JSON
 * to the integration's URL through the outgoing webhooks' guarded transport
 * (`safePost` underneath: the URL checked again at every push, the socket
 * pinned to the checked address, no redirects, a deadline and a size cap),
 * and signed exactly as an outgoing webhook delivery (`deliveryHeaders`):
 *
 *   X-Webhook-Id:        the record's `recordId` (the same on every retry)
 *   X-Webhook-Timestamp: unix seconds of this attempt
 *   X-Signature-256:     sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
 *
 * Any answer but 2xx, a refused URL, a timeout or a redirect throws, so the
 * consumer's record is retried and finally dead-lettered.
 */
import type { IntegrationRecord } from '../../../schemas/integrations.js';
import { OutboundRequestFailed } from '../../core/errors.js';
import type { IntegrationSink, StoredIntegration } from '../../core/integration-ports.js';
import type { WebhookTransport } from '../../core/outgoing-webhook-ports.js';
import { deliveryHeaders, subscriptionSecret } from '../../core/outgoing-webhooks.js';
import type { Clock } from '../../core/ports.js';

export interface HttpIntegrationSinkOptions {
  /** The guarded HTTP client (https only, no loopback in AWS). */
  transport: Pick<WebhookTransport, 'post'>;
  /** The master signing key: an integration's secret is derived from it and the integration's id. */
  signingKey: () => Promise<string>;
  clock: Clock;
}

export class HttpIntegrationSink implements IntegrationSink {
  constructor(private readonly options: HttpIntegrationSinkOptions) {}

  async push(integration: StoredIntegration, record: IntegrationRecord): Promise<void> {
    const body = JSON.stringify(record);
    const secret = subscriptionSecret(await this.options.signingKey(), integration.integrationId);
    const timestamp = Math.floor(this.options.clock.now().getTime() / 1000);
    const { status } = await this.options.transport.post(integration.config.url, body, deliveryHeaders(secret, record.recordId, timestamp, body));
    if (status < 200 || status >= 300) throw new OutboundRequestFailed('status', `The integration endpoint answered ${status}.`, status);
  }
}
