/**
 * Template statuses as Meta decides them: its webhook events applied to the
 * stored template, its event names mapped to the five statuses we show, and
 * the status a template has on one number.
 */
import type { ConnectedNumber } from './numbers.js';
import type { TemplateStatus } from '../../schemas/templates.js';
import type { StoredTemplate, TemplateDeps } from './template-ports.js';

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
