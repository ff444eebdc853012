/**
 * What an agent may send from the inbox besides text and reply material
 * (`POST /v1/conversations/{id}/messages`): a template approved on the
 * conversation's number, with its placeholders' values. Media parts are in
 * `uploads.ts`.
 */
import * as z from 'zod';
import { templateLanguage, templateName } from './templates.js';

/** One placeholder's value: Meta takes up to 1,024 characters, no newlines or tabs in a header's. */
const parameterValue = z.string().trim().min(1).max(1024);

export const inboxTemplate = z
  .strictObject({
    name: templateName,
    language: templateLanguage,
    parameters: z
      .array(parameterValue)
      .max(100)
      .optional()
      .meta({ description: 'The body\'s `{{1}}`, `{{2}}`, … values, in order: exactly as many as the template\'s body has.', example: ['Maria', '#1042'] }),
    headerParameters: z
      .array(parameterValue.refine((v) => !/[\n\t]/.test(v), 'No newlines or tabs in a header parameter.'))
      .max(1)
      .optional()
      .meta({ description: 'A text header\'s `{{1}}` value, when the template\'s header has one.' }),
  })
  .meta({ description: 'A template approved on the conversation\'s number; sent at any time (window closed too), charged by the rate card.' });
export type InboxTemplate = z.infer<typeof inboxTemplate>;
