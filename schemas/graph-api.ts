/**
 * What Meta's Graph API answers our calls (sends, template submissions, its
 * error envelope): parsed by the Graph client, tolerant of extra fields; and
 * the interactive and media parts of a send as Meta accepts them, with
 * Meta's limits (the Graph client builds them, the local simulator checks
 * them as Meta does).
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

// ------------------------------------------------- what a send carries

/** Meta's limits on interactive messages (Cloud API reference, "Interactive object"). */
export const GRAPH_INTERACTIVE_LIMITS = {
  body: 1024,
  buttons: 3,
  buttonId: 256,
  buttonTitle: 20,
  listButton: 20,
  sections: 10,
  rows: 10,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
  sectionTitle: 24,
  caption: 1024,
} as const;

const L = GRAPH_INTERACTIVE_LIMITS;
const bounded = (max: number) => z.string().min(1).max(max);

/** `interactive` of `type: "interactive"`: reply buttons. */
export const graphButtonInteractive = z.object({
  type: z.literal('button'),
  body: z.object({ text: bounded(L.body) }),
  action: z.object({
    buttons: z
      .array(z.object({ type: z.literal('reply'), reply: z.object({ id: bounded(L.buttonId), title: bounded(L.buttonTitle) }) }))
      .min(1)
      .max(L.buttons)
      .refine((buttons) => new Set(buttons.map((b) => b.reply.id)).size === buttons.length, 'Button ids must be unique.'),
  }),
});

/** `interactive` of `type: "interactive"`: a list opened by a button, rows in sections (≤ 10 rows in all). */
export const graphListInteractive = z.object({
  type: z.literal('list'),
  body: z.object({ text: bounded(L.body) }),
  action: z.object({
    button: bounded(L.listButton),
    sections: z
      .array(
        z.object({
          title: bounded(L.sectionTitle).optional(),
          rows: z.array(z.object({ id: bounded(L.rowId), title: bounded(L.rowTitle), description: z.string().max(L.rowDescription).optional() })).min(1),
        }),
      )
      .min(1)
      .max(L.sections)
      .refine((sections) => sections.reduce((n, s) => n + s.rows.length, 0) <= L.rows, `At most ${L.rows} rows in all sections.`)
      .refine((sections) => sections.length === 1 || sections.every((s) => s.title), 'Every section needs a title when there are several.'),
  }),
});

export const graphInteractive = z.discriminatedUnion('type', [graphButtonInteractive, graphListInteractive]);
export type GraphInteractive = z.infer<typeof graphInteractive>;

/** `image` of `type: "image"` (by link; Meta also takes an uploaded media `id`). */
export const graphImage = z.object({ link: z.url().optional(), id: z.string().optional(), caption: z.string().max(L.caption).optional() })
  .refine((image) => Boolean(image.link) !== Boolean(image.id), 'Give exactly one of link or id.');
export type GraphImage = z.infer<typeof graphImage>;

/** `document` of `type: "document"`. */
export const graphDocument = z.object({
  link: z.url().optional(),
  id: z.string().optional(),
  caption: z.string().max(L.caption).optional(),
  filename: z.string().min(1).max(240).optional(),
}).refine((document) => Boolean(document.link) !== Boolean(document.id), 'Give exactly one of link or id.');
export type GraphDocument = z.infer<typeof graphDocument>;

/** `video` of `type: "video"` (with a caption), `audio` and `sticker` (none: Meta refuses one there). */
export const graphVideo = z.object({ link: z.url().optional(), id: z.string().optional(), caption: z.string().max(L.caption).optional() })
  .refine((video) => Boolean(video.link) !== Boolean(video.id), 'Give exactly one of link or id.');
export const graphAudio = z.strictObject({ link: z.url().optional(), id: z.string().optional() })
  .refine((audio) => Boolean(audio.link) !== Boolean(audio.id), 'Give exactly one of link or id.');
export const graphSticker = graphAudio;
export type GraphMedia = z.infer<typeof graphVideo> | z.infer<typeof graphAudio>;
