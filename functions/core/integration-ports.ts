/**
 * Integrations (docs/integrations.md): what the API's use cases and the
 * integration consumer need of the outside world. The use cases are
 * `integrations.ts`.
 *
 * - `IntegrationStore`: the account's one integration on the table; the
 *   one-per-account rule is the store's conditional write.
 * - `IntegrationSink`: where a record goes (an https endpoint in AWS, a
 *   recording list in the local runtime). Idempotent by `recordId` on the
 *   receiver's side: a redelivered event pushes the same record again.
 *
 * The request-forgery guard and the signing secret are the outgoing
 * webhooks' own (`outgoing-webhook-ports.ts` `WebhookTransport.check`, and
 * `subscriptionSecret`: derived from the master signing key and the id, so
 * nothing secret is stored).
 */
import type { IntegrationConfig, IntegrationRecord, IntegrationType } from '../../schemas/integrations.js';

export interface StoredIntegration {
  integrationId: string;
  accountId: string;
  type: IntegrationType;
  config: IntegrationConfig;
  createdAt: string;
}

export interface IntegrationStore {
  /**
   * Stores the account's integration unless it has one: then answers that
   * one (`created: false`). One conditional write, so of concurrent
   * creations exactly one is stored.
   */
  create(integration: StoredIntegration): Promise<{ created: true } | { created: false; existing: StoredIntegration }>;
  /** The account's integration, if any (consistent read). */
  get(accountId: string): Promise<StoredIntegration | undefined>;
  /** Deletes the account's integration when it is `integrationId`; false when the account has no such integration. */
  remove(accountId: string, integrationId: string): Promise<boolean>;
}

export interface IntegrationSink {
  /** Delivers one record to the integration; throws when it was not accepted (the consumer's record is then retried). */
  push(integration: StoredIntegration, record: IntegrationRecord): Promise<void>;
}
