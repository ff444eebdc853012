/**
 * Integrations (docs/integrations.md): one per account, bound to the
 * account's default number (a default-number-only feature, `features.ts`).
 *
 * - The API (`POST/GET/DELETE /v1/integrations`): creation checks the
 *   number offers `integrations`, the URL against the request-forgery guard,
 *   then stores it by one conditional write (a second answers 409
 *   `INTEGRATION_EXISTS`). The signing secret is derived as a webhook
 *   subscription's is (`subscriptionSecret`, from the master signing key and
 *   the id): stored nowhere, shown once.
 * - The consumer (`functions/integration/`): a message received becomes a
 *   `contact.upserted` and a `conversation.updated` record, pushed to the
 *   account's integration when the message's number is the account's default
 *   number NOW (read at push time, so after a default replacement the new
 *   default's records flow and the old one's stop at once). The records are
 *   built from the event alone: a redelivered event pushes the very same
 *   records (same `recordId`), and nothing is written to our table.
 */
import type { CreateIntegrationBody, IntegrationRecord, IntegrationView } from '../../schemas/integrations.js';
import type { InboxMessageReceived } from '../../schemas/inbox.js';
import { conversationIdOf } from '../../schemas/whatsapp-ids.js';
import { type AccountDeps, requireAccount } from './accounts.js';
import { contactIdentity } from './contact-id.js';
import { Conflict, NotFound, UnsafeUrl, ValidationFailed } from './errors.js';
import { requireFeature } from './features.js';
import type { IntegrationSink, IntegrationStore, StoredIntegration } from './integration-ports.js';
import { adReferralOf, displayText, metaTime, nonEmpty, preview } from './message-content.js';
import { type NumberDeps, requireNumber } from './numbers.js';
import type { WebhookTransport } from './outgoing-webhook-ports.js';
import { subscriptionSecret } from './outgoing-webhooks.js';
import type { Clock, IdGenerator } from './ports.js';

export type { IntegrationSink, IntegrationStore, StoredIntegration } from './integration-ports.js';

// ---------------------------------------------------------------------- API

export interface IntegrationApiDeps extends Pick<AccountDeps, 'accounts'>, Pick<NumberDeps, 'numbers'> {
  integrations: IntegrationStore;
  /** The outgoing webhooks' guarded HTTP: its `check` is the request-forgery guard. */
  webhookTransport: Pick<WebhookTransport, 'check'>;
  /** The master signing key (Secrets Manager in AWS): an integration's secret is derived from it and the id. */
  webhookSigningKey: () => Promise<string>;
  clock: Clock;
  ids: IdGenerator;
}

export function integrationViewOf(integration: StoredIntegration, defaultNumber: string | undefined): IntegrationView {
  return {
    id: integration.integrationId,
    type: integration.type,
    config: integration.config,
    whatsapp_phno: defaultNumber ?? null,
    createdAt: integration.createdAt,
  };
}

/**
 * Creates the account's integration on its default number. 403
 * `FEATURE_UNAVAILABLE` when `whatsapp_phno` names an additional number, 404
 * when it names no number of the account, 409 `NO_DEFAULT_NUMBER`
 * without a default, 400 on `body.config.url` for a URL the guard refuses,
 * 409 `INTEGRATION_EXISTS` (with its `id`) when the account has one.
 */
export async function createIntegration(
  deps: IntegrationApiDeps,
  accountId: string,
  body: CreateIntegrationBody,
): Promise<IntegrationView & { secret: string }> {
  await requireAccount(deps, accountId);
  const defaultNumber = await deps.numbers.defaultOf(accountId);
  const phno = body.whatsapp_phno ?? defaultNumber;
  if (!phno) throw new Conflict('NO_DEFAULT_NUMBER', 'Connect a number first: integrations are bound to the default number.');
  requireFeature(await requireNumber(deps, accountId, phno), 'integrations');
  await assertSafeConfigUrl(deps, body.config.url);
  // Read before the write: a key that cannot be read fails the request with nothing stored.
  const masterKey = await deps.webhookSigningKey();

  const integration: StoredIntegration = {
    integrationId: deps.ids.newId('int'),
    accountId,
    type: body.type,
    config: body.config,
    createdAt: deps.clock.now().toISOString(),
  };
  const stored = await deps.integrations.create(integration);
  if (!stored.created) {
    throw new Conflict('INTEGRATION_EXISTS', 'The account has an integration already; delete it first.', { id: stored.existing.integrationId });
  }
  return { ...integrationViewOf(integration, phno), secret: subscriptionSecret(masterKey, integration.integrationId) };
}

/** The account's integration, as a list of zero or one. */
export async function listIntegrations(deps: IntegrationApiDeps, accountId: string): Promise<IntegrationView[]> {
  await requireAccount(deps, accountId);
  const [integration, defaultNumber] = await Promise.all([deps.integrations.get(accountId), deps.numbers.defaultOf(accountId)]);
  return integration ? [integrationViewOf(integration, defaultNumber)] : [];
}

export async function getIntegration(deps: IntegrationApiDeps, accountId: string, integrationId: string): Promise<IntegrationView> {
  const [integration] = (await listIntegrations(deps, accountId)).filter((i) => i.id === integrationId);
  if (!integration) throw new NotFound('The integration');
  return integration;
}

/** Deletes the integration: no record is pushed to it from then on. 404 when the account has no such integration. */
export async function deleteIntegration(deps: Pick<IntegrationApiDeps, 'accounts' | 'integrations'>, accountId: string, integrationId: string): Promise<void> {
  await requireAccount(deps, accountId);
  if (!(await deps.integrations.remove(accountId, integrationId))) throw new NotFound('The integration');
}

/** The guard's refusal is the caller's bad input: a 400 naming the field, with the guard's reason. */
async function assertSafeConfigUrl(deps: Pick<IntegrationApiDeps, 'webhookTransport'>, url: string): Promise<void> {
  try {
    await deps.webhookTransport.check(url);
  } catch (error) {
    if (error instanceof UnsafeUrl) {
      throw new ValidationFailed([{ path: ['body', 'config', 'url'], message: `${error.message} (${error.reason})`, code: 'unsafe_url' }]);
    }
    throw error;
  }
}

// ----------------------------------------------------------------- consumer

export interface IntegrationConsumerDeps {
  integrations: Pick<IntegrationStore, 'get'>;
  numbers: Pick<NumberDeps['numbers'], 'defaultOf'>;
  sink: IntegrationSink;
}

/** What one record of the integration queue asks. */
export type IntegrationEvent = { kind: 'received'; detail: InboxMessageReceived } | { kind: 'ignored'; detailType: string };

export type IntegrationOutcome = 'pushed' | 'no-integration' | 'not-default' | 'ignored';

/**
 * Pushes the records of one received message to the account's integration.
 * A push that fails throws: the queue retries the record, then dead-letters
 * it, so a record is never dropped silently; the records of a retry are the
 * same, so the receiver dedupes on `recordId`.
 */
export async function pushIntegrationRecords(deps: IntegrationConsumerDeps, event: IntegrationEvent): Promise<IntegrationOutcome> {
  if (event.kind !== 'received') return 'ignored';
  const { detail } = event;
  const [integration, defaultNumber] = await Promise.all([deps.integrations.get(detail.accountId), deps.numbers.defaultOf(detail.accountId)]);
  // The account's default now decides, not the webhook's `isDefaultNumber` (from a route cached up to a minute).
  if (defaultNumber !== detail.whatsapp_phno) return 'not-default';
  if (!integration) return 'no-integration';
  const records = integrationRecordsOf(detail);
  if (records.length === 0) return 'ignored';
  for (const record of records) await deps.sink.push(integration, record);
  return 'pushed';
}

/**
 * The records of one received message: its contact and its conversation
 * (empty when the message names no sender we can key). `recordId` is
 * `{kind}:{phoneNumberId}:{eventId}`, unique per source event and kind.
 */
export function integrationRecordsOf(detail: InboxMessageReceived): IntegrationRecord[] {
  const { message, contact } = detail;
  const identity = contactIdentity({ waId: contact?.wa_id ?? message.from, userId: contact?.user_id ?? message.from_user_id });
  if (!identity) return [];
  const occurredAt = metaTime(message.timestamp, detail.receivedAt);
  const source = { eventId: detail.eventId, occurredAt };
  const recordId = (kind: IntegrationRecord['kind']) => `${kind}:${detail.phoneNumberId}:${detail.eventId}`;
  return [
    {
      ...source,
      recordId: recordId('contact.upserted'),
      kind: 'contact.upserted',
      contact: {
        waId: identity.contactKey,
        name: nonEmpty(contact?.profile?.name) ?? null,
        whatsapp_phno: detail.whatsapp_phno,
        attributes: { whatsapp_phno: detail.whatsapp_phno },
      },
    },
    {
      ...source,
      recordId: recordId('conversation.updated'),
      kind: 'conversation.updated',
      conversation: {
        id: conversationIdOf(detail.whatsapp_phno, identity.contactKey),
        contactWaId: identity.contactKey,
        whatsapp_phno: detail.whatsapp_phno,
        lastMessageAt: occurredAt,
        lastMessagePreview: preview(displayText(message)),
        direction: 'in',
        // Integrations are the default number's, where a referral is attributed (features.ts, `ctwa`).
        adReferral: adReferralOf(message, occurredAt) ?? null,
      },
    },
  ];
}
