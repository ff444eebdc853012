/**
 * Working a conversation from the dashboard (issue 18): its status, internal
 * notes, the typing indicator, and edits of its contact. The list filters and
 * the views these change are in `inbox.ts`.
 */
import * as z from 'zod';
import { conversationParams, conversationStatus } from './inbox.js';

/** Ten years ahead is far enough for a snooze. */
const MAX_SNOOZE_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** `snoozedUntil` must be given with `snoozed` only; its being in the future is checked against the clock by the use case. */
export const statusBody = z
  .strictObject({
    status: conversationStatus,
    snoozedUntil: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'With `snoozed` (required then): when the conversation reads as `open` again; a future time (ISO 8601).' }),
  })
  .superRefine((body, ctx) => {
    if (body.status === 'snoozed' && body.snoozedUntil === undefined) {
      ctx.addIssue({ code: 'custom', path: ['snoozedUntil'], message: 'A snooze needs snoozedUntil, a future time.' });
    }
    if (body.status !== 'snoozed' && body.snoozedUntil !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['snoozedUntil'], message: 'snoozedUntil goes with status snoozed only.' });
    }
    if (body.snoozedUntil !== undefined && Date.parse(body.snoozedUntil) > Date.now() + MAX_SNOOZE_MS) {
      ctx.addIssue({ code: 'custom', path: ['snoozedUntil'], message: 'Snooze at most ten years ahead.' });
    }
  });

export const noteBody = z.strictObject({
  text: z.string().trim().min(1).max(4096).meta({ description: 'The note, 1 to 4,096 characters; never sent to WhatsApp.' }),
});

export const noteView = z.object({
  noteId: z.string(),
  text: z.string(),
  author: z.object({
    subject: z.string().meta({ description: 'The token subject (or `apiKey:{keyId}`) that wrote it.' }),
    userId: z.string().nullable().meta({ description: 'The user seat that wrote it, when the token names one.' }),
  }),
  createdAt: z.string(),
});

export const typingAccepted = z.object({
  wamid: z.string().meta({ description: 'The inbound message the typing indicator (and its read receipt) names.' }),
});

/** `contactId` is the contact's conversation id: `{whatsapp_phno}_{contactKey}`. */
export const contactParams = z.object({
  contactId: conversationParams.shape.conversationId.meta({
    description: '`{whatsapp_phno}_{waId}` (or `_{BSUID}`), the contact\'s `contactId` as listed (the same as its conversation\'s id).',
    example: '15550001001_5511987650001',
  }),
});

/** What a contact edit may not change: set by WhatsApp or by the click-to-WhatsApp attribution. */
export function isReadOnlyAttribute(key: string): boolean {
  return key === 'whatsapp_phno' || key.startsWith('ctwa_');
}

const attributeValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

export const contactEditBody = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .nullable()
      .optional()
      .meta({ description: 'The name agents see, kept over the name the WhatsApp profile sends later; `null` goes back to the profile\'s.' }),
    attributes: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'Attribute keys are 1 to 64 letters, digits or _, starting with a letter.'), attributeValue)
      .optional()
      .meta({ description: 'Merged into the contact\'s attributes (string, number, boolean); `null` removes a key. `whatsapp_phno` and `ctwa_*` are read-only.' }),
    blocked: z.boolean().optional().meta({ description: '`true`: automations (auto-replies, chatbots, AI agents, sequences) stay silent for this contact.' }),
  })
  .superRefine((body, ctx) => {
    const keys = Object.keys(body.attributes ?? {});
    if (keys.length > 50) ctx.addIssue({ code: 'custom', path: ['attributes'], message: 'At most 50 attributes an edit.' });
    for (const key of keys) {
      if (isReadOnlyAttribute(key)) ctx.addIssue({ code: 'custom', path: ['attributes', key], message: `The attribute ${key} is read-only.` });
    }
    if (body.name === undefined && body.attributes === undefined && body.blocked === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'Give name, attributes or blocked.' });
    }
  });

export type NoteView = z.infer<typeof noteView>;
