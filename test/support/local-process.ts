/**
 * `npm start` as a child process, for the end-to-end tests that need the real
 * process tree (signals, restarts, ports): started through npm itself or as
 * its script runs it, waited for until its banner is printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';

export interface StartedProcess {
  child: ChildProcess;
  port: number;
  url: string;
  dynamoPort: number;
  output: () => string;
}

/** `via: 'npm'` runs `npm start -- …args`; `'node'` runs what the script execs (`node --import tsx local/main.ts …args`). */
export async function startLocalProcess(args: string[], options: { via?: 'npm' | 'node'; env?: NodeJS.ProcessEnv } = {}): Promise<StartedProcess> {
  const env = { ...process.env, PORT: '', ...options.env };
  const child =
    options.via === 'npm'
      ? spawn('npm', ['start', '--', ...args], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  const up = await banner(child, output, 45_000);
  if (!up || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`npm start did not come up: ${output()}`);
  }
  const { port, dynamoPort } = bannerPorts(output());
  return { child, port, dynamoPort, url: `http://127.0.0.1:${port}`, output };
}

/** Everything the child writes to stdout and stderr, as it comes. */
export function collectOutput(child: ChildProcess): () => string {
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return () => output;
}

/** Resolves true as soon as the banner (its last line names Ctrl-C) is out, false when the child exits first or the time is up. */
export function banner(child: ChildProcess, output: () => string, timeoutMs: number): Promise<boolean> {
  if (/Ctrl-C/.test(output())) return Promise.resolve(true);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (up: boolean) => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', exited);
      resolve(up);
    };
    // Listeners run in the order they were added: collectOutput's has appended this chunk already.
    const check = () => {
      if (/Ctrl-C/.test(output())) done(true);
    };
    const exited = () => done(/Ctrl-C/.test(output()));
    const timer = setTimeout(() => done(/Ctrl-C/.test(output())), timeoutMs);
    child.stdout!.on('data', check);
    child.once('exit', exited);
  });
}

/** The runtime's and its DynamoDB Local's ports, from the banner. */
export function bannerPorts(output: string): { port: number; dynamoPort: number } {
  const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  const dynamoPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  return { port, dynamoPort };
}

/** Sends the signal and resolves with the exit code once the process is gone. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it holds or the time is up; answers its last result. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, pauseMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return check();
}

/** A token from the runtime's `POST /local/token`. */
export async function mintToken(url: string, body: object): Promise<string> {
  const res = await fetch(`${url}/local/token`, { method: 'POST', body: JSON.stringify(body) });
  return ((await res.json()) as { token: string }).token;
}
