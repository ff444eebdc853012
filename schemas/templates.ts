/**
 * Message templates (docs/openapi.json): their categories and statuses, the
 * name and language rules Meta holds them to, and the dashboard API's bodies
 * and answers.
 */
import * as z from 'zod';
import { TEMPLATE_CATEGORIES } from './words.js';

export const templateCategory = z.enum(TEMPLATE_CATEGORIES);
export type TemplateCategory = z.infer<typeof templateCategory>;

/** The five statuses the API shows (Meta's many events map onto them, `functions/core/templates.ts`). */
export const TEMPLATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export const templateStatus = z.enum(TEMPLATE_STATUSES);
export type TemplateStatus = z.infer<typeof templateStatus>;

/** Meta's rules: lowercase letters, digits and underscores. */
export const templateName = z
  .string()
  .regex(/^[a-z0-9_]{1,512}$/, 'Lowercase letters, digits and underscores, at most 512.')
  .meta({ example: 'order_update' });

/** Meta's language codes: `en`, `en_US`, `pt_BR`, `zh_Hant_HK`… */
export const templateLanguage = z
  .string()
  .regex(/^[a-z]{2,3}(_[A-Za-z0-9]{2,4}){0,2}$/, 'A WhatsApp language code, e.g. en_US.')
  .meta({ example: 'en_US' });

export const createTemplateBody = z.strictObject({
  name: templateName,
  language: templateLanguage,
  category: templateCategory,
  /** Meta's template components (HEADER, BODY, FOOTER, BUTTONS), passed through to Meta. */
  components: z.array(z.looseObject({ type: z.string().min(1) })).min(1).max(20),
});
export type CreateTemplateBody = z.infer<typeof createTemplateBody>;

export const templateNumberStatus = z.object({
  whatsapp_phno: z.string(),
  status: templateStatus,
  reason: z.string().optional(),
});

export const templateSubmittedView = z.object({
  name: z.string(),
  language: z.string(),
  numbers: z.array(templateNumberStatus.omit({ reason: true })),
});
export type TemplateSubmittedView = z.infer<typeof templateSubmittedView>;

export const templateView = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string(),
  numbers: z.array(templateNumberStatus),
});
export type TemplateView = z.infer<typeof templateView>;

export const templateList = z.object({ items: z.array(templateView) });
