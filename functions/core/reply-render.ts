/**
 * Placeholders in automatic replies and reply material (docs/automations.md,
 * "The decision order"). Pure: the text and a context in, the text out.
 *
 * - `{{name}}`: the contact's name; `{{whatsapp_phno}}`: the number the
 *   conversation is on; `{{attributes.key}}`: the contact attribute `key`
 *   (a number or boolean is written as text). Spaces inside the braces are
 *   allowed: `{{ name }}`.
 * - `{{name|there}}`: the text after `|` (trimmed) is said when there is no
 *   value; a value is missing when it is absent, null, or empty after trimming.
 * - A placeholder with neither value nor fallback renders as nothing and
 *   takes the space beside it along: `Hi {{name}}, welcome` →
 *   `Hi, welcome`, `Hi {{name}} there` → `Hi there`; no double spaces are left
 *   and other whitespace (line breaks) is kept.
 * - Anything else between double braces (`{{1}}`, `{{foo}}`) is left as
 *   written.
 */
import type { ReplyContent } from '../../schemas/automations.js';

export interface RenderContext {
  name?: string;
  whatsapp_phno: string;
  attributes?: Readonly<Record<string, unknown>>;
}

const PLACEHOLDER = /\{\{\s*(name|whatsapp_phno|attributes\.[^\s|{}]+)\s*(?:\|([^{}]*))?\}\}/gu;
/** Marks an empty placeholder until the spaces around it are tidied. */
const EMPTY = '\u0000';
const EMPTY_RUN = /[ \t]*\u0000(?:[ \t]*\u0000)*[ \t]*/gu;
const TIGHT_AFTER = /^[,.;:!?)\]…]/u;

/** The value a placeholder key names in the context, or undefined. */
function valueOf(key: string, context: RenderContext): string | undefined {
  let raw: unknown;
  if (key === 'name') raw = context.name;
  else if (key === 'whatsapp_phno') raw = context.whatsapp_phno;
  else raw = context.attributes?.[key.slice('attributes.'.length)];
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return undefined;
  const value = String(raw).trim();
  return value === '' ? undefined : value;
}

/** The text with its placeholders filled (see the module comment). */
export function renderText(text: string, context: RenderContext): string {
  let empty = false;
  const filled = text.replace(PLACEHOLDER, (_match, key: string, fallback: string | undefined) => {
    const value = valueOf(key, context) ?? fallback?.trim();
    if (value) return value;
    empty = true;
    return EMPTY;
  });
  return empty ? tidy(filled) : filled;
}

/** Removes the empty-placeholder marks with the spaces beside them, leaving one space between words. */
function tidy(text: string): string {
  return text.replace(EMPTY_RUN, (run, offset: number, whole: string) => {
    const before = whole[offset - 1];
    const after = whole.slice(offset + run.length);
    if (before === undefined || before === '\n' || after === '' || after.startsWith('\n') || TIGHT_AFTER.test(after)) return '';
    return /[ \t]/u.test(run) ? ' ' : '';
  });
}

/** The placeholder keys a text uses (`name`, `attributes.plan`, …), in order, once each. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * A reply with its placeholders filled: the text of a text reply, the caption
 * of an image or document (dropped when it renders empty), and the `text` of
 * each template component parameter that is a string. Nothing is mutated.
 */
export function renderReply(content: ReplyContent, context: RenderContext): ReplyContent {
  switch (content.type) {
    case 'text':
      return { ...content, text: renderText(content.text, context) };
    case 'image':
    case 'document': {
      if (content.caption === undefined) return content;
      const { caption, ...rest } = content;
      const rendered = renderText(caption, context);
      return rendered === '' ? rest : { ...rest, caption: rendered };
    }
    case 'template':
      return content.components ? { ...content, components: content.components.map((c) => renderComponent(c, context)) } : content;
  }
}

function renderComponent(component: unknown, context: RenderContext): unknown {
  if (!isRecord(component) || !Array.isArray(component.parameters)) return component;
  const parameters = component.parameters.map((p: unknown) =>
    isRecord(p) && typeof p.text === 'string' ? { ...p, text: renderText(p.text, context) } : p,
  );
  return { ...component, parameters };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
