/**
 * `npm run replay -- <file or folder> [options]`: posts captured Meta webhook
 * deliveries to a running runtime's `/webhook`, each signed over the exact
 * bytes it sends, optionally rewritten to a connected number first; draws a
 * progress bar on stderr and prints a summary of the answers. Exit code 0 when
 * every file answered 200 and no dead letter appeared, 1 otherwise, 2 on a
 * usage error. README "Replaying captured deliveries" has the walkthrough.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signatureFor } from '../functions/webhook/signature.js';
import { type FileAnswer, type ReplaySummary, type ReplayTarget, deliveryFiles, filesNaming, progressBar, rewriteRoutingIds, summarize } from './replay-deliveries.js';

const USAGE = [
  'usage: npm run replay -- <file or folder> [options]',
  '  --to PHNO                rewrite the routing ids to this connected number (looked up with GET /v1/numbers)',
  '  --account ACC            the account of --to, against the local runtime (a support token is minted there)',
  '  --token BEARER           a token of the account of --to, for any runtime (instead of --account)',
  '  --phone-number-id ID     rewrite to this phone_number_id (with --waba-id: no lookup)',
  '  --waba-id ID             rewrite entry[].id to this WABA id',
  '  --url URL                the runtime (default http://127.0.0.1:3000); deliveries go to URL/webhook',
  '  --secret SECRET          the app secret to sign with (default WHATSAPP_APP_SECRET, else local-app-secret)',
  '  --concurrency N          deliveries in flight at once (default 4)',
  '  --no-check-dead-letters  skip reading URL/local/bus/dead-letters after the run (on by default against 127.0.0.1/localhost)',
  '  --json                   print the summary as JSON on stdout',
].join('\n');

class UsageError extends Error {}

interface Options {
  path: string;
  url: string;
  secret: string;
  concurrency: number;
  json: boolean;
  checkDeadLetters: boolean;
  to?: string;
  account?: string;
  token?: string;
  phoneNumberId?: string;
  wabaId?: string;
}

function parseOptions(argv: string[]): Options {
  let parsed: ReturnType<typeof parse>;
  const parse = (args: string[]) =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        account: { type: 'string' },
        token: { type: 'string' },
        'phone-number-id': { type: 'string' },
        'waba-id': { type: 'string' },
        url: { type: 'string' },
        secret: { type: 'string' },
        concurrency: { type: 'string' },
        'check-dead-letters': { type: 'boolean' },
        'no-check-dead-letters': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one file or folder, not ${positionals.length}` : 'name a file or folder to replay');
  const url = (values.url ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  let local: boolean;
  try {
    local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number of at least 1, not ${values.concurrency}`);
  const to = values.to === undefined ? undefined : values.to.replace(/\D/g, '');
  if (to === '') throw new UsageError(`--to must be a phone number (its digits), not ${values.to}`);
  if ((values['phone-number-id'] === undefined) !== (values['waba-id'] === undefined)) throw new UsageError('--phone-number-id and --waba-id go together');
  return {
    path: positionals[0],
    url,
    secret: values.secret ?? (process.env.WHATSAPP_APP_SECRET || 'local-app-secret'),
    concurrency,
    json: values.json ?? false,
    checkDeadLetters: values['no-check-dead-letters'] ? false : (values['check-dead-letters'] ?? local),
    to,
    account: values.account,
    token: values.token,
    phoneNumberId: values['phone-number-id'],
    wabaId: values['waba-id'],
  };
}

/** Where the deliveries are rewritten to: the explicit ids, or the connected number's, asked of the runtime. */
async function replayTarget(options: Options): Promise<ReplayTarget | undefined> {
  if (options.phoneNumberId !== undefined) return { phoneNumberId: options.phoneNumberId, wabaId: options.wabaId, whatsappPhno: options.to };
  if (options.to === undefined) return undefined;
  if (options.token === undefined && options.account === undefined) throw new UsageError('--to needs the account: --account acc_… (local runtime) or --token <bearer>');
  const bearer = options.token ?? (await localSupportToken(options.url));
  const res = await fetch(`${options.url}/v1/numbers`, {
    headers: { authorization: `Bearer ${bearer}`, ...(options.token === undefined ? { 'x-account-id': options.account! } : {}) },
  });
  const text = await res.text();
  if (res.status !== 200) throw new UsageError(`GET ${options.url}/v1/numbers answered ${res.status}: ${text.slice(0, 300)}`);
  const numbers = (JSON.parse(text) as { items: { whatsapp_phno: string; phoneNumberId: string; wabaId: string }[] }).items;
  const number = numbers.find((n) => n.whatsapp_phno === options.to);
  if (!number) throw new UsageError(`${options.to} is not connected to that account (its numbers: ${numbers.map((n) => n.whatsapp_phno).join(', ') || 'none'})`);
  return { phoneNumberId: number.phoneNumberId, wabaId: number.wabaId, whatsappPhno: number.whatsapp_phno };
}

async function localSupportToken(url: string): Promise<string> {
  const res = await fetch(`${url}/local/token`, { method: 'POST', body: JSON.stringify({ role: 'support' }) });
  if (res.status !== 200) throw new UsageError(`POST ${url}/local/token answered ${res.status}: --account works against the local runtime only; elsewhere pass --token`);
  return ((await res.json()) as { token: string }).token;
}

/** Reads, rewrites, signs and posts one file. */
async function replayFile(file: string, options: Options, target: ReplayTarget | undefined): Promise<FileAnswer> {
  let bytes: Buffer = readFileSync(file);
  let note: string | undefined;
  if (target) {
    try {
      bytes = rewriteRoutingIds(bytes, target).bytes;
    } catch (error) {
      // Posted as captured all the same: the webhook's answer to it is what a replay is for.
      note = `not JSON (${(error as Error).message}): posted unchanged`;
    }
  }
  try {
    const res = await fetch(`${options.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureFor(bytes, options.secret) },
      body: bytes,
    });
    return { file, status: res.status, body: await res.text(), ...(note ? { note } : {}) };
  } catch (error) {
    return { file, status: 0, body: String((error as Error).cause ?? (error as Error).message), ...(note ? { note } : {}) };
  }
}

/** Posts every file, `concurrency` at a time, in the files' order; the answers keep that order. */
async function replayAll(files: string[], options: Options, target: ReplayTarget | undefined): Promise<FileAnswer[]> {
  const answers: FileAnswer[] = new Array(files.length);
  const tty = process.stderr.isTTY === true;
  let next = 0;
  let done = 0;
  const draw = () => process.stderr.write(`\r${progressBar(done, files.length)}`);
  if (tty) draw();
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      answers[index] = await replayFile(files[index], options, target);
      done++;
      if (tty) draw();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, files.length) }, worker));
  // Not a terminal (a log, CI): no redrawing, the final bar once.
  process.stderr.write(tty ? '\n' : `${progressBar(done, files.length)}\n`);
  return answers;
}

interface DeadLetterView {
  rule: string;
  consumer: string;
  messageId: string;
  attempts: number;
  error: string;
  event?: { 'detail-type'?: string; detail?: { eventId?: string } };
}

async function deadLetters(url: string): Promise<DeadLetterView[] | undefined> {
  try {
    const res = await fetch(`${url}/local/bus/dead-letters`);
    if (res.status !== 200) return undefined;
    return ((await res.json()) as { items: DeadLetterView[] }).items;
  } catch {
    return undefined;
  }
}

/** Waits until the local bus has delivered everything under way, retries included (the dead letters are final then). */
async function drainLocalBus(url: string): Promise<void> {
  const res = await fetch(`${url}/local/bus/drain`, { method: 'POST', signal: AbortSignal.timeout(120_000) }).catch(() => undefined);
  // An older runtime without the drain route: give its retries (200 ms, 400 ms) time to end.
  if (res?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 3_000));
}

const deadLetterKey = (d: DeadLetterView) => `${d.consumer}|${d.messageId}|${d.attempts}`;

interface Report extends ReplaySummary {
  url: string;
  target?: ReplayTarget;
  /** The dead letters that appeared during the run; absent when not checked (or not available). */
  deadLetters?: { consumer: string; rule: string; detailType?: string; eventId?: string; error: string; files: string[] }[];
}

function printReport(report: Report): void {
  const lines = [`replay: ${report.files} file${report.files === 1 ? '' : 's'} → ${report.url}/webhook`];
  if (report.target) {
    const t = report.target;
    lines.push(`  rewritten to: ${[t.whatsappPhno && `whatsapp_phno ${t.whatsappPhno}`, t.phoneNumberId && `phone_number_id ${t.phoneNumberId}`, t.wabaId && `WABA ${t.wabaId}`].filter(Boolean).join(', ')}`);
  }
  const statuses = Object.entries(report.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status === '0' ? 'no answer' : status} ×${n}`);
  lines.push(`  answers: ${statuses.join(', ') || 'none'}`);
  lines.push(`  webhook totals: published ${report.totals.published}, unrouted ${report.totals.unrouted}, invalid ${report.totals.invalid}`);
  lines.push(`  dead letters during the run: ${report.deadLetters === undefined ? 'not checked' : report.deadLetters.length}`);
  for (const d of report.deadLetters ?? []) {
    lines.push(`    ${d.consumer} (rule ${d.rule}): ${d.detailType ?? '?'} ${d.eventId ?? '?'}: ${d.error}${d.files.length ? ` ← ${d.files.join(', ')}` : ''}`);
  }
  if (report.skipped.length) lines.push(`  answered 200 with items not published: ${report.skipped.length}`);
  for (const f of report.skipped) lines.push(`    ${f.file}: invalid ${f.invalid}, unrouted ${f.unrouted}`);
  lines.push(`  not 200: ${report.failed.length === 0 ? 'none' : report.failed.length}`);
  for (const f of report.failed) lines.push(`    ${f.file}: ${f.status === 0 ? 'no answer' : f.status} ${f.body.slice(0, 300)}${f.note ? ` (${f.note})` : ''}`);
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  let options: Options;
  let target: ReplayTarget | undefined;
  let files: string[];
  try {
    options = parseOptions(process.argv.slice(2));
    try {
      files = deliveryFiles(options.path);
    } catch (error) {
      throw new UsageError(`cannot read ${options.path}: ${(error as Error).message}`);
    }
    target = await replayTarget(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message ? `npm run replay: ${error.message}\n${USAGE}` : USAGE);
    return 2;
  }
  const before = options.checkDeadLetters ? await deadLetters(options.url) : undefined;
  const answers = await replayAll(files, options, target);
  const report: Report = { url: options.url, ...(target ? { target } : {}), ...summarize(answers) };
  if (before !== undefined) {
    await drainLocalBus(options.url);
    const seen = new Set(before.map(deadLetterKey));
    const after = await deadLetters(options.url);
    if (after !== undefined) {
      const fresh = after.filter((d) => !seen.has(deadLetterKey(d)));
      const contents = fresh.length ? files.map((file) => ({ file, bytes: readFileSync(file) })) : [];
      report.deadLetters = fresh.map((d) => {
        const eventId = d.event?.detail?.eventId;
        return { consumer: d.consumer, rule: d.rule, detailType: d.event?.['detail-type'], eventId, error: d.error, files: filesNaming(eventId, contents) };
      });
    }
  }
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
  return report.failed.length > 0 || (report.deadLetters?.length ?? 0) > 0 ? 1 : 0;
}

process.exitCode = await main();
