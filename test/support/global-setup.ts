/**
 * Vitest global setup: one DynamoDB Local for the whole run, on a free port.
 * Each test file creates its own table (`test/support/dynamo.ts`), so files
 * run in parallel without seeing each other's data.
 *
 * The engine's JVM takes seconds to start: the run does not wait for it.
 * Files that never touch it (unit, infra, the e2e files with their own
 * runtimes) start at once; `createTestTable` waits until it answers.
 */
import type { TestProject } from 'vitest/node';
import { JavaMissing, freePort, startDynamoDbLocal } from '../../local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const port = await freePort();
  const engine = startDynamoDbLocal({ port });
  // Without Java it refuses before starting anything: known by the next turn of the event loop.
  const refused = await Promise.race([engine.then(() => undefined, (error: unknown) => error), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
  if (refused instanceof JavaMissing) {
    // One line that says what to install, not a runner's stack trace.
    console.error(refused.message);
    process.exit(1);
  }
  engine.catch((error: unknown) => console.error(`DynamoDB Local did not start: ${(error as Error).message ?? error}`));
  project.provide('dynamoEndpoint', `http://127.0.0.1:${port}`);
  return async () => {
    await (await engine.catch(() => undefined))?.stop();
  };
}
