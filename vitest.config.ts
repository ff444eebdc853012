import { defineConfig } from 'vitest/config';

// The global setup (DynamoDB Local) loads the AWS SDK in this process too: its Node 22 notice is noise on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Three tiers, all run by `npm test`:
 * - unit: no Java, no network: parsers, policies, core use cases on in-memory fakes (`npm run test:unit`, seconds);
 * - integration: storage rules and the local runtime end to end on DynamoDB Local (started once by the global setup);
 * - infra: the CDK app synthesised and checked (cdk-nag), no Java.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Handlers log at ERROR in tests: the warnings they log (an unrouted number, say) are what some tests provoke on purpose.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] },
      },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
    ],
  },
});
