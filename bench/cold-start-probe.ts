/**
 * Runs in a fresh `node` process (compiled to plain ESM by `cold-start.ts`):
 * imports one bundle, calls its handler once, and reports how long the
 * process took to get there, Node's own start included, as Lambda's init
 * plus first invocation would.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, resultFd] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile!, 'utf8'));
const context = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '512',
  awsRequestId: 'bench-request',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
};

const beforeImport = performance.now();
const { handler } = await import(pathToFileURL(bundle!).href);
const imported = performance.now();
const result = await handler(event, context);
const answered = performance.now();
const outcome = result?.statusCode ?? (Array.isArray(result?.batchItemFailures) ? `${result.batchItemFailures.length} failed` : 'done');
// Handlers log to stdout; the figure goes to its own descriptor.
const report = JSON.stringify({ beforeImportMs: beforeImport, importMs: imported - beforeImport, firstCallMs: answered - imported, totalMs: answered, outcome });
const { writeSync } = await import('node:fs');
writeSync(Number(resultFd), `${report}\n`);
process.exit(0);
