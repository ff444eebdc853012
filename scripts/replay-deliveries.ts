/**
 * What `npm run replay` does to the files it replays, kept apart from the
 * command so it can be tested alone: finding the delivery files, rewriting a
 * delivery's routing ids to a connected number without touching any other
 * byte, and adding up the webhook's answers.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The corpus' index (which file came from where): never a delivery itself. */
export const MANIFEST = 'MANIFEST.json';

/** The file itself, or every `*.json` under the folder (recursively, sorted, MANIFEST.json left out). */
export function deliveryFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json') && basename(entry.name) !== MANIFEST) files.push(full);
    }
  };
  walk(path);
  return files;
}

/** The connected number a delivery is rewritten to; a missing field leaves that id as it is. */
export interface ReplayTarget {
  phoneNumberId?: string;
  wabaId?: string;
  /** The number's whatsapp_phno (digits): written where Meta names the number (`display_phone_number`, `phone_number`). */
  whatsappPhno?: string;
}

type Path = (string | number)[];

/** The id a value at `path` is rewritten to, if it is a routing id. */
function routingId(path: Path, target: ReplayTarget): string | undefined {
  if (path[0] !== 'entry' || typeof path[1] !== 'number') return undefined;
  if (path.length === 3 && path[2] === 'id') return target.wabaId;
  if (path[2] !== 'changes' || typeof path[3] !== 'number' || path[4] !== 'value') return undefined;
  const rest = path.slice(5);
  if (rest.length === 2 && rest[0] === 'metadata') {
    if (rest[1] === 'phone_number_id') return target.phoneNumberId;
    if (rest[1] === 'display_phone_number') return target.whatsappPhno;
  }
  // WABA-level changes name their number in the value itself: quality updates, account updates.
  if (rest.length === 1 && (rest[0] === 'display_phone_number' || rest[0] === 'phone_number')) return target.whatsappPhno;
  return undefined;
}

export interface Rewritten {
  bytes: Buffer;
  /** How many ids were replaced by another value. */
  changed: number;
}

/**
 * The delivery with every routing id replaced: `entry[].id` (the WABA),
 * `entry[].changes[].value.metadata.phone_number_id` / `.display_phone_number`,
 * and a WABA-level value's `display_phone_number` / `phone_number`. Everything
 * else stays byte for byte (escapes, spacing, key order, even bytes that are
 * not UTF-8), so the replay is the capture apart from those ids. Throws a
 * SyntaxError when the bytes are not JSON.
 */
export function rewriteRoutingIds(bytes: Buffer, target: ReplayTarget): Rewritten {
  JSON.parse(bytes.toString('utf8'));
  const spans = routingSpans(bytes, (path) => routingId(path, target));
  const parts: Buffer[] = [];
  let at = 0;
  let changed = 0;
  for (const span of spans) {
    const replacement = Buffer.from(JSON.stringify(span.value), 'utf8');
    if (!replacement.equals(bytes.subarray(span.start, span.end))) changed++;
    parts.push(bytes.subarray(at, span.start), replacement);
    at = span.end;
  }
  parts.push(bytes.subarray(at));
  return { bytes: Buffer.concat(parts), changed };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const SCALAR_END = new Set([0x2c, 0x5d, 0x7d, ...WHITESPACE]);

/**
 * Where the string and number values `replace` names sit in valid JSON, as
 * byte offsets. It walks the bytes themselves: JSON's structure is ASCII, and
 * no byte of a multi-byte character (or of a non-UTF-8 one) is a quote or a
 * backslash, so a string is found without decoding it.
 */
function routingSpans(bytes: Buffer, replace: (path: Path) => string | undefined): { start: number; end: number; value: string }[] {
  const spans: { start: number; end: number; value: string }[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < bytes.length && WHITESPACE.has(bytes[i])) i++;
  };
  const skipString = () => {
    const start = i++;
    while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
    i++;
    return start;
  };
  const value = (path: Path): void => {
    skipSpace();
    const start = i;
    const first = bytes[i];
    if (first === 0x7b || first === 0x5b) {
      const object = first === 0x7b;
      i++;
      skipSpace();
      if (bytes[i] === (object ? 0x7d : 0x5d)) {
        i++;
        return;
      }
      for (let index = 0; i < bytes.length; index++) {
        let key: string | number = index;
        if (object) {
          skipSpace();
          key = JSON.parse(bytes.toString('utf8', skipString(), i)) as string;
          skipSpace();
          i++; // the colon
        }
        value([...path, key]);
        skipSpace();
        if (bytes[i++] !== 0x2c) return; // a comma continues, the closing bracket ends
      }
      return;
    }
    if (first === QUOTE) skipString();
    else while (i < bytes.length && !SCALAR_END.has(bytes[i])) i++;
    // Strings and numbers only: true, false and null are no ids.
    const isNumber = first === 0x2d || (first >= 0x30 && first <= 0x39);
    const replacement = first === QUOTE || isNumber ? replace(path) : undefined;
    if (replacement !== undefined) spans.push({ start, end: i, value: replacement });
  };
  value([]);
  return spans;
}

/** One file's answer from the webhook. */
export interface FileAnswer {
  file: string;
  /** The HTTP status; 0 when no answer came (the connection failed). */
  status: number;
  body: string;
  /** Why the ids were not rewritten, when they were meant to be. */
  note?: string;
}

export interface ReplaySummary {
  files: number;
  byStatus: Record<string, number>;
  /** The webhook's `{published, unrouted, invalid}` answers, added up. */
  totals: { published: number; unrouted: number; invalid: number };
  failed: FileAnswer[];
  /** Files answered 200 whose items were not all published: `invalid` items failed their schema, `unrouted` named no connected number. */
  skipped: { file: string; invalid: number; unrouted: number }[];
}

export function summarize(answers: FileAnswer[]): ReplaySummary {
  const byStatus: Record<string, number> = {};
  const totals = { published: 0, unrouted: 0, invalid: 0 };
  const skipped: ReplaySummary['skipped'] = [];
  for (const answer of answers) {
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    if (answer.status !== 200) continue;
    const counts = parsedCounts(answer.body);
    for (const key of ['published', 'unrouted', 'invalid'] as const) totals[key] += counts[key] ?? 0;
    if (counts.invalid || counts.unrouted) skipped.push({ file: answer.file, invalid: counts.invalid ?? 0, unrouted: counts.unrouted ?? 0 });
  }
  return { files: answers.length, byStatus, totals, failed: answers.filter((answer) => answer.status !== 200), skipped };
}

function parsedCounts(body: string): Partial<Record<'published' | 'unrouted' | 'invalid', number>> {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'number')) as Partial<Record<'published' | 'unrouted' | 'invalid', number>>;
  } catch {
    return {};
  }
}

/** `[#########.....................] 42/123`, as wide as `width` marks. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/**
 * The files a dead letter's event most likely came from: those naming its
 * Meta id (a wamid, or the first part of `{wamid}:{status}`) as a JSON string.
 * Ids the webhook derives itself (`tpl:…`, `upd:…`) name no file.
 */
export function filesNaming(eventId: string | undefined, files: { file: string; bytes: Buffer }[]): string[] {
  if (!eventId || /^(tpl|upd):/.test(eventId)) return [];
  const id = eventId.includes(':') ? eventId.slice(0, eventId.lastIndexOf(':')) : eventId;
  const needle = JSON.stringify(id);
  return files.filter(({ bytes }) => bytes.includes(needle)).map(({ file }) => file);
}
