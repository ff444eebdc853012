/**
 * Template use cases (the model and the rules of one item per template are in
 * `template-ports.ts`, Meta's statuses in `template-status.ts`): submit once
 * per WABA of the account's numbers, list with each number's status, and bring
 * a newly connected number the account's templates.
 */
import { requireAccount } from './accounts.js';
import { Conflict, WhatsAppRejected } from './errors.js';
import type { ConnectedNumber } from './numbers.js';
import type { TemplateCategory, TemplateSubmittedView, TemplateView } from '../../schemas/templates.js';
import type { StoredTemplate, TemplateDeps, TemplateRef, TemplateWabaState } from './template-ports.js';
import { numberStatusOf, templateStatusOfMetaEvent } from './template-status.js';

/** A submission claim older than this was left by a crashed request and may be taken over. */
const SUBMISSION_CLAIM_TTL_MS = 5 * 60 * 1000;

// ----------------------------------------------------------------- use cases

export interface TemplateInput {
  name: string;
  language: string;
  category: TemplateCategory;
  components: unknown[];
}

/**
 * Submits a template to every WABA of the account's connected numbers and
 * answers each number's status. Submitting the same template again is
 * idempotent (WABAs that have it are skipped); the same name and language
 * with a different body is refused (`TEMPLATE_EXISTS`). With no number
 * connected yet it is stored and submitted when the first one connects.
 */
export async function submitTemplate(deps: TemplateDeps, accountId: string, input: TemplateInput): Promise<TemplateSubmittedView> {
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
