/**
 * The integration sink of the local runtime (docs/integrations.md, "Locally"):
 * every record pushed is kept in memory, newest last, and shown at
 * `GET /local/integrations/events`. When a `forward` sink is given (the
 * local runtime passes the http sink) and the integration's URL is on this
 * machine (a loopback host), the record is also POSTed there, signed as in
 * AWS, so a receiver on 127.0.0.1 can be tried out; a failed forward fails
 * the push (and the bus retries it) like a failed push in AWS.
 */
import type { IntegrationRecord } from '../../../schemas/integrations.js';
import type { IntegrationSink, StoredIntegration } from '../../core/integration-ports.js';

/** One push as it was recorded. */
export interface RecordedIntegrationPush {
  integrationId: string;
  accountId: string;
  type: StoredIntegration['type'];
  url: string;
  record: IntegrationRecord;
  at: string;
}

export interface RecordingIntegrationSinkOptions {
  /** Where records of a loopback URL are also posted. */
  forward?: IntegrationSink;
  /** How many pushes are kept (oldest dropped first). @default 1000 */
  limit?: number;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export class RecordingIntegrationSink implements IntegrationSink {
  private readonly pushes: RecordedIntegrationPush[] = [];
  private readonly limit: number;

  constructor(private readonly options: RecordingIntegrationSinkOptions = {}) {
    this.limit = options.limit ?? 1000;
  }

  async push(integration: StoredIntegration, record: IntegrationRecord): Promise<void> {
    const { url } = integration.config;
    if (this.options.forward && LOOPBACK_HOSTS.has(new URL(url).hostname)) await this.options.forward.push(integration, record);
    this.pushes.push({ integrationId: integration.integrationId, accountId: integration.accountId, type: integration.type, url, record, at: new Date().toISOString() });
    if (this.pushes.length > this.limit) this.pushes.splice(0, this.pushes.length - this.limit);
  }

  /** Every recorded push, oldest first. */
  recorded(): RecordedIntegrationPush[] {
    return [...this.pushes];
  }
}
