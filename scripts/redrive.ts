/**
 * `npm run redrive -- <queue> [options]`: moves a dead-letter queue's messages
 * back to where they failed (README "Runbook: a DLQ alarm fired (redrive)").
 *
 * - Against a runtime (the default, `--url`, http://127.0.0.1:3000): `<queue>`
 *   is `bus` (every rule's dead letters, or one rule's with `--rule`),
 *   `send-queue` or `webhook-deliveries`; it POSTs
 *   `/local/…/dead-letters/redrive`, and for the bus waits until the
 *   redriven events are worked (`POST /local/bus/drain`), then prints how
 *   many dead letters are left.
 * - With `--aws`: `<queue>` is the DLQ's name or URL (its ARN is read with
 *   GetQueueUrl + GetQueueAttributes, or given with `--source-arn`); an SQS
 *   `StartMessageMoveTask` moves its messages back to the queue SQS moved
 *   them from (or to `--destination-arn`: a rule's target DLQ holds events
 *   EventBridge never put on a queue, so it needs one), and
 *   `ListMessageMoveTasks` is polled until the task ends.
 *
 * Exit code 0 when everything was moved (and, locally, no dead letter is
 * left), 1 otherwise, 2 on a usage error.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
// Types only: the SDK is loaded for --aws alone, so a local redrive starts quickly.
import type { ListMessageMoveTasksResultEntry, SQSClient } from '@aws-sdk/client-sqs';

const USAGE = [
  'usage: npm run redrive -- <queue> [options]',
  '  <queue>                 locally: bus | send-queue | webhook-deliveries; with --aws: the DLQ name or URL',
  '  --url URL               the local runtime (default http://127.0.0.1:3000)',
  '  --rule RULE             bus only: redrive one rule\'s dead letters (e.g. integrations, automation)',
  '  --aws                   redrive an SQS DLQ in AWS with StartMessageMoveTask (credentials and region from the environment)',
  '  --source-arn ARN        the DLQ ARN (skips the GetQueueUrl + GetQueueAttributes lookup)',
  '  --destination-arn ARN   where to move the messages (default: the queue SQS dead-lettered them from)',
  '  --max-per-second N      StartMessageMoveTask\'s MaxNumberOfMessagesPerSecond (default: SQS decides)',
  '  --poll-ms N             how often ListMessageMoveTasks is read (default 2000)',
  '  --timeout-s N           give up waiting for the task after N seconds (default 900; the task goes on)',
  '  --json                  print the result as JSON on stdout',
].join('\n');

export const LOCAL_QUEUES = {
  bus: '/local/bus/dead-letters/redrive',
  'send-queue': '/local/send-queue/dead-letters/redrive',
  'webhook-deliveries': '/local/webhook-deliveries/dead-letters/redrive',
} as const;
export type LocalQueue = keyof typeof LOCAL_QUEUES;

class UsageError extends Error {}

export interface RedriveOptions {
  queue: string;
  url: string;
  json: boolean;
  rule?: string;
  aws: boolean;
  sourceArn?: string;
  destinationArn?: string;
  maxPerSecond?: number;
  pollMs: number;
  timeoutMs: number;
}

export function parseOptions(argv: string[]): RedriveOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        rule: { type: 'string' },
        aws: { type: 'boolean' },
        'source-arn': { type: 'string' },
        'destination-arn': { type: 'string' },
        'max-per-second': { type: 'string' },
        'poll-ms': { type: 'string' },
        'timeout-s': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  const aws = values.aws === true;
  // With --source-arn the queue name is not needed.
  if (positionals.length > 1) throw new UsageError(`one queue, not ${positionals.length}`);
  const queue = positionals[0] ?? '';
  if (!queue && !(aws && values['source-arn'])) throw new UsageError('name a queue');
  if (!aws) {
    if (!(queue in LOCAL_QUEUES)) throw new UsageError(`unknown local queue "${queue}": one of ${Object.keys(LOCAL_QUEUES).join(', ')} (or --aws for an SQS queue)`);
    if (values.rule !== undefined && queue !== 'bus') throw new UsageError('--rule is for the bus only');
    for (const awsOnly of ['source-arn', 'destination-arn', 'max-per-second'] as const) {
      if (values[awsOnly] !== undefined) throw new UsageError(`--${awsOnly} needs --aws`);
    }
  } else if (values.rule !== undefined) {
    throw new UsageError('--rule is for the local bus; in AWS every rule has its own DLQ: name it');
  }
  if (values['source-arn'] !== undefined && !/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[\w.-]+$/.test(values['source-arn'])) {
    throw new UsageError(`--source-arn is not an SQS queue ARN: ${values['source-arn']}`);
  }
  const url = (values.url ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  return {
    queue,
    url,
    json: values.json === true,
    aws,
    ...(values.rule !== undefined ? { rule: values.rule } : {}),
    ...(values['source-arn'] !== undefined ? { sourceArn: values['source-arn'] } : {}),
    ...(values['destination-arn'] !== undefined ? { destinationArn: values['destination-arn'] } : {}),
    ...(values['max-per-second'] !== undefined ? { maxPerSecond: positiveInt(values['max-per-second'], '--max-per-second') } : {}),
    pollMs: values['poll-ms'] !== undefined ? positiveInt(values['poll-ms'], '--poll-ms') : 2_000,
    timeoutMs: (values['timeout-s'] !== undefined ? positiveInt(values['timeout-s'], '--timeout-s') : 900) * 1_000,
  };
}

function positiveInt(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, not ${text}`);
  return n;
}

// ---------------------------------------------------------------- local

export interface LocalResult {
  queue: LocalQueue;
  redriven: number;
  /** Dead letters left once the redriven messages were worked (the bus), or right after the move (the queues). */
  remaining: number;
}

export async function redriveLocal(options: Pick<RedriveOptions, 'queue' | 'url' | 'rule'>): Promise<LocalResult> {
  const queue = options.queue as LocalQueue;
  const res = await fetch(`${options.url}${LOCAL_QUEUES[queue]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options.rule === undefined ? {} : { rule: options.rule }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${LOCAL_QUEUES[queue]} answered ${res.status}: ${text}`);
  const answer = JSON.parse(text) as { redriven: number; remaining: number };
  if (queue !== 'bus') return { queue, redriven: answer.redriven, remaining: answer.remaining };
  // The bus says when every delivery under way, retries included, is done: the dead letters are final then.
  const drained = await fetch(`${options.url}/local/bus/drain`, { method: 'POST' });
  if (drained.status !== 200) throw new Error(`POST /local/bus/drain answered ${drained.status}`);
  const { deadLetters } = (await drained.json()) as { deadLetters: number };
  return { queue, redriven: answer.redriven, remaining: deadLetters };
}

// ---------------------------------------------------------------- AWS

export interface AwsResult {
  sourceArn: string;
  destinationArn?: string;
  taskHandle: string;
  status: string;
  moved: number;
  toMove?: number;
  failureReason?: string;
}

export interface AwsDeps {
  sqs: Pick<SQSClient, 'send'>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** The DLQ's ARN: given, or read from its URL (a name is turned into one with GetQueueUrl). */
export async function resolveSourceArn(sqs: AwsDeps['sqs'], queue: string, sourceArn?: string): Promise<string> {
  if (sourceArn) return sourceArn;
  const { GetQueueAttributesCommand, GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
  const queueUrl = /^https?:\/\//.test(queue) ? queue : (await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
  if (!queueUrl) throw new Error(`GetQueueUrl gave no URL for ${queue}`);
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes gave no QueueArn for ${queueUrl}`);
  return arn;
}

/**
 * Starts the move task and polls it to its end. `ListMessageMoveTasks` names
 * a task's handle only while it runs, newest first: the task is the entry
 * with our handle, or, once none has it, the newest entry started no earlier
 * than us.
 */
export async function redriveAws(options: Pick<RedriveOptions, 'queue' | 'sourceArn' | 'destinationArn' | 'maxPerSecond' | 'pollMs' | 'timeoutMs'>, deps: AwsDeps): Promise<AwsResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const progress = deps.progress ?? (() => undefined);
  const { ListMessageMoveTasksCommand, StartMessageMoveTaskCommand } = await import('@aws-sdk/client-sqs');
  const sourceArn = await resolveSourceArn(deps.sqs, options.queue, options.sourceArn);
  const startedAt = now();
  const started = await deps.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(options.destinationArn ? { DestinationArn: options.destinationArn } : {}),
      ...(options.maxPerSecond ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
    }),
  );
  const taskHandle = started.TaskHandle;
  if (!taskHandle) throw new Error('StartMessageMoveTask gave no TaskHandle');
  progress(`redrive: move task started from ${sourceArn}${options.destinationArn ? ` to ${options.destinationArn}` : ' to its source queue'}`);
  const deadline = startedAt + options.timeoutMs;
  let last: ListMessageMoveTasksResultEntry | undefined;
  for (;;) {
    const { Results = [] } = await deps.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    // StartedTimestamp is in milliseconds; a minute of clock skew between this machine and SQS is allowed.
    const task = Results.find((r) => r.TaskHandle === taskHandle) ?? Results.find((r) => !r.TaskHandle && (r.StartedTimestamp ?? 0) >= startedAt - 60_000);
    if (task) {
      last = task;
      progress(`redrive: ${task.Status} ${task.ApproximateNumberOfMessagesMoved ?? 0}/${task.ApproximateNumberOfMessagesToMove ?? '?'}`);
      if (task.Status && TERMINAL.has(task.Status)) break;
    }
    if (now() >= deadline) {
      return { ...result(sourceArn, options.destinationArn, taskHandle, last), status: 'TIMED_OUT' };
    }
    await sleep(options.pollMs);
  }
  return result(sourceArn, options.destinationArn, taskHandle, last);
}

function result(sourceArn: string, destinationArn: string | undefined, taskHandle: string, task: ListMessageMoveTasksResultEntry | undefined): AwsResult {
  return {
    sourceArn,
    ...(destinationArn ? { destinationArn } : {}),
    taskHandle,
    status: task?.Status ?? 'UNKNOWN',
    moved: task?.ApproximateNumberOfMessagesMoved ?? 0,
    ...(task?.ApproximateNumberOfMessagesToMove !== undefined ? { toMove: task.ApproximateNumberOfMessagesToMove } : {}),
    ...(task?.FailureReason ? { failureReason: task.FailureReason } : {}),
  };
}

// ---------------------------------------------------------------- CLI

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  sqs?: () => AwsDeps['sqs'];
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The whole command: parses, redrives, prints; answers the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let options: RedriveOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) io.err(`redrive: ${error.message}\n`);
    io.err(`${USAGE}\n`);
    return 2;
  }
  try {
    if (!options.aws) {
      const local = await redriveLocal(options);
      if (options.json) io.out(`${JSON.stringify(local)}\n`);
      else io.out(`redrive: ${local.redriven} dead letter(s) of ${local.queue}${options.rule ? ` (rule ${options.rule})` : ''} moved back; ${local.remaining} left\n`);
      return local.remaining === 0 ? 0 : 1;
    }
    const sqs = io.sqs?.() ?? new (await import('@aws-sdk/client-sqs')).SQSClient({});
    const aws = await redriveAws(options, { sqs, sleep: io.sleep, now: io.now, progress: (line) => io.err(`${line}\n`) });
    if (options.json) io.out(`${JSON.stringify(aws)}\n`);
    else {
      io.out(`redrive: ${aws.status}: ${aws.moved}${aws.toMove === undefined ? '' : `/${aws.toMove}`} message(s) moved from ${aws.sourceArn}${aws.failureReason ? ` (${aws.failureReason})` : ''}\n`);
      if (aws.status === 'TIMED_OUT') io.out(`redrive: still running; follow it with aws sqs list-message-move-tasks --source-arn ${aws.sourceArn}\n`);
    }
    return aws.status === 'COMPLETED' ? 0 : 1;
  } catch (error) {
    const cause = (error as Error).cause;
    io.err(`redrive: ${(error as Error).name === 'Error' ? '' : `${(error as Error).name}: `}${(error as Error).message}${cause ? ` (${String((cause as Error).message ?? cause)})` : ''}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
}
