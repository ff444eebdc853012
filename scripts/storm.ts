/**
 * `npm run storm -- [--deliveries N] [--concurrency C] [--seed S] [--json]`: a webhook storm against a local runtime
 * of its own (DynamoDB Local, the Graph API simulator, the in-process bus): the seeded plan of
 * `test/support/storm.ts` set up, posted `C` at a time, waited on until nothing moves, then checked through the API.
 * Prints the figures (deliveries, posts, events, duplicates, elapsed) and every invariant that failed; exit code 0
 * when all held, 1 when one did not, 2 on a usage error. `test/e2e/storm.test.ts` runs a small one in `npm test`.
 */
import { parseArgs } from 'node:util';

// The AWS SDK's notice about Node 20 is noise here: set before the runtime (and so the SDK) is imported below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = [
  'usage: npm run storm -- [options]',
  '  --deliveries N    distinct deliveries, each posted 1-3 times (default 2000)',
  '  --concurrency C   posts in flight at once (default 25)',
  '  --seed S          the PRNG seed: the same seed plans the same storm (default 19)',
  '  --json            print the figures and failures as JSON on stdout',
].join('\n');

function wholeNumber(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be a whole number of at least ${min}, not ${value}`);
  return parsed;
}

async function main(argv: string[]): Promise<number> {
  let options: { deliveries: number; concurrency: number; seed: number; json: boolean };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { deliveries: { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    options = {
      deliveries: wholeNumber('deliveries', values.deliveries, 2000, 20),
      concurrency: wholeNumber('concurrency', values.concurrency, 25, 1),
      seed: wholeNumber('seed', values.seed, 19, 0),
      json: values.json ?? false,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  const { startLocalRuntime } = await import('../local/runtime.js');
  const { checkStorm, formatFigures, planStorm, runStorm, setUpStorm } = await import('../test/support/storm.js');
  const errors: string[] = [];
  const log = (line: string) => {
    // What a 5xx or a lost event leaves in the runtime's log: a failure of the storm, whatever the API shows after.
    if (/webhook answered|local runtime error|graph simulator error|dead letter/.test(line)) errors.push(line);
  };
  const say = (line: string) => {
    if (!options.json) console.error(line);
  };
  say(`storm: starting a local runtime (DynamoDB Local, Graph API simulator) …`);
  const runtime = await startLocalRuntime({ port: 0, log });
  try {
    const plan = planStorm({ deliveries: options.deliveries, seed: options.seed });
    say(`storm: seed ${options.seed}, ${plan.deliveries.length} deliveries to 4 numbers of 2 accounts; setting up …`);
    const world = await setUpStorm(runtime, plan);
    say(`storm: posting at ${options.concurrency}-way concurrency, then waiting until nothing moves …`);
    const run = await runStorm(runtime, world, plan, options.concurrency);
    say(`storm: ${run.posts} posts in ${run.elapsedMs} ms, quiet ${run.quiesceMs} ms later; checking …`);
    const report = await checkStorm(runtime, world, plan, run, options.concurrency);
    const failures = [...report.failures, ...errors.map((line) => `runtime log: ${line}`)];
    if (options.json) console.log(JSON.stringify({ figures: report.figures, failures }, null, 2));
    else {
      console.log(`storm figures:\n${formatFigures(report.figures)}`);
      if (failures.length) console.log(`storm: ${failures.length} invariant(s) FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
      else console.log('storm: every invariant held (one message per number and wamid, statuses at their highest rank, contacts once per number, one automatic reply per triggering message, quotas exact, only 200s, no dead letters)');
    }
    return failures.length ? 1 : 0;
  } finally {
    await runtime.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`storm: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
