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
import { Conflict, WhatsAppRejected } from './errors.js';
import type { MessageSender } from './messaging.js';
import type { ConnectedNumber, NumberRepository } from './numbers.js';
import type { AccountRepository, Clock } from './ports.js';
import type { TemplateCategory } from './pricing.js';
import { requireAccount } from './accounts.js';

// --------------------------------------------------------------------- model

export type TemplateStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';

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

/** A submission claim older than this was left by a crashed request and may be taken over. */
const SUBMISSION_CLAIM_TTL_MS = 5 * 60 * 1000;

// ----------------------------------------------------------------- use cases

export interface TemplateInput {
  name: string;
  language: string;
  category: TemplateCategory;
  components: unknown[];
}

export interface SubmittedTemplateView {
  name: string;
  language: string;
  numbers: { whatsapp_phno: string; status: TemplateStatus }[];
}

export interface TemplateView {
  name: string;
  language: string;
  category: string;
  numbers: { whatsapp_phno: string; status: TemplateStatus; reason?: string }[];
}

/**
 * Submits a template to every WABA of the account's connected numbers and
 * answers each number's status. Submitting the same template again is
 * idempotent (WABAs that have it are skipped); the same name and language
 * with a different body is refused (`TEMPLATE_EXISTS`). With no number
 * connected yet it is stored and submitted when the first one connects.
 */
export async function submitTemplate(deps: TemplateDeps, accountId: string, input: TemplateInput): Promise<SubmittedTemplateView> {
  await requireAccount(deps, accountId);
  const at = deps.clock.now().toISOString();
  const ref: TemplateRef = { accountId, name: input.name, language: input.language };
  const { created, template } = await deps.templates.createIfAbsent({
    ...ref,
    category: input.category,
    components: input.components,
    numbers: {},
    wabas: {},
    createdAt: at,
    updatedAt: at,
  });
  if (!created && !sameDefinition(template, input)) {
    throw new Conflict('TEMPLATE_EXISTS', `A different template ${input.name} (${input.language}) exists; submit it under another name.`, {
      name: input.name,
      language: input.language,
    });
  }
  const numbers = await deps.numbers.list(accountId);
  const byWaba = new Map<string, ConnectedNumber[]>();
  for (const number of numbers) byWaba.set(number.wabaId, [...(byWaba.get(number.wabaId) ?? []), number]);
  for (const [wabaId, members] of byWaba) await ensureSubmittedToWaba(deps, template, wabaId, members);

  const stored = (await deps.templates.get(ref)) ?? template;
  return {
    name: input.name,
    language: input.language,
    numbers: numbers
      .sort((a, b) => a.whatsapp_phno.localeCompare(b.whatsapp_phno))
      .map((n) => ({ whatsapp_phno: n.whatsapp_phno, status: numberStatusOf(stored, n) })),
  };
}

/** The account's templates with their status on each connected number. */
export async function listTemplates(deps: Pick<TemplateDeps, 'accounts' | 'numbers' | 'templates'>, accountId: string): Promise<TemplateView[]> {
  await requireAccount(deps, accountId);
  const [templates, numbers] = await Promise.all([deps.templates.list(accountId), deps.numbers.list(accountId)]);
  const connected = numbers.sort((a, b) => a.whatsapp_phno.localeCompare(b.whatsapp_phno));
  return templates.map((t) => ({
    name: t.name,
    language: t.language,
    category: t.category,
    // Only where it was submitted: a number still being synced shows no status rather than a made-up one.
    numbers: connected
      .filter((n) => t.numbers[n.whatsapp_phno] ?? settled(t.wabas[n.wabaId]))
      .map((n) => {
        const state = t.numbers[n.whatsapp_phno];
        const reason = state?.reason ?? t.wabas[n.wabaId]?.reason;
        return { whatsapp_phno: n.whatsapp_phno, status: numberStatusOf(t, n), ...(reason ? { reason } : {}) };
      }),
  }));
}

export interface TemplateSyncResult {
  /** Templates the number now has a status for. */
  synced: number;
  /** Templates whose submission failed for now (WhatsApp unavailable…): posting the template again submits it. */
  failed: { name: string; language: string; error: string }[];
}

/**
 * Brings a newly connected number the account's templates: where its WABA
 * already has a template, the number takes the WABA's status; otherwise the
 * template is submitted to that WABA. Call after a successful connect or
 * replacement; safe to call again. It never fails the connect it follows:
 * a template that could not be submitted is reported in `failed`.
 */
export async function syncTemplatesToNumber(deps: TemplateDeps, accountId: string, whatsappPhno: string): Promise<TemplateSyncResult> {
  const result: TemplateSyncResult = { synced: 0, failed: [] };
  const number = await deps.numbers.get(accountId, whatsappPhno);
  if (!number) return result;
  const templates = await deps.templates.list(accountId);
  for (const template of templates) {
    if (template.numbers[whatsappPhno]?.wabaId === number.wabaId) continue;
    const ref = refOf(template);
    const waba = template.wabas[number.wabaId];
    try {
      if (waba && waba.status !== 'SUBMITTING') {
        await deps.templates.setNumberStatusIfAbsent(ref, whatsappPhno, {
          wabaId: number.wabaId,
          status: waba.status,
          ...(waba.reason ? { reason: waba.reason } : {}),
          updatedAt: deps.clock.now().toISOString(),
          ...(waba.metaAt ? { metaAt: waba.metaAt } : {}),
        });
      } else {
        await ensureSubmittedToWaba(deps, template, number.wabaId, [number]);
      }
      result.synced++;
    } catch (error) {
      result.failed.push({ name: template.name, language: template.language, error: (error as Error)?.message ?? String(error) });
    }
  }
  return result;
}

/**
 * A `WhatsApp Template Status Updated` event: Meta decided a status for the
 * template on one number's WABA. Unknown Meta events (e.g. quality-only
 * notices) change nothing.
 */
export async function applyTemplateStatusEvent(
  deps: Pick<TemplateDeps, 'templates' | 'clock'>,
  event: {
    accountId: string;
    whatsapp_phno: string;
    wabaId: string;
    occurredAt?: string;
    receivedAt: string;
    update: { event: string; message_template_name?: string; message_template_language?: string; message_template_id?: string | number; message_template_category?: string; reason?: string | null };
  },
): Promise<'applied' | 'ignored'> {
  const { update } = event;
  const status = templateStatusOfMetaEvent(update.event);
  if (!status || !update.message_template_name || !update.message_template_language) return 'ignored';
  const reason = update.reason && update.reason !== 'NONE' ? update.reason : undefined;
  await deps.templates.applyMetaStatus(
    { accountId: event.accountId, name: update.message_template_name, language: update.message_template_language },
    {
      whatsappPhno: event.whatsapp_phno,
      wabaId: event.wabaId,
      status,
      ...(reason ? { reason } : {}),
      ...(update.message_template_id !== undefined ? { metaTemplateId: String(update.message_template_id) } : {}),
      ...(update.message_template_category ? { category: update.message_template_category } : {}),
      occurredAt: event.occurredAt ?? event.receivedAt,
    },
    deps.clock.now().toISOString(),
  );
  return 'applied';
}

/**
 * Meta's template events → the five statuses we show. Flagged and reinstated
 * templates can still be sent (APPROVED); deleted ones cannot (DISABLED);
 * one in appeal waits for review (PENDING). Anything else is not a status change.
 */
export function templateStatusOfMetaEvent(event: string): TemplateStatus | undefined {
  switch (event.toUpperCase()) {
    case 'APPROVED':
    case 'REINSTATED':
    case 'FLAGGED':
      return 'APPROVED';
    case 'PENDING':
    case 'IN_APPEAL':
      return 'PENDING';
    case 'REJECTED':
      return 'REJECTED';
    case 'PAUSED':
      return 'PAUSED';
    case 'DISABLED':
    case 'PENDING_DELETION':
    case 'DELETED':
      return 'DISABLED';
    default:
      return undefined;
  }
}

/** The status of a template on one number: its own entry, else its WABA's (once decided), else PENDING. */
export function numberStatusOf(template: StoredTemplate, number: Pick<ConnectedNumber, 'whatsapp_phno' | 'wabaId'>): TemplateStatus {
  const own = template.numbers[number.whatsapp_phno];
  if (own && own.wabaId === number.wabaId) return own.status;
  const waba = template.wabas[number.wabaId];
  return waba && waba.status !== 'SUBMITTING' ? waba.status : 'PENDING';
}

// ------------------------------------------------------------------- helpers

async function ensureSubmittedToWaba(deps: TemplateDeps, template: StoredTemplate, wabaId: string, members: ConnectedNumber[]): Promise<void> {
  const ref = refOf(template);
  const now = deps.clock.now();
  const at = now.toISOString();
  const claimed = await deps.templates.claimWabaSubmission(ref, wabaId, at, new Date(now.getTime() - SUBMISSION_CLAIM_TTL_MS).toISOString());
  const phnos = members.map((m) => m.whatsapp_phno);
  if (!claimed) {
    // Another caller holds or finished it: numbers new to the WABA take what the WABA has.
    const current = (await deps.templates.get(ref))?.wabas[wabaId];
    for (const phno of phnos) {
      await deps.templates.setNumberStatusIfAbsent(ref, phno, {
        wabaId,
        status: current && current.status !== 'SUBMITTING' ? current.status : 'PENDING',
        ...(current?.reason ? { reason: current.reason } : {}),
        updatedAt: at,
      });
    }
    return;
  }
  try {
    const answer = await deps.messaging.submitTemplate(wabaId, {
      name: template.name,
      language: template.language,
      category: template.category,
      components: template.components,
    });
    await deps.templates.recordSubmission(
      ref,
      wabaId,
      phnos,
      { status: templateStatusOfMetaEvent(answer.status) ?? 'PENDING', metaTemplateId: answer.id },
      deps.clock.now().toISOString(),
    );
  } catch (error) {
    if (error instanceof WhatsAppRejected) {
      // Meta refused the template itself: that is its status on this WABA, with Meta's words as the reason.
      await deps.templates.recordSubmission(ref, wabaId, phnos, { status: 'REJECTED', reason: error.details.metaMessage }, deps.clock.now().toISOString());
      return;
    }
    await deps.templates.releaseWabaSubmission(ref, wabaId);
    throw error;
  }
}

function settled(waba: TemplateWabaState | undefined): boolean {
  return waba !== undefined && waba.status !== 'SUBMITTING';
}

function refOf(template: StoredTemplate): TemplateRef {
  return { accountId: template.accountId, name: template.name, language: template.language };
}

function sameDefinition(stored: StoredTemplate, input: TemplateInput): boolean {
  return stored.category === input.category && JSON.stringify(stored.components) === JSON.stringify(input.components);
}
