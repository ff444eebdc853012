/**
 * A template an agent picks in the inbox (issue 18, "Templates from the
 * inbox"): `POST /v1/conversations/{id}/messages {template: {name, language,
 * parameters?, headerParameters?}}`, sent at any time (the window closed
 * too) from the conversation's number.
 *
 * Before anything is charged: the template must exist in the account (404)
 * and be approved on the conversation's number (409 `TEMPLATE_NOT_APPROVED`,
 * naming `body.template.name`), and the values given must match its
 * placeholders: as many `parameters` as the BODY has `{{n}}`, and
 * `headerParameters` for a TEXT header's `{{1}}` (400). A group
 * conversation takes no template (as reply material: priced per user).
 * Then the one template send of the inbox (`sendTemplateAsAgent`): opt-out,
 * the rate card's price from the shared pool within the number's cap, the
 * messaging limit, settled by what WhatsApp did. A retried request with the
 * same `Idempotency-Key` replays the first answer (the API router), so it is
 * sent and charged once.
 */
import type { InboxTemplate } from '../../schemas/agent-sends.js';
import { Conflict, NotFound, ValidationFailed } from './errors.js';
import type { ConversationRef, InboxDeps } from './inbox-ports.js';
import { requireConversation } from './inbox-views.js';
import type { OutgoingMessage } from './replies.js';
import { type AgentTemplateDeps, sendTemplateAsAgent } from './template-sends.js';

/** The positional placeholders (`{{1}}`, `{{2}}`, …) of a text: how many values it needs (its highest number). */
export function placeholderCount(text: unknown): number {
  if (typeof text !== 'string') return 0;
  let highest = 0;
  for (const match of text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) highest = Math.max(highest, Number(match[1]));
  return highest;
}

/** The values a template's components ask for: the BODY's placeholders, and a TEXT HEADER's. */
export function placeholdersOf(components: unknown[]): { body: number; header: number } {
  const of = (type: string) =>
    components.find((c): c is Record<string, unknown> => typeof c === 'object' && c !== null && String((c as Record<string, unknown>).type).toUpperCase() === type);
  const header = of('HEADER');
  const headerIsText = header !== undefined && (header.format === undefined || String(header.format).toUpperCase() === 'TEXT');
  return { body: placeholderCount(of('BODY')?.text), header: headerIsText ? placeholderCount(header.text) : 0 };
}

/** Meta's send `components` for the values given (none when the template has no placeholders). */
export function templateComponents(template: InboxTemplate): unknown[] {
  const text = (value: string) => ({ type: 'text', text: value });
  return [
    ...(template.headerParameters?.length ? [{ type: 'header', parameters: template.headerParameters.map(text) }] : []),
    ...(template.parameters?.length ? [{ type: 'body', parameters: template.parameters.map(text) }] : []),
  ];
}

export async function sendInboxTemplate(deps: InboxDeps & AgentTemplateDeps, ref: ConversationRef, template: InboxTemplate): Promise<{ wamid: string }> {
  const conversation = await requireConversation(deps, ref);
  if (conversation.kind === 'group') {
    throw new ValidationFailed([
      { path: ['body', 'template'], message: 'A group conversation takes text and media replies only; templates are priced and counted per user.', code: 'custom' },
    ]);
  }
  const stored = await deps.templates.get({ accountId: ref.accountId, name: template.name, language: template.language });
  if (!stored) throw new NotFound(`The template ${template.name} (${template.language}) of body.template.name`);
  if (stored.numbers[ref.whatsappPhno]?.status !== 'APPROVED') {
    throw new Conflict('TEMPLATE_NOT_APPROVED', `The template ${template.name} (${template.language}) is not approved on ${ref.whatsappPhno}.`, {
      field: 'body.template.name',
      whatsapp_phno: ref.whatsappPhno,
      template: template.name,
      status: stored.numbers[ref.whatsappPhno]?.status ?? null,
    });
  }
  const wanted = placeholdersOf(stored.components);
  const issues = [
    ...countIssue(['body', 'template', 'parameters'], wanted.body, template.parameters?.length ?? 0, 'body'),
    ...countIssue(['body', 'template', 'headerParameters'], wanted.header, template.headerParameters?.length ?? 0, 'header'),
  ];
  if (issues.length > 0) throw new ValidationFailed(issues);

  const components = templateComponents(template);
  const message: Extract<OutgoingMessage, { type: 'template' }> = {
    type: 'template',
    name: template.name,
    language: template.language,
    ...(components.length > 0 ? { components } : {}),
  };
  return sendTemplateAsAgent(deps, ref, message, {
    waId: conversation.lastWaId ?? conversation.waId ?? ref.contactKey,
    freeEntryUntil: conversation.freeEntryUntil,
  });
}

function countIssue(path: string[], wanted: number, given: number, part: string) {
  if (wanted === given) return [];
  return [{ path, message: `The template's ${part} has ${wanted} placeholder${wanted === 1 ? '' : 's'}; ${given} value${given === 1 ? '' : 's'} given.`, code: 'custom' }];
}
