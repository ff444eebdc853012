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
import { type KeyNumberDeps, numberFilterForCaller, requireNumberForCaller } from '../../core/api-keys.js';
import { listContactsWithMarketing } from '../../core/contact-marketing.js';
import type { ConversationRef, InboxDeps } from '../../core/inbox-ports.js';
import type { MarketingPreferenceDeps } from '../../core/marketing-preferences.js';
import type { AgentTemplateDeps } from '../../core/template-sends.js';
import {
  assignConversation,
  contactViewOf,
  conversationViewOf,
  listConversations,
  listMessages,
  markConversationRead,
  messageViewOf,
  type ReplyMaterialDeps,
  sendReply,
  sendReplyMaterial,
} from '../../core/inbox-views.js';
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
  defineRoute<InboxDeps & MarketingPreferenceDeps, never, typeof inboxListQuery>({
    method: 'GET',
    path: '/v1/contacts',
    summary: 'Contacts of every number (one per number and user), optionally of one number.',
    role: 'agent',
    scope: 'account',
    query: inboxListQuery,
    response: { status: 200, schema: pageOf(contactView) },
    handle: async ({ accountId, query, deps }) => {
      const page = await listContactsWithMarketing(deps, accountId, { whatsappPhno: query.whatsapp_phno }, query);
      return { statusCode: 200, body: { items: page.items.map((c) => contactViewOf(c.contact, c.marketing)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<InboxDeps & KeyNumberDeps, never, typeof conversationListQuery>({
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
      const whatsappPhno = await numberFilterForCaller(deps, principal, accountId, query.whatsapp_phno);
      const page = await listConversations(deps, accountId, { whatsappPhno, ...(query.kind ? { kind: query.kind } : {}) }, query);
      return { statusCode: 200, body: { items: page.items.map(conversationViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<InboxDeps & KeyNumberDeps, never, typeof messagesQuery, typeof conversationParams>({
    method: 'GET',
    path: '/v1/conversations/{conversationId}/messages',
    summary: 'A conversation\'s messages, oldest first.',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    params: conversationParams,
    query: messagesQuery,
    response: { status: 200, schema: pageOf(messageView) },
    handle: async ({ accountId, params, query, deps, principal }) => {
      await requireNumberForCaller(deps, principal, accountId, params.conversationId.whatsappPhno);
      const page = await listMessages(deps, refOf(accountId, params), query);
      return { statusCode: 200, body: { items: page.items.map(messageViewOf), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute<InboxDeps & ReplyMaterialDeps & AgentTemplateDeps & KeyNumberDeps, typeof replyBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/messages',
    summary:
      'Reply from the conversation\'s own number with free text or saved reply material (placeholders filled); 409 WINDOW_CLOSED outside the 24-hour window, except for a template (charged by the rate card; 429 MESSAGING_LIMIT_REACHED when the portfolio limit has no room).',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    params: conversationParams,
    body: replyBody,
    response: { status: 202, schema: replyAccepted },
    handle: async ({ accountId, params, body, deps, principal }) => {
      // An API key sends from the current default number only (403 FEATURE_UNAVAILABLE otherwise).
      await requireNumberForCaller(deps, principal, accountId, params.conversationId.whatsappPhno);
      const ref = refOf(accountId, params);
      return {
        statusCode: 202,
        body: body.replyMaterialId !== undefined ? await sendReplyMaterial(deps, ref, body.replyMaterialId) : await sendReply(deps, ref, body.text!),
      };
    },
  }),
  defineRoute<InboxDeps, typeof assignBody, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/assign',
    summary: 'Assign the conversation to a team of the account, and optionally to one of its users.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    body: assignBody,
    response: { status: 200, schema: conversationView },
    handle: async ({ accountId, params, body, deps }) => ({
      statusCode: 200,
      body: conversationViewOf(await assignConversation(deps, refOf(accountId, params), body.teamId, body.userId)),
    }),
  }),
  defineRoute<InboxDeps, never, never, typeof conversationParams>({
    method: 'POST',
    path: '/v1/conversations/{conversationId}/read',
    summary: 'Mark the conversation read: its unread count goes to 0.',
    role: 'agent',
    scope: 'account',
    params: conversationParams,
    response: { status: 200, schema: conversationView },
    handle: async ({ accountId, params, deps }) => ({
      statusCode: 200,
      body: conversationViewOf(await markConversationRead(deps, refOf(accountId, params))),
    }),
  }),
];
