/**
 * What Meta's Graph API answers our calls (sends, template submissions, its
 * error envelope): parsed by the Graph client, tolerant of extra fields.
 * Kept apart from the inbox's schemas so the sender's bundle does not carry them.
 */
import * as z from 'zod';

/** `POST /{version}/{phone-number-id}/messages` answers this. */
export const graphSendResponse = z.looseObject({
  messaging_product: z.literal('whatsapp').optional(),
  contacts: z.array(z.looseObject({ input: z.string().optional(), wa_id: z.string().optional() })).optional(),
  messages: z.array(z.looseObject({ id: z.string(), message_status: z.string().optional() })).min(1),
});

/** `POST /{version}/{waba-id}/message_templates` answers this. */
export const graphTemplateResponse = z.looseObject({
  id: z.string(),
  status: z.string(),
  category: z.string().optional(),
});

/** Meta's error envelope. */
export const graphErrorResponse = z.looseObject({
  error: z.looseObject({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
    error_user_title: z.string().optional(),
    error_user_msg: z.string().optional(),
    error_data: z.looseObject({ details: z.string().optional() }).optional(),
    fbtrace_id: z.string().optional(),
  }),
});
