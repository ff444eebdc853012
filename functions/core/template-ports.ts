/**
 * Message templates, submitted once and available on every connected number
 * (docs/architecture.md). Meta reviews a template per WABA, so it is submitted once
 * per WABA of the account's numbers (numbers sharing a WABA share it) and its
 * status is kept per WABA and per number on one item:
 *
 * - a submission is claimed per WABA by a conditional write, so two requests
 *   (or a request and a number being connected) never submit it twice;
 * - Meta's answer to the submission is recorded only over our own claim: a
 *   webhook decision that came first (the simulator answers that fast) wins;
 * - Meta's `message_template_status_update` webhooks (one bus event per number
 *   of the WABA) are applied only when not older than what is stored, so a
 *   late redelivery never turns an APPROVED back into PENDING.
 */
import type { TemplateStatus } from '../../schemas/templates.js';
import type { MessageSender } from './messaging.js';
import type { NumberRepository } from './numbers.js';
import type { AccountRepository, Clock } from './ports.js';

// --------------------------------------------------------------------- model

/** A WABA's state of a template: `SUBMITTING` while one caller holds the submission. */
export interface TemplateWabaState {
  status: TemplateStatus | 'SUBMITTING';
  reason?: string;
  metaTemplateId?: string;
  updatedAt: string;
  /** When Meta decided the status we hold (its webhook's time); absent until a webhook told us. */
  metaAt?: string;
}

export interface TemplateNumberState {
  wabaId: string;
  status: TemplateStatus;
  reason?: string;
  updatedAt: string;
  metaAt?: string;
}

export interface StoredTemplate {
  accountId: string;
  name: string;
  language: string;
  /** A category Meta may change; priced as marketing when unknown. */
  category: string;
  components: unknown[];
  numbers: Record<string, TemplateNumberState>;
  wabas: Record<string, TemplateWabaState>;
  createdAt: string;
  updatedAt: string;
}

export interface TemplateRef {
  accountId: string;
  name: string;
  language: string;
}

/** A status Meta decided, for one number of a WABA. */
export interface MetaTemplateStatus {
  whatsappPhno: string;
  wabaId: string;
  status: TemplateStatus;
  reason?: string;
  metaTemplateId?: string;
  /** When Meta decided (ISO). */
  occurredAt: string;
  /** Meta's category when it tells one (it may recategorise). */
  category?: string;
}

// --------------------------------------------------------------------- ports

export interface TemplateRepository {
  get(ref: TemplateRef): Promise<StoredTemplate | undefined>;
  /** Every template of the account. */
  list(accountId: string): Promise<StoredTemplate[]>;
  /** Stores a new template; `created: false` with the stored one when it exists. */
  createIfAbsent(template: StoredTemplate): Promise<{ created: boolean; template: StoredTemplate }>;
  /** Claims the submission to one WABA: `true` when this caller must submit (nobody did, or a claim went stale). */
  claimWabaSubmission(ref: TemplateRef, wabaId: string, at: string, staleBefore: string): Promise<boolean>;
  /** Meta's answer to our submission, for the WABA and its numbers; skipped where a webhook already decided. */
  recordSubmission(ref: TemplateRef, wabaId: string, whatsappPhnos: string[], outcome: { status: TemplateStatus; reason?: string; metaTemplateId?: string }, at: string): Promise<void>;
  /** Gives a claim back after a submission that may be retried. */
  releaseWabaSubmission(ref: TemplateRef, wabaId: string): Promise<void>;
  /** A number's status when it has none yet (a number that joins a WABA which already has the template). */
  setNumberStatusIfAbsent(ref: TemplateRef, whatsappPhno: string, state: TemplateNumberState): Promise<boolean>;
  /** Applies a Meta-decided status to a number and its WABA, unless what is stored is newer; creates the item for a template made outside this API. */
  applyMetaStatus(ref: TemplateRef, update: MetaTemplateStatus, at: string): Promise<void>;
}

export interface TemplateDeps {
  accounts: AccountRepository;
  numbers: Pick<NumberRepository, 'list' | 'get'>;
  templates: TemplateRepository;
  messaging: Pick<MessageSender, 'submitTemplate'>;
  clock: Clock;
}
