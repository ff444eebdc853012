/**
 * `npm start` arguments. Both spellings work:
 *   npm start -- --persist DIR --port N     (the arguments reach us as written)
 *   npm start --persist DIR --port N        (npm keeps `--persist`/`--port` as its own config,
 *                                            sets npm_config_persist/npm_config_port, and passes DIR/N on)
 * Anything else is answered with one usage line, never a stack trace.
 */
import { parseArgs } from 'node:util';

export const USAGE = 'usage: npm start -- [--port N] [--persist DIR]  (or PORT=N, LOCAL_PERSIST_DIR=DIR)';

/** One line: what is wrong, then the usage. */
export class UsageError extends Error {
  constructor(problem?: string) {
    super(problem ? `npm start: ${problem}. ${USAGE}` : USAGE);
  }
}

export interface StartOptions {
  port: number;
  persistDir?: string;
}

export function parseStartArgs(argv: string[], env: NodeJS.ProcessEnv, defaultPort: number): StartOptions {
  let values: { persist?: string; port?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { persist: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    const option = /'(-[^' ]+)/.exec((error as Error).message)?.[1];
    const unknown = (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    throw new UsageError(unknown ? `unknown option '${option}'` : `option '${option}' needs a value`);
  }
  if (values.help) throw new UsageError();
  const rest = [...positionals];
  // npm's form: `--persist DIR` becomes npm_config_persist=true plus a positional DIR (`--persist=DIR` gives the value itself).
  const fromNpm = (name: 'persist' | 'port', pick: (candidates: string[]) => number): string | undefined => {
    const value = env[`npm_config_${name}`];
    if (value === undefined || value === '') return undefined;
    if (value !== 'true') return value;
    const index = pick(rest);
    if (index < 0) throw new UsageError(`option '--${name}' needs a value`);
    return rest.splice(index, 1)[0];
  };
  const port = values.port ?? fromNpm('port', (c) => c.findIndex((v) => /^\d+$/.test(v)));
  const persist = values.persist ?? fromNpm('persist', (c) => (c.length ? 0 : -1));
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const portText = port ?? (env.PORT || String(defaultPort));
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`the port must be a number from 0 to 65535, not '${portText}'`);
  return { port: Number(portText), persistDir: persist ?? (env.LOCAL_PERSIST_DIR || undefined) };
}
