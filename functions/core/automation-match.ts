/**
 * The helpers `decide` (`automation-engine.ts`) judges a message with: scope
 * and ranking of keywords, default actions and routes, working hours in a
 * time zone, and chatbot options with the reply ids we send them under.
 * Pure; the rules are written out in docs/automations.md, "The decision order".
 */
import type { ChatbotStep, DefaultEvent, KeywordMatch, Weekday, WorkingHours } from '../../schemas/automations.js';
import type { JudgedMessage, StoredAutomation } from './automation-ports.js';
import { MATCHERS, contains, normalise } from './text-normalise.js';

// ------------------------------------------------------------------ scope

export type ScopeLevel = 'rule' | 'account-wide';

interface Scoped {
  id: string;
  createdAt: string;
  body: { scope: { whatsapp_phno?: string }; enabled?: boolean };
}

/** `rule` for an item scoped to this number, `account-wide` for one without a number, undefined otherwise. */
export function scopeLevel(item: Scoped, whatsappPhno: string): ScopeLevel | undefined {
  const phno = item.body.scope.whatsapp_phno;
  if (phno === undefined) return 'account-wide';
  return phno === whatsappPhno ? 'rule' : undefined;
}

/** True when an item (absent `enabled` counts as on) applies on this number. */
export function appliesOn(item: Scoped, whatsappPhno: string): boolean {
  return item.body.enabled !== false && scopeLevel(item, whatsappPhno) !== undefined;
}

/** Oldest first: `createdAt`, then `id`. */
export function byAge(a: Scoped, b: Scoped): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Rules first, then oldest. */
function byScopeThenAge(whatsappPhno: string) {
  return (a: Scoped, b: Scoped) => rank(scopeLevel(a, whatsappPhno)) - rank(scopeLevel(b, whatsappPhno)) || byAge(a, b);
}

const rank = (level: ScopeLevel | undefined) => (level === 'rule' ? 0 : 1);

// --------------------------------------------------------------- keywords

const MATCH_RANK: Readonly<Record<KeywordMatch, number>> = { exact: 0, contains: 1, fuzzy: 2 };

export interface KeywordHit {
  item: StoredAutomation<'keywords'>;
  scope: ScopeLevel;
  /** The keyword of the item that matched, as written. */
  word: string;
}

/** Best first: exact before contains before fuzzy, then higher priority, then oldest. */
export function compareHits(a: KeywordHit, b: KeywordHit): number {
  return (
    MATCH_RANK[a.item.body.match] - MATCH_RANK[b.item.body.match] || b.item.body.priority - a.item.body.priority || byAge(a.item, b.item)
  );
}

/** Every enabled keyword of this number's scopes that matches, with the first of its words that did. */
export function keywordHits(keywords: readonly StoredAutomation<'keywords'>[], whatsappPhno: string, text: string): KeywordHit[] {
  const hits: KeywordHit[] = [];
  for (const item of keywords) {
    const scope = scopeLevel(item, whatsappPhno);
    if (!item.body.enabled || !scope) continue;
    const matcher = MATCHERS[item.body.match];
    const word = item.body.keywords.find((k) => matcher(k, text));
    if (word !== undefined) hits.push({ item, scope, word });
  }
  return hits;
}

export interface KeywordPick {
  winner: KeywordHit;
  /** The best account-wide match a rule won over. */
  beaten?: KeywordHit;
  /** How many other matches of the winner's scope ranked lower. */
  outranked: number;
}

/** A rule that matches beats every account-wide keyword; within the scope, `compareHits`. */
export function pickKeyword(keywords: readonly StoredAutomation<'keywords'>[], whatsappPhno: string, text: string): KeywordPick | undefined {
  const hits = keywordHits(keywords, whatsappPhno, text);
  const rules = hits.filter((h) => h.scope === 'rule').sort(compareHits);
  const accountWide = hits.filter((h) => h.scope === 'account-wide').sort(compareHits);
  const pool = rules.length > 0 ? rules : accountWide;
  if (pool.length === 0) return undefined;
  return { winner: pool[0]!, beaten: rules.length > 0 ? accountWide[0] : undefined, outranked: pool.length - 1 };
}

// --------------------------------------------------- default actions, routes

/** Per event, the enabled default action that applies: a rule for this number over an account-wide one, then the oldest. */
export function pickDefaults(
  actions: readonly StoredAutomation<'default-actions'>[],
  whatsappPhno: string,
): Partial<Record<DefaultEvent, StoredAutomation<'default-actions'>>> {
  const picked: Partial<Record<DefaultEvent, StoredAutomation<'default-actions'>>> = {};
  for (const item of actions.filter((a) => appliesOn(a, whatsappPhno)).sort(byScopeThenAge(whatsappPhno))) {
    picked[item.body.event] ??= item;
  }
  return picked;
}

/** The first enabled route (rules first, then oldest) without keywords or with one the message contains. */
export function pickRoute(routes: readonly StoredAutomation<'routes'>[], whatsappPhno: string, text: string): StoredAutomation<'routes'> | undefined {
  return routes
    .filter((r) => appliesOn(r, whatsappPhno))
    .sort(byScopeThenAge(whatsappPhno))
    .find((r) => r.body.keywords.length === 0 || r.body.keywords.some((k) => contains(k, text)));
}

// ------------------------------------------------------------ working hours

export interface LocalClock {
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
  /** `Sat 22:10`. */
  label: string;
}

const clocks = new Map<string, Intl.DateTimeFormat>();

/** The weekday and time of day of an instant in an IANA time zone (daylight saving included). */
export function localClock(at: Date, timeZone: string): LocalClock {
  let format = clocks.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clocks.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  const day = String(parts.weekday);
  const weekday = day.slice(0, 3).toLowerCase() as Weekday;
  return { weekday, minutes: hour * 60 + minute, label: `${day} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** True when `at` falls in one of its weekday's intervals (`from` ≤ t < `to`, in the hours' time zone). */
export function withinHours(hours: WorkingHours, at: Date): boolean {
  const { weekday, minutes } = localClock(at, hours.timeZone);
  return (hours.days[weekday] ?? []).some(({ from, to }) => toMinutes(from) <= minutes && minutes < toMinutes(to));
}

// ----------------------------------------------------------------- chatbots

/** The id of a reply button or list row we send: `${chatbotId}:${stepId}:${optionIndex}` (0-based). */
export function optionReplyId(chatbotId: string, stepId: string, optionIndex: number): string {
  return `${chatbotId}:${stepId}:${optionIndex}`;
}

/** The parts of an id `optionReplyId` made, or undefined for any other id. */
export function parseOptionReplyId(id: string): { chatbotId: string; stepId: string; optionIndex: number } | undefined {
  const parts = id.split(':');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !/^\d{1,3}$/.test(parts[2]!)) return undefined;
  return { chatbotId: parts[0], stepId: parts[1], optionIndex: Number(parts[2]) };
}

export type OptionMatch =
  | { index: number; by: 'reply id' | 'title' | 'number' }
  /** A button or row of ours for another step or chatbot (an earlier message): not an answer here. */
  | { index: undefined; by: 'stale reply id' };

/**
 * The option of the step the message chose: by our reply id first, then by
 * normalised text equal to an option's normalised title, then by the option's
 * 1-based number typed alone (`2`). Undefined when none.
 */
export function matchOption(chatbotId: string, step: ChatbotStep, message: JudgedMessage): OptionMatch | undefined {
  const options = step.options ?? [];
  const ours = message.replyId === undefined ? undefined : parseOptionReplyId(message.replyId);
  if (ours) {
    if (ours.chatbotId === chatbotId && ours.stepId === step.id && ours.optionIndex < options.length) return { index: ours.optionIndex, by: 'reply id' };
    return { index: undefined, by: 'stale reply id' };
  }
  const text = normalise(message.text ?? '');
  if (text === '') return undefined;
  const byTitle = options.findIndex((o) => normalise(o.title) === text);
  if (byTitle >= 0) return { index: byTitle, by: 'title' };
  const n = /^\d{1,2}$/.test(text) ? Number(text) : 0;
  return n >= 1 && n <= options.length ? { index: n - 1, by: 'number' } : undefined;
}
