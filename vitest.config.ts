import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The global setup (DynamoDB Local) loads the AWS SDK in this process too: its Node 22 notice is noise on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Every DynamoDB Local a test starts (the global one, each local runtime's, each `npm start`'s) is a short-lived JVM:
// the client compiler alone starts it about twice as fast and serves a test run's load no slower. Inherited by
// the workers and every process they spawn; the launcher's "Picked up" notice goes to the engine's captured stderr.
process.env.JDK_JAVA_OPTIONS ??= '-XX:TieredStopAtLevel=1';

/**
 * Longest first, so the long files never start last: the ones measured longest, then by tier (e2e start processes,
 * infra synthesises the CDK app, integration runs on DynamoDB Local, unit is quick), then the larger file first.
 * Non-isolated files of one project stay together, so a worker runs them one after another in the same process.
 */
const LONGEST = ['test/e2e/first-run.test.ts', 'test/integration/credits-broadcast.test.ts', 'test/e2e/test-runner.test.ts', 'test/e2e/local-runtime.test.ts'];
const TIERS = ['test/e2e/', 'test/infra/', 'test/integration/', 'test/unit/'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (spec: TestSpecification) => {
      const path = relative(this.ctx.config.root, spec.moduleId);
      const known = LONGEST.indexOf(path);
      const tier = TIERS.findIndex((prefix) => path.startsWith(prefix));
      return { rank: known >= 0 ? known - LONGEST.length : tier < 0 ? TIERS.length : tier, size: statSync(spec.moduleId).size };
    };
    const keys = new Map(files.map((spec) => [spec, key(spec)]));
    return [...files].sort((a, b) => keys.get(a)!.rank - keys.get(b)!.rank || keys.get(b)!.size - keys.get(a)!.size);
  }
}

/**
 * Three tiers, all run by `npm test`:
 * - unit: no Java, no network: parsers, policies, core use cases on in-memory fakes (`npm run test:unit`, seconds);
 * - integration: storage rules and the local runtime end to end on DynamoDB Local (started once by the global setup);
 * - infra: the CDK app synthesised and checked (cdk-nag), no Java.
 *
 * Unit and infra files share one process per worker (`isolate: false`): loading the SDK, zod and aws-cdk-lib once,
 * not once a file. A file there restores what it mocks or stubs (`vi.restoreAllMocks`, `mock.restore()`, `vi.unstubAllEnvs`).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores in CI: one worker per core (Vitest's default would be one worker in all). Much of an e2e file is
    // waiting on the processes it starts, so a worker more than cores keeps both cores busy.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    // Handlers log at ERROR in tests: the warnings they log (an unrouted number, say) are what some tests provoke on purpose.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] },
      },
      // The synth folders are removed after each file by a setup file: with `isolate: false` a module's own hooks would run for its first importer only.
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'], isolate: false, setupFiles: ['test/support/cdk-cleanup.ts'] } },
    ],
  },
});
