import type * as z from 'zod';
import {
  AUTOMATION_BODIES,
  AUTOMATION_KINDS,
  AUTOMATION_VIEWS,
  type AutomationBody,
  type AutomationKind,
  automationIdParams,
  automationListQuery,
  automationPage,
} from '../../../schemas/automations.js';
import { type AutomationApiDeps, createAutomation, deleteAutomation, getAutomation, listAutomations, replaceAutomation } from '../../core/automations.js';
import { type Route, defineRoute } from '../router.js';

/** What each kind is, for the route summaries. */
const WHAT: Record<AutomationKind, { one: string; many: string }> = {
  keywords: { one: 'a keyword (words that answer with a reply, reply material, a chatbot or a team)', many: 'Keywords' },
  'default-actions': { one: 'a default action (welcome, out-of-office or fallback)', many: 'Default actions' },
  routes: { one: 'a route (assignment to a team, round robin among its members)', many: 'Routes' },
  'reply-material': { one: 'reply material (a saved reply with placeholders)', many: 'Reply material' },
  chatbots: { one: 'a chatbot (steps sent as reply buttons or a list)', many: 'Chatbots' },
  'ai-agents': { one: 'an AI agent (answers from its knowledge on the shared aiResponses quota, hands off to a team)', many: 'AI agents' },
  sequences: { one: 'a sequence (timed follow-up messages; text only inside the 24-hour window, templates any time)', many: 'Sequences' },
};

/**
 * The five routes of one kind. Each kind has its own paths (its own body
 * schema in the OpenAPI document), so an unknown kind is an unknown route: 404.
 */
function kindRoutes<K extends AutomationKind>(kind: K): Route<AutomationApiDeps>[] {
  const base = `/v1/automations/${kind}`;
  // One kind's schema, typed as that kind's body (TypeScript cannot narrow the map by a generic key).
  const body = AUTOMATION_BODIES[kind] as unknown as z.ZodType<AutomationBody<K>>;
  const view = AUTOMATION_VIEWS[kind];
  const { one, many } = WHAT[kind];
  return [
    defineRoute<AutomationApiDeps, typeof body>({
      method: 'POST',
      path: base,
      summary: `Create ${one}. Without scope.whatsapp_phno it applies to every number; with it, it is a rule for that number.`,
      role: 'admin',
      scope: 'account',
      body,
      response: { status: 201, schema: view },
      handle: async ({ accountId, body, deps }) => ({ statusCode: 201, body: await createAutomation(deps, accountId, kind, body) }),
    }),
    defineRoute<AutomationApiDeps, never, typeof automationListQuery>({
      method: 'GET',
      path: base,
      summary: `${many}, oldest first; with whatsapp_phno, the rules for that number and the account-wide ones.`,
      role: 'agent',
      scope: 'account',
      query: automationListQuery,
      response: { status: 200, schema: automationPage(kind) },
      handle: async ({ accountId, query, deps }) => ({
        statusCode: 200,
        body: await listAutomations(deps, accountId, kind, { whatsappPhno: query.whatsapp_phno }, { limit: query.limit, cursor: query.cursor }),
      }),
    }),
    defineRoute<AutomationApiDeps, never, never, typeof automationIdParams>({
      method: 'GET',
      path: `${base}/{id}`,
      summary: `One of the ${many.toLowerCase()}.`,
      role: 'agent',
      scope: 'account',
      params: automationIdParams,
      response: { status: 200, schema: view },
      handle: async ({ accountId, params, deps }) => ({ statusCode: 200, body: await getAutomation(deps, accountId, kind, params.id) }),
    }),
    defineRoute<AutomationApiDeps, typeof body, never, typeof automationIdParams>({
      method: 'PUT',
      path: `${base}/{id}`,
      summary: `Replace the body of one of the ${many.toLowerCase()} (checked as on create); id and createdAt stay.`,
      role: 'admin',
      scope: 'account',
      params: automationIdParams,
      body,
      response: { status: 200, schema: view },
      handle: async ({ accountId, params, body, deps }) => ({
        statusCode: 200,
        body: await replaceAutomation(deps, accountId, kind, params.id, body),
      }),
    }),
    defineRoute<AutomationApiDeps, never, never, typeof automationIdParams>({
      method: 'DELETE',
      path: `${base}/{id}`,
      summary: `Delete one of the ${many.toLowerCase()}.`,
      role: 'admin',
      scope: 'account',
      params: automationIdParams,
      response: { status: 204 },
      handle: async ({ accountId, params, deps }) => {
        await deleteAutomation(deps, accountId, kind, params.id);
        return { statusCode: 204 };
      },
    }),
  ];
}

/** Automations: admins and up write, agents read; every kind under `/v1/automations/{kind}`. */
export const automationRoutes = AUTOMATION_KINDS.flatMap((kind) => kindRoutes(kind));
