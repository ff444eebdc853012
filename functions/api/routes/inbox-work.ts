/**
 * Working a conversation (issue 18): its status, internal notes, the typing
 * indicator, and agents' edits of contacts; plus what the inbox routes share
 * with them (the list query's filters, the receipt failure log).
 * Agents and up, on the numbers they may see (`number-access.ts`: another
 * number's conversation is not found for them); never with an API key.
 */
import { pageOf } from '../../../schemas/api.js';
import { type ConversationKind, contactView, conversationParams, conversationView, messagesQuery } from '../../../schemas/inbox.js';
import { contactEditBody, contactParams, noteBody, noteView, statusBody, typingAccepted } from '../../../schemas/inbox-work.js';
import { logger } from '../../commons/observability.js';
import { addNote, editContact, listNotes, noteViewOf, sendTypingIndicator, setConversationStatus, type Actor } from '../../core/conversation-work.js';
import { ValidationFailed } from '../../core/errors.js';
import type { ConversationListFilter, ConversationRef, ConversationStatus, InboxDeps } from '../../core/inbox-ports.js';
import { contactViewOf, conversationViewOf } from '../../core/inbox-views.js';
import { type CallerNumberDeps, requireCallerNumber } from '../../core/number-access.js';
import type { IdGenerator } from '../../core/ports.js';
import type { Principal } from '../auth.js';
import { defineRoute } from '../router.js';

type ConversationParams = { conversationId: { whatsappPhno: string; contactKey: string } };

const refOf = (accountId: string, id: ConversationParams['conversationId']): ConversationRef => ({
  accountId,
  whatsappPhno: id.whatsappPhno,
  contactKey: id.contactKey,
});

/** The caller as an author or status setter: the token's subject and its seat (`custom:userId`) when it names one. */
export function actorOf(principal: Principal): Actor {
  const userId = (principal as { userId?: unknown }).userId;
  return { subject: principal.subject, ...(typeof userId === 'string' && userId ? { userId } : {}) };
}

/** `GET /v1/conversations`' filters, beside the number scope: `assignee=me` is the caller's seat (400 when the token names none). */
export function conversationFilterOfQuery(
  query: { kind?: ConversationKind; status?: ConversationStatus; assignee?: string; teamId?: string; unread?: boolean; q?: string },
  principal: Principal,
): Omit<ConversationListFilter, 'whatsappPhno' | 'whatsappPhnos'> & { now: string } {
  let assignee: ConversationListFilter['assignee'];
  if (query.assignee === 'none') assignee = 'none';
  else if (query.assignee === 'me') {
    const { userId } = actorOf(principal);
    if (!userId) throw new ValidationFailed([{ path: ['query', 'assignee'], message: 'assignee=me needs a token that names your user (claim custom:userId); give the user id instead.', code: 'custom' }]);
    assignee = { userId };
  } else if (query.assignee !== undefined) assignee = { userId: query.assignee };
  return {
    now: new Date().toISOString(),
    ...(query.kind ? { kind: query.kind } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(assignee ? { assignee } : {}),
    ...(query.teamId ? { teamId: query.teamId } : {}),
    ...(query.unread !== undefined ? { unread: query.unread } : {}),
    ...(query.q ? { q: query.q } : {}),
  };
}

/** A read receipt Meta did not take: the read mark stands; logged for the number's operators. */
export function reportReceiptFailure(error: unknown, ref: ConversationRef): void {
  logger.warn('read receipt not sent', { accountId: ref.accountId, whatsapp_phno: ref.whatsappPhno, contactKey: ref.contactKey, error: error as Error });
}

type WorkDeps = InboxDeps & CallerNumberDeps;

export const inboxWorkRoutes = [
  defineRoute<WorkDeps, typeof statusBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/status',
    summary:
      'Set the conversation\'s status: `open`, `pending`, `resolved`, or `snoozed` with `snoozedUntil` (a future time; it reads `open` again after). A new inbound message reopens a resolved or snoozed conversation.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    body: statusBody,
    response: { status: 200, schema: conversationView },
    handle: async ({ accountId, params, body, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const conversation = await setConversationStatus(deps, refOf(accountId, params.conversationId), body, actorOf(principal));
      return { statusCode: 200, body: conversationViewOf(conversation, deps.clock.now().toISOString()) };
    },
  }),
  defineRoute<WorkDeps & { ids: IdGenerator }, typeof noteBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/notes',
    summary: 'Add an internal note to the conversation: seen by the team, never sent to WhatsApp. `Idempotency-Key` makes a retry add it once.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    body: noteBody,
    response: { status: 201, schema: noteView },
    handle: async ({ accountId, params, body, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const note = await addNote(deps, refOf(accountId, params.conversationId), body.text, actorOf(principal));
      return { statusCode: 201, body: noteViewOf(note) };
    },
  }),
  defineRoute<WorkDeps, never, typeof messagesQuery, typeof conversationParams>({
    method: 'GET',
    path: '/v1/conversations/{conversationId}/notes',
    summary: 'The conversation\'s internal notes, oldest first.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    query: messagesQuery,
    response: { status: 200, schema: pageOf(noteView) },
    handle: async ({ accountId, params, query, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const page = await listNotes(deps, refOf(accountId, params.conversationId), query);
      return { statusCode: 200, body: { items: page.items.map(noteViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<WorkDeps, never, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/typing',
    summary:
      'Show the user the typing indicator (up to 25 seconds or until the reply), with the read receipt of their last message; inside the 24-hour window only (409 WINDOW_CLOSED), never to a group (400).',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    response: { status: 202, schema: typingAccepted },
    handle: async ({ accountId, params, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      return { statusCode: 202, body: await sendTypingIndicator(deps, refOf(accountId, params.conversationId)) };
    },
  }),
  defineRoute<WorkDeps, typeof contactEditBody, never, typeof contactParams>({
    method: 'PATCH',
    path: '/v1/contacts/{contactId}',
    summary:
      'Edit a contact: `name` (kept over the WhatsApp profile\'s; `null` goes back to it; the conversation\'s `contactName` follows), `attributes` (merged; `null` removes a key; `whatsapp_phno` and `ctwa_*` are read-only), `blocked` (automations stay silent).',
    role: 'agent',
    scope: 'account',
    params: contactParams,
    body: contactEditBody,
    response: { status: 200, schema: contactView },
    handle: async ({ accountId, params, body, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.contactId.whatsappPhno, 'The contact');
      const contact = await editContact(deps, refOf(accountId, params.contactId), {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.attributes !== undefined ? { attributes: body.attributes } : {}),
        ...(body.blocked !== undefined ? { blocked: body.blocked } : {}),
      });
      return { statusCode: 200, body: contactViewOf(contact) };
    },
  }),
];
