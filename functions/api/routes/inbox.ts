import { pageOf } from '../../../schemas/api.js';
import {
  assignBody,
  contactView,
  conversationListQuery,
  conversationParams,
  conversationView,
  inboxListQuery,
  messageView,
  messagesQuery,
  replyAccepted,
  replyBody,
} from '../../../schemas/inbox.js';
import { type CallerNumberDeps, callerNumberScope, requireAssigneeCanSee, requireCallerNumber } from '../../core/number-access.js';
import { type AgentSendDeps, sendFromInbox } from '../../core/agent-sends.js';
import { listContactsWithMarketing } from '../../core/contact-marketing.js';
import type { ConversationRef, InboxDeps } from '../../core/inbox-ports.js';
import type { MarketingPreferenceDeps } from '../../core/marketing-preferences.js';
import {
  assignConversation,
  contactViewOf,
  conversationViewOf,
  listConversations,
  listMessages,
} from '../../core/inbox-views.js';
import { markReadWithReceipt } from '../../core/conversation-work.js';
import { conversationFilterOfQuery, reportReceiptFailure } from './inbox-work.js';
import { type MediaUrlDeps, messageViewsWithMedia } from '../../core/media-urls.js';
import { defineRoute } from '../router.js';

type ConversationParams = { conversationId: { whatsappPhno: string; contactKey: string } };

/** The conversation a path names, always inside the caller's account: another account's id is simply not found. */
const refOf = (accountId: string, params: ConversationParams): ConversationRef => ({
  accountId,
  whatsappPhno: params.conversationId.whatsappPhno,
  contactKey: params.conversationId.contactKey,
});

/** Contacts and the team inbox: every number's conversations, for agents and up; `whatsapp_phno` narrows to one number. */
export const inboxRoutes = [
  defineRoute<InboxDeps & MarketingPreferenceDeps & CallerNumberDeps, never, typeof inboxListQuery>({
    method: 'GET',
    path: '/v1/contacts',
    summary: 'Contacts of every number (one per number and user), optionally of one number.',
    role: 'agent',
    scope: 'account',
    query: inboxListQuery,
    response: { status: 200, schema: pageOf(contactView) },
    handle: async ({ accountId, query, deps, principal }) => {
      // An agent: only the numbers their teams cover (number-access.ts).
      const scope = await callerNumberScope(deps, principal, accountId, query.whatsapp_phno);
      const page = await listContactsWithMarketing(deps, accountId, scope, query);
      return { statusCode: 200, body: { items: page.items.map((c) => contactViewOf(c.contact, c.marketing)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<InboxDeps & CallerNumberDeps, never, typeof conversationListQuery>({
    method: 'GET',
    path: '/v1/conversations',
    summary:
      'The team inbox, newest first, across every number or of one (an API key: the default number\'s); `kind=group|direct` for WhatsApp groups or one-to-one conversations only (a page may then hold fewer than asked).',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    query: conversationListQuery,
    response: { status: 200, schema: pageOf(conversationView) },
    handle: async ({ accountId, query, deps, principal }) => {
      // An API key: the default number; an agent: the numbers their teams cover (number-access.ts).
      const scope = await callerNumberScope(deps, principal, accountId, query.whatsapp_phno);
      const filter = conversationFilterOfQuery(query, principal);
      const page = await listConversations(deps, accountId, { ...scope, ...filter }, query);
      return { statusCode: 200, body: { items: page.items.map((c) => conversationViewOf(c, filter.now)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<InboxDeps & CallerNumberDeps & MediaUrlDeps, never, typeof messagesQuery, typeof conversationParams>({
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'A conversation\'s messages, oldest first; a stored media file with a presigned `media.url` of about 5 minutes (read again for a fresh one).',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    params: conversationParams,
    query: messagesQuery,
    response: { status: 200, schema: pageOf(messageView) },
    handle: async ({ accountId, params, query, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const page = await listMessages(deps, refOf(accountId, params), query);
      return { statusCode: 200, body: { items: await messageViewsWithMedia(deps, page.items), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<AgentSendDeps & CallerNumberDeps, typeof replyBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/messages',
    summary:
      'Reply from the conversation\'s own number with free text, saved reply material (placeholders filled), a file (`image|video|audio|document|sticker: {uploadId | link}`) or a `template` approved on the number; 409 WINDOW_CLOSED outside the 24-hour window, except for a template (charged by the rate card; 429 MESSAGING_LIMIT_REACHED when the portfolio limit has no room).',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    params: conversationParams,
    body: replyBody,
    response: { status: 202, schema: replyAccepted },
    handle: async ({ accountId, params, body, deps, principal }) => {
      // An API key sends from the current default number only (403 FEATURE_UNAVAILABLE otherwise); an agent on a number their teams cover (404).
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const ref = refOf(accountId, params);
      return {
        statusCode: 202,
        body: await sendFromInbox(deps, ref, body),
      };
    },
  }),
  defineRoute<InboxDeps & CallerNumberDeps, typeof assignBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/assign',
    summary: 'Assign the conversation to a team of the account, and optionally to one of its users.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    body: assignBody,
    response: { status: 200, schema: conversationView },
    handle: async ({ accountId, params, body, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      // The assignee must see the number: 409 ASSIGNEE_CANNOT_SEE_NUMBER naming body.teamId / body.userId.
      await requireAssigneeCanSee(deps, accountId, params.conversationId.whatsappPhno, body);
      return { statusCode: 200, body: conversationViewOf(await assignConversation(deps, refOf(accountId, params), body)) };
    },
  }),
  defineRoute<InboxDeps & CallerNumberDeps, never, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/read',
    summary:
      'Mark the conversation read: its unread count goes to 0, and Meta gets the read receipt of its last inbound message from the conversation\'s number (none for a group or without inbound messages; header `x-read-receipt`: `sent`, `failed` or `none`; a failed receipt leaves the mark).',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    response: { status: 200, schema: conversationView },
    handle: async ({ accountId, params, deps, principal }) => {
      await requireCallerNumber(deps, principal, accountId, params.conversationId.whatsappPhno);
      const ref = refOf(accountId, params);
      const { conversation, receipt } = await markReadWithReceipt(deps, ref, (error) => reportReceiptFailure(error, ref));
      return { statusCode: 200, headers: { 'x-read-receipt': receipt }, body: conversationViewOf(conversation) };
    },
  }),
];
