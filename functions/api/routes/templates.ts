import { createTemplateBody, templateList, templateSubmittedView } from '../../../schemas/templates.js';
import type { TemplateDeps } from '../../core/template-ports.js';
import { listTemplates, submitTemplate } from '../../core/templates.js';
import { defineRoute } from '../router.js';

/** Templates: submitted once to every connected number (once per WABA), listed with a status per number. */
export const templateRoutes = [
  defineRoute<TemplateDeps, typeof createTemplateBody>({
    method: 'POST',
    path: '/v1/templates',
    summary: "Submit a template to every connected number (once per WABA); Meta's review is reported per number.",
    role: 'admin',
    scope: 'account',
    body: createTemplateBody,
    response: { status: 202, schema: templateSubmittedView },
    handle: async ({ accountId, body, deps }) => ({ statusCode: 202, body: await submitTemplate(deps, accountId, body) }),
  }),
  defineRoute<TemplateDeps>({
    method: 'GET',
    path: '/v1/templates',
    summary: 'The templates with their status (PENDING, APPROVED, REJECTED, PAUSED, DISABLED) on each number.',
    role: 'agent',
    scope: 'account',
    apiKey: true,
    response: { status: 200, schema: templateList },
    handle: async ({ accountId, deps }) => ({ statusCode: 200, body: { items: await listTemplates(deps, accountId) } }),
  }),
];
