/**
 * Text normalisation and keyword matching of the automation engine
 * (docs/automations.md, "The decision order"). The same `normalise` is
 * applied to the keyword and to the message, in this order:
 *
 * 1. Unicode NFKC (full-width and compatibility forms become plain ones:
 *    `ＰＲＥÇＯ` → `PREÇO`, `ﬁ` → `fi`).
 * 2. Variation selectors U+FE0F and U+FE0E are dropped (`❤️` → `❤`).
 * 3. Case fold: `toLowerCase`, then `ß` → `ss` and final `ς` → `σ`.
 * 4. Latin diacritics are folded, nothing else: NFD, then the combining marks
 *    U+0300–U+036F that follow a letter of the Latin script (possibly after
 *    other such marks) are dropped, then NFC (`preço` → `preco`,
 *    `phở` → `pho`). A few Latin letters with a stroke fold too:
 *    `ø` `ł` `đ` `ħ` `ŧ` `ı` → `o` `l` `d` `h` `t` `i`. Marks of every other
 *    script are kept: Devanagari matras, Arabic harakat, Hebrew points, Thai
 *    vowels, and also the accents of Greek and Cyrillic (`й` stays `й`).
 * 5. Apostrophes (`'` `’`) are dropped inside words (`don't` = `dont`);
 *    any other Unicode punctuation (`\p{P}`) separates words
 *    (`PREÇO?` → `preco`, `e-mail` → `e mail`). Symbols (`\p{S}`: emoji,
 *    `❤`, `$`, `+`) are kept; an emoji is a word of its own
 *    (`obrigado❤️` → `obrigado ❤`). A zero-width space separates words.
 * 6. Whitespace is trimmed and every run of it becomes one space.
 *
 * `normalise` is idempotent. Matching, on normalised keyword and message
 * (a keyword that normalises to nothing, `"?!"`, matches nothing):
 * - `exact`: the two are equal;
 * - `contains`: the keyword's words appear, in a row, among the message's
 *   words (a whole word or phrase: `price` is in `the price?` but not in
 *   `prices`);
 * - `fuzzy`: the Damerau-Levenshtein distance (optimal string alignment: an
 *   insertion, deletion, substitution or swap of two neighbouring characters
 *   is one edit; counted in code points) between the keyword and the whole
 *   message, or any run of as many consecutive message words as the keyword
 *   has, is within the keyword's budget: `max(1, floor(length / 5))` edits for
 *   a keyword of ≥ 4 characters (4–9: 1, 10–14: 2, …), 0 edits below 4 (a
 *   short fuzzy keyword matches as a whole word or phrase only).
 */
import type { KeywordMatch } from '../../schemas/automations.js';

const STROKE_LETTERS: Readonly<Record<string, string>> = { ø: 'o', ł: 'l', đ: 'd', ħ: 'h', ŧ: 't', ı: 'i' };
const LATIN = /\p{Script=Latin}/u;
const MARK = /\p{M}/u;
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The normal form both keywords and messages are compared in (see the module comment). */
export function normalise(text: string): string {
  let out = text.normalize('NFKC').replace(/[\uFE0E\uFE0F]/gu, '');
  out = out.toLowerCase().replace(/ß/gu, 'ss').replace(/ς/gu, 'σ');
  out = foldLatin(out);
  out = out.replace(/['’]/gu, '').replace(/[\p{P}\u200B]/gu, ' ');
  out = spaceEmoji(out);
  return out.replace(/\s+/gu, ' ').trim();
}

/** NFD, drop U+0300–U+036F after a Latin base letter, NFC; stroke letters folded. */
function foldLatin(text: string): string {
  let latinBase = false;
  let out = '';
  for (const char of text.normalize('NFD')) {
    if (MARK.test(char)) {
      const code = char.codePointAt(0)!;
      if (latinBase && code >= 0x300 && code <= 0x36f) continue;
      out += char;
      continue;
    }
    latinBase = LATIN.test(char);
    out += STROKE_LETTERS[char] ?? char;
  }
  return out.normalize('NFC');
}

/** Puts spaces around each emoji grapheme (a ZWJ family or a flag stays one). */
function spaceEmoji(text: string): string {
  if (!EMOJI.test(text)) return text;
  let out = '';
  for (const { segment } of graphemes.segment(text)) out += EMOJI.test(segment) ? ` ${segment} ` : segment;
  return out;
}

/** The words of a normalised text. */
export function words(normalised: string): string[] {
  return normalised === '' ? [] : normalised.split(' ');
}

/** True when the normalised keyword and message are equal. */
export function exact(keyword: string, message: string): boolean {
  const k = normalise(keyword);
  return k !== '' && k === normalise(message);
}

/** True when the keyword is a whole word or phrase of the message. */
export function contains(keyword: string, message: string): boolean {
  const k = normalise(keyword);
  return k !== '' && ` ${normalise(message)} `.includes(` ${k} `);
}

/** Edits a fuzzy keyword may be away: `max(1, floor(length / 5))` from 4 code points, 0 below. */
export function fuzzyBudget(normalisedKeyword: string): number {
  const length = [...normalisedKeyword].length;
  return length < 4 ? 0 : Math.max(1, Math.floor(length / 5));
}

/** True when the whole message, or a run of as many words as the keyword has, is within the keyword's budget. */
export function fuzzy(keyword: string, message: string): boolean {
  const k = normalise(keyword);
  if (k === '') return false;
  const m = normalise(message);
  const budget = fuzzyBudget(k);
  if (distance(k, m, budget) <= budget) return true;
  const size = words(k).length;
  const ws = words(m);
  for (let i = 0; i + size <= ws.length; i++) {
    if (distance(k, ws.slice(i, i + size).join(' '), budget) <= budget) return true;
  }
  return false;
}

/** The matcher of each keyword match kind. */
export const MATCHERS: Readonly<Record<KeywordMatch, (keyword: string, message: string) => boolean>> = { exact, contains, fuzzy };

/**
 * Damerau-Levenshtein distance (optimal string alignment) in code points.
 * With `max`, any distance above it may be answered as `max + 1` (early exit).
 */
export function distance(a: string, b: string, max = Infinity): number {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[t.length]!;
}
