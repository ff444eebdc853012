/**
 * Vitest global setup: one DynamoDB Local for the whole run, on a free port.
 * Each test file creates its own table (`test/support/dynamo.ts`), so files
 * run in parallel without seeing each other's data.
 */
import type { TestProject } from 'vitest/node';
import { JavaMissing, startDynamoDbLocal } from '../../local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  let engine: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  try {
    engine = await startDynamoDbLocal();
  } catch (error) {
    if (!(error instanceof JavaMissing)) throw error;
    // One line that says what to install, not a runner's stack trace.
    console.error(error.message);
    process.exit(1);
  }
  project.provide('dynamoEndpoint', engine.endpoint);
  return async () => {
    await engine.stop();
  };
}
