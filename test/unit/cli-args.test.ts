import { describe, expect, it } from 'vitest';
import { USAGE, UsageError, parseStartArgs } from '../../local/cli-args.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseStartArgs(argv, env, 3000);

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('npm start arguments', () => {
  it('takes the flags as written after `npm start --`', () => {
    expect(parse(['--persist', '.local-data', '--port', '3001'])).toEqual({ port: 3001, persistDir: '.local-data' });
    expect(parse(['--persist=dir', '--port=0'])).toEqual({ port: 0, persistDir: 'dir' });
  });

  it("takes npm's own form: npm keeps the flag as config and passes its value on as an argument", () => {
    // `npm start --persist DIR --port 3005`
    expect(parse(['DIR', '3005'], { npm_config_persist: 'true', npm_config_port: 'true' })).toEqual({ port: 3005, persistDir: 'DIR' });
    // `npm start --port 3005 --persist DIR` (npm does not keep the order: the number is the port)
    expect(parse(['3005', 'DIR'], { npm_config_persist: 'true', npm_config_port: 'true' })).toEqual({ port: 3005, persistDir: 'DIR' });
    // `npm start --persist=DIR`
    expect(parse([], { npm_config_persist: 'DIR' })).toEqual({ port: 3000, persistDir: 'DIR' });
  });

  it('falls back to PORT and LOCAL_PERSIST_DIR, then the default port and memory', () => {
    expect(parse([], { PORT: '4000', LOCAL_PERSIST_DIR: 'kept' })).toEqual({ port: 4000, persistDir: 'kept' });
    expect(parse([], { PORT: '' })).toEqual({ port: 3000, persistDir: undefined });
  });

  it('answers an unknown option, a stray argument or a bad port with one usage line', () => {
    for (const [argv, problem] of [
      [['--persits', 'x'], "unknown option '--persits'"],
      [['--port'], "option '--port' needs a value"],
      [['extra'], "unexpected argument 'extra'"],
      [['--port', 'abc'], "not 'abc'"],
      [['--port', '70000'], "not '70000'"],
    ] as const) {
      const message = usageError([...argv]);
      expect(message).toContain(problem);
      expect(message).toContain(USAGE);
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  it('says so when npm kept a flag but no value came with it', () => {
    expect(usageError([], { npm_config_persist: 'true' })).toContain("option '--persist' needs a value");
  });
});
