/**
 * Automations (docs/automations.md): the API's bodies and answers for the
 * five kinds under `/v1/automations/{kind}`, and the decision the automation
 * consumer stores with each inbound message it judged.
 *
 * Every item has `scope: {whatsapp_phno?}`: without a number it applies to
 * every number of the account; naming one makes it a **rule** for that number.
 * AI agents answer from their knowledge on the shared `aiResponses` quota;
 * sequences send timed follow-ups (docs/automations.md, "AI agents",
 * "Sequences").
 * The limits below are Meta's (a body it would refuse later is refused here,
 * with the field named): reply buttons ≤ 3 with titles ≤ 20 characters, list
 * rows ≤ 10 with titles ≤ 24.
 */
import * as z from 'zod';
import { entityId, ianaTimeZone, pageQuery, whatsappPhno } from './common.js';

export const AUTOMATION_KINDS = ['keywords', 'default-actions', 'routes', 'reply-material', 'chatbots', 'ai-agents', 'sequences'] as const;
export type AutomationKind = (typeof AUTOMATION_KINDS)[number];

/** The prefix of each kind's ids (`kw_…`, `chat_…`). */
export const AUTOMATION_ID_PREFIX = {
  keywords: 'kw',
  'default-actions': 'da',
  routes: 'route',
  'reply-material': 'rm',
  chatbots: 'chat',
  'ai-agents': 'ai',
  sequences: 'seq',
} as const satisfies Record<AutomationKind, string>;

/** Meta's limits on interactive messages. */
export const INTERACTIVE_LIMITS = { buttons: 3, buttonTitle: 20, listRows: 10, rowTitle: 24, body: 1024 } as const;

/** Absent number: every number of the account; a number: a rule for that number only. */
export const automationScope = z
  .strictObject({ whatsapp_phno: whatsappPhno.optional() })
  .default({})
  .meta({ description: 'Without `whatsapp_phno` the automation applies to every number; with it, it is a rule for that number.' });
export type AutomationScope = z.infer<typeof automationScope>;

const text = z.string().trim().min(1).max(4096);
const word = z.string().trim().min(1).max(100);

// ------------------------------------------------------------------ actions

/** What a keyword does when it wins. */
export const keywordAction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('reply'), text }),
  z.strictObject({ type: z.literal('replyMaterial'), replyMaterialId: entityId }),
  z.strictObject({ type: z.literal('startChatbot'), chatbotId: entityId }),
  z.strictObject({ type: z.literal('assignTeam'), teamId: entityId }),
  /** Hands the conversation to an AI agent: it answers this message and the contact's next ones. */
  z.strictObject({ type: z.literal('aiAgent'), aiAgentId: entityId }),
  /** Enrols the contact in a sequence (nothing else is sent now). */
  z.strictObject({ type: z.literal('subscribeSequence'), sequenceId: entityId }),
]);
export type KeywordAction = z.infer<typeof keywordAction>;

export const KEYWORD_MATCHES = ['exact', 'contains', 'fuzzy'] as const;
export type KeywordMatch = (typeof KEYWORD_MATCHES)[number];

export const keywordBody = z.strictObject({
  keywords: z.array(word).min(1).max(50),
  /** `exact`: the whole normalised message; `contains`: as a whole word or phrase; `fuzzy`: within one edit per 5 characters. */
  match: z.enum(KEYWORD_MATCHES).default('exact'),
  /** Higher wins among matches of the same scope and match kind. */
  priority: z.int().min(0).max(1000).default(0),
  action: keywordAction,
  scope: automationScope,
  enabled: z.boolean().default(true),
});
export type KeywordBody = z.infer<typeof keywordBody>;

// --------------------------------------------------------- default actions

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Must be HH:MM (24-hour).');

/** `from` ≤ t < `to` on one day: `to` after `from` (a night shift is two intervals, one on each day). */
const openInterval = z
  .strictObject({ from: clockTime, to: clockTime })
  .refine((interval) => interval.from < interval.to, { path: ['to'], message: 'Must be after from (split an interval that passes midnight over two days).' });

/** Opening hours in one time zone: per weekday, intervals `from` ≤ t < `to`; a day not listed is closed. */
export const workingHours = z.strictObject({
  timeZone: ianaTimeZone.default('UTC'),
  days: z.partialRecord(z.enum(WEEKDAYS), z.array(openInterval).max(4)),
});
export type WorkingHours = z.infer<typeof workingHours>;

export const DEFAULT_EVENTS = ['welcome', 'outOfOffice', 'fallback'] as const;
export type DefaultEvent = (typeof DEFAULT_EVENTS)[number];

export const defaultActionBody = z
  .strictObject({
    event: z.enum(DEFAULT_EVENTS),
    text: text.optional(),
    replyMaterialId: entityId.optional(),
    scope: automationScope,
    /** `outOfOffice` answers outside these hours (judged on Meta's message timestamp). */
    workingHours: workingHours.optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((body, ctx) => {
    if ((body.text === undefined) === (body.replyMaterialId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'Give exactly one of text or replyMaterialId.' });
    }
    if (body.event === 'outOfOffice' && !body.workingHours) {
      ctx.addIssue({ code: 'custom', path: ['workingHours'], message: 'An outOfOffice action needs the working hours it answers outside of.' });
    }
  });
export type DefaultActionBody = z.infer<typeof defaultActionBody>;

// ------------------------------------------------------------------- routes

/** Assignment only (no message): runs beside whatever answered. */
export const routeBody = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  teamId: entityId,
  /** Users of the account the conversation is handed to in turn (round robin); without, the team only. */
  members: z.array(entityId).max(100).default([]),
  /** Only messages containing one of these (normalised); without, every conversation not yet assigned. */
  keywords: z.array(word).max(50).default([]),
  scope: automationScope,
  enabled: z.boolean().default(true),
});
export type RouteBody = z.infer<typeof routeBody>;

// ------------------------------------------------------------ reply material

/** `{{name}}`, `{{whatsapp_phno}}`, `{{attributes.key}}`, each with an optional fallback: `{{name|there}}`. */
export const replyContent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text }),
  z.strictObject({ type: z.literal('image'), url: z.url({ protocol: /^https$/ }), caption: z.string().max(1024).optional() }),
  z.strictObject({
    type: z.literal('document'),
    url: z.url({ protocol: /^https$/ }),
    filename: z.string().max(240).optional(),
    caption: z.string().max(1024).optional(),
  }),
  z.strictObject({
    type: z.literal('template'),
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'Template names are lowercase letters, digits and underscores.'),
    language: z.string().min(2).max(15),
    components: z.array(z.unknown()).max(10).optional(),
  }),
]);
export type ReplyContent = z.infer<typeof replyContent>;

export const replyMaterialBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  content: replyContent,
  scope: automationScope,
});
export type ReplyMaterialBody = z.infer<typeof replyMaterialBody>;

// ----------------------------------------------------------------- chatbots

const stepId = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'Step ids are 1 to 40 letters, digits, _ or -.');

export const chatbotStep = z.strictObject({
  id: stepId,
  text: z.string().trim().min(1).max(INTERACTIVE_LIMITS.body),
  /** ≤ 3 options are sent as reply buttons, more (≤ 10) as a list; a step without options ends the session. */
  options: z
    .array(z.strictObject({ title: z.string().trim().min(1).max(INTERACTIVE_LIMITS.rowTitle), next: stepId }))
    .max(INTERACTIVE_LIMITS.listRows)
    .optional(),
  /** Said when the answer is not one of the options. */
  retryText: z.string().trim().min(1).max(INTERACTIVE_LIMITS.body).optional(),
});
export type ChatbotStep = z.infer<typeof chatbotStep>;

/** A title as an answer typed as text reads it, roughly: case, accents, punctuation and spacing aside. */
function sameTitle(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f\ufe0f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{S}]+/gu, ' ')
    .trim();
}

export const chatbotBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    steps: z.array(chatbotStep).min(1).max(50),
    /** Words that end the session (besides `stop`). */
    exitWords: z.array(word).max(20).default([]),
    /** Invalid answers allowed per step before the session ends and the conversation is left for an agent. */
    maxRetries: z.int().min(0).max(5).default(2),
    scope: automationScope,
  })
  .superRefine((bot, ctx) => {
    const ids = new Set<string>();
    bot.steps.forEach((step, i) => {
      if (ids.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `The step id ${step.id} is used twice.` });
      ids.add(step.id);
    });
    bot.steps.forEach((step, i) => {
      const options = step.options ?? [];
      const asButtons = options.length <= INTERACTIVE_LIMITS.buttons;
      const titles = new Set<string>();
      options.forEach((option, j) => {
        // Meta refuses two buttons of one title, and an answer typed as text must name one option.
        const title = sameTitle(option.title) || option.title;
        if (titles.has(title)) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'options', j, 'title'], message: `Two options of step ${step.id} have the title ${option.title}.` });
        }
        titles.add(title);
        if (!ids.has(option.next)) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'options', j, 'next'], message: `No step has the id ${option.next}.` });
        }
        if (asButtons && option.title.length > INTERACTIVE_LIMITS.buttonTitle) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'options', j, 'title'],
            message: `Reply button titles are at most ${INTERACTIVE_LIMITS.buttonTitle} characters (a step with up to ${INTERACTIVE_LIMITS.buttons} options is sent as buttons).`,
          });
        }
      });
    });
  });
export type ChatbotBody = z.infer<typeof chatbotBody>;


// ---------------------------------------------------------------- AI agents

export const aiAgentBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** How the agent speaks and what it may do (the model's system instructions). */
  instructions: z.string().trim().min(1).max(4000),
  /** Passages the agent answers from; an answer not grounded in them is a handoff. */
  knowledge: z.array(z.string().trim().min(1).max(4000)).min(1).max(100),
  /** Who takes over (a team, and what the contact is told) when the agent cannot answer, the contact asks for a person, or the quota is spent. */
  handoff: z.strictObject({ teamId: entityId.optional(), message: z.string().trim().min(1).max(1024).optional() }).default({}),
  /** Answers every message nothing earlier in the decision order took (in place of the default actions). */
  defaultAnswerer: z.boolean().default(false),
  scope: automationScope,
  enabled: z.boolean().default(true),
});
export type AiAgentBody = z.infer<typeof aiAgentBody>;

/** An AI answer's grounding, stored with the message it sent: the knowledge passages it used. */
export const aiAnswerMeta = z.object({
  aiAgentId: z.string(),
  /** The knowledge passages (index into the agent's `knowledge`, and their start) the answer used. */
  sources: z.array(z.object({ index: z.int(), excerpt: z.string() })),
  /** The inbound messages the answer answers (one turn: those within the debounce window). */
  answers: z.array(z.string()),
  /** Which answerer produced it: `bedrock:{model}` in AWS, `local-knowledge-match` locally. */
  model: z.string(),
});
export type AiAnswerMeta = z.infer<typeof aiAnswerMeta>;

// ---------------------------------------------------------------- sequences

const delay = z
  .strictObject({ minutes: z.int().min(1).max(60 * 24 * 90).optional(), hours: z.int().min(1).max(24 * 90).optional(), days: z.int().min(1).max(90).optional() })
  .refine((d) => [d.minutes, d.hours, d.days].filter((v) => v !== undefined).length === 1, { message: 'Give exactly one of minutes, hours or days.' });

export const sequenceStep = z.strictObject({
  /** After the enrolment (first step) or the step before. */
  delay,
  message: z.union([
    z.strictObject({ text }),
    z.strictObject({
      template: z.strictObject({
        name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'Template names are lowercase letters, digits and underscores.'),
        language: z.string().min(2).max(15),
        components: z.array(z.unknown()).max(10).optional(),
      }),
    }),
  ]),
  /** A step due outside these hours (the account's time zone) waits for the next `from`. */
  sendBetween: openInterval.optional(),
});
export type SequenceStep = z.infer<typeof sequenceStep>;

export const sequenceBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  steps: z.array(sequenceStep).min(1).max(20),
  scope: automationScope,
  enabled: z.boolean().default(true),
});
export type SequenceBody = z.infer<typeof sequenceBody>;

/** The milliseconds of a step's delay. */
export function delayMs(d: SequenceStep['delay']): number {
  return ((d.minutes ?? 0) + (d.hours ?? 0) * 60 + (d.days ?? 0) * 1440) * 60_000;
}

// ------------------------------------------------------------------ the API

export const AUTOMATION_BODIES = {
  keywords: keywordBody,
  'default-actions': defaultActionBody,
  routes: routeBody,
  'reply-material': replyMaterialBody,
  chatbots: chatbotBody,
  'ai-agents': aiAgentBody,
  sequences: sequenceBody,
} as const satisfies Record<AutomationKind, z.ZodType>;

export type AutomationBody<K extends AutomationKind = AutomationKind> = z.infer<(typeof AUTOMATION_BODIES)[K]>;

export const automationListQuery = pageQuery.extend({ whatsapp_phno: whatsappPhno.optional() });

/** What every stored automation answers with, around its body. */
export const automationMeta = z.object({
  id: z.string(),
  kind: z.enum(AUTOMATION_KINDS),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The `{id}` of `/v1/automations/{kind}/{id}` (each kind has its own routes, so an unknown kind is an unknown route: 404). */
export const automationIdParams = z.object({ id: entityId });

function viewOf<const K extends AutomationKind, S extends z.ZodObject>(kind: K, body: S) {
  return z.object({ ...automationMeta.shape, kind: z.literal(kind), ...body.shape });
}

/** One stored automation as the API answers it: `{id, kind, createdAt, updatedAt, ...body}` (defaults filled). */
export const AUTOMATION_VIEWS = {
  keywords: viewOf('keywords', keywordBody),
  'default-actions': viewOf('default-actions', defaultActionBody),
  routes: viewOf('routes', routeBody),
  'reply-material': viewOf('reply-material', replyMaterialBody),
  chatbots: viewOf('chatbots', chatbotBody),
  'ai-agents': viewOf('ai-agents', aiAgentBody),
  sequences: viewOf('sequences', sequenceBody),
} as const satisfies Record<AutomationKind, z.ZodType>;

export type AutomationView<K extends AutomationKind = AutomationKind> = z.infer<typeof automationMeta> & { kind: K } & AutomationBody<K>;

/** A page of one kind's listing, oldest first. */
export function automationPage<K extends AutomationKind>(kind: K) {
  return z.object({ items: z.array(AUTOMATION_VIEWS[kind]), nextCursor: z.string().nullable() });
}

// ---------------------------------------------------------------- decisions

/** The steps of the documented decision order (docs/automations.md), in order. */
export const DECISION_STEPS = ['admit', 'interrupt', 'human', 'session', 'agent', 'keyword', 'default', 'route'] as const;
export type DecisionStep = (typeof DECISION_STEPS)[number];

/** What the consumer decided for one inbound message, stored with it and shown in the inbox API. */
export const automationDecision = z.object({
  /** The step that decided (`none` when nothing answered). */
  decidedBy: z.enum([...DECISION_STEPS, 'none']),
  /** Why, in words an operator can read ("rule keyword kw_… (exact) for 15550001002"). */
  reason: z.string(),
  /** The automation that won, when one did. */
  automation: z.object({ kind: z.enum(AUTOMATION_KINDS), id: z.string() }).optional(),
  /** Messages sent (or refused, with why), in order. */
  replies: z.array(
    z.object({
      wamid: z.string().optional(),
      /** `sent`, or why not: `WINDOW_CLOSED`, `QUOTA_EXCEEDED`, `RATE_LIMITED`, `SEND_FAILED`. */
      outcome: z.string(),
      preview: z.string().optional(),
    }),
  ),
  /** A team (and member) the conversation was assigned to. */
  assigned: z.object({ teamId: z.string(), userId: z.string().optional(), routeId: z.string().optional() }).optional(),
  /** Set when the conversation was left for an agent (a spent quota, retries exhausted, too many automatic replies). */
  flaggedForAgent: z.string().optional(),
  /** The sequences the contact was enrolled in, or left (`left` by replying or `stop`). */
  sequences: z.array(z.object({ sequenceId: z.string(), outcome: z.enum(['enrolled', 'already-enrolled', 'left']) })).optional(),
  decidedAt: z.string(),
});
export type AutomationDecision = z.infer<typeof automationDecision>;
