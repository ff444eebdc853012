/**
 * Integrations (docs/integrations.md): the one integration an account may
 * have, bound to its default number, as the API takes and answers it
 * (`/v1/integrations`), and the records it receives.
 *
 * A type names where records go and how; its `config` is validated by the
 * type's own schema (a discriminated union on `type`, so an unknown type is
 * a 400 on `body.type` and a bad config a 400 on the config's field). The
 * signing secret is never part of `config`: it is shown once, at creation.
 */
import * as z from 'zod';
import { entityId, whatsappPhno } from './common.js';
import { adReferralView } from './inbox.js';

/** Where records of an `http` integration are POSTed: an https endpoint (a Zapier/Make/n8n catch hook, a CRM's inbound webhook). */
export const httpIntegrationConfig = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .meta({ description: 'https endpoint that receives each record as JSON (http only in the local runtime); checked against private, loopback, link-local and metadata addresses.', example: 'https://hooks.zapier.com/hooks/catch/123/abc/' }),
});

export const INTEGRATION_TYPES = ['http'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** `whatsapp_phno`, when given, must be the default number (403 `FEATURE_UNAVAILABLE` on an additional one). */
const boundNumber = whatsappPhno.optional().meta({ description: 'The number to bind: only the default number offers integrations. Absent: the default number.' });

export const createIntegrationBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('http'), config: httpIntegrationConfig, whatsapp_phno: boundNumber }),
]);
export type CreateIntegrationBody = z.infer<typeof createIntegrationBody>;
export type IntegrationConfig = CreateIntegrationBody['config'];

export const integrationParams = z.object({ id: entityId });

export const integrationView = z.object({
  id: z.string(),
  type: z.enum(INTEGRATION_TYPES),
  config: httpIntegrationConfig,
  /** The account's default number now: records of this number flow; `null` while the account has none. */
  whatsapp_phno: z.string().nullable(),
  createdAt: z.string(),
});
export type IntegrationView = z.infer<typeof integrationView>;

/** The answer to a creation: the view and the signing secret, shown this once. */
export const createdIntegrationView = integrationView.extend({
  secret: z.string().meta({ description: 'HMAC-SHA256 key of the X-Signature-256 header of every push; shown only here.' }),
});

/** An account has zero or one integration. */
export const integrationList = z.object({ items: z.array(integrationView) });

// ------------------------------------------------------------------ records

/** A contact of the default number, as its latest inbound message shows it. */
export const integrationContact = z.object({
  waId: z.string(),
  name: z.string().nullable(),
  whatsapp_phno: z.string(),
  attributes: z.record(z.string(), z.unknown()),
});

/** A conversation of the default number after its latest message. */
export const integrationConversation = z.object({
  /** As the inbox names it: `{whatsapp_phno}_{waId}`. */
  id: z.string(),
  contactWaId: z.string(),
  whatsapp_phno: z.string(),
  lastMessageAt: z.string(),
  lastMessagePreview: z.string(),
  direction: z.enum(['in', 'out']),
  /** The click-to-WhatsApp ad this message came from (Meta's `referral`); null when none. */
  adReferral: adReferralView.nullable(),
});

const recordBase = {
  /** Stable per source event and kind: a redelivered event pushes the same id, so a receiver dedupes on it. */
  recordId: z.string(),
  /** The bus event the record comes from. */
  eventId: z.string(),
  /** When the message behind it was sent (ISO). */
  occurredAt: z.string(),
};

/** What an integration receives, one record per push (docs/integrations.md, "Records"). */
export const integrationRecord = z.discriminatedUnion('kind', [
  z.object({ ...recordBase, kind: z.literal('contact.upserted'), contact: integrationContact }),
  z.object({ ...recordBase, kind: z.literal('conversation.updated'), conversation: integrationConversation }),
]);
export type IntegrationRecord = z.infer<typeof integrationRecord>;
