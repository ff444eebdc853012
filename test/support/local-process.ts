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
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const up = await until(async () => /Ctrl-C/.test(output) || child.exitCode !== null, 45_000);
  if (!up || child.exitCode !== null) {
    child.kill('SIGKILL');
    throw new Error(`npm start did not come up: ${output}`);
  }
  const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  const dynamoPort = Number(/DynamoDB Local\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  return { child, port, dynamoPort, url: `http://127.0.0.1:${port}`, output: () => output };
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
export async function until(check: () => Promise<boolean>, timeoutMs: number, pauseMs = 100): Promise<boolean> {
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
