/**
 * How every Lambda is bundled, in one place: `AppFunction` hands these
 * options to `NodejsFunction`, and `npm run bench` builds its bundles from the
 * very same object through `esbuildOptions`, so the sizes and cold starts it
 * reports are those of what the CDK deploys.
 */
import type { BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Where the CDK runs esbuild (the `NodejsFunction` project root). */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** ESM output: some CommonJS dependencies still call require(). */
export const ESM_REQUIRE_BANNER = "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);";

/** The package every SDK client takes its default credential chain from. */
export const CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
/** What the function bundles take instead, from the project root. */
export const LAMBDA_CREDENTIALS = 'functions/commons/lambda-credentials.ts';

/** Node.js 22, ESM, minified, with source maps, the AWS SDK bundled (a pinned, tree-shaken SDK instead of whatever the runtime ships). */
export const FUNCTION_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  externalModules: [] as string[],
  banner: ESM_REQUIRE_BANNER,
  // Lambda's credentials are in the environment: the SDK's default chain is
  // bundled as its first link only (functions/commons/lambda-credentials.ts).
  // esbuild resolves an alias's path from its working directory, the project
  // root, where the CDK runs it too.
  esbuildArgs: { '--alias': `${CREDENTIAL_CHAIN}=./${LAMBDA_CREDENTIALS}` },
} satisfies BundlingOptions;

/**
 * The esbuild options the CDK derives from `FUNCTION_BUNDLING` (aws-lambda-nodejs
 * runs `esbuild --bundle --platform=node --target= --format= --minify
 * --sourcemap --main-fields= --banner:js= --alias:`, one `--external` per module).
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: FUNCTION_BUNDLING.target,
    format: FUNCTION_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    banner: { js: FUNCTION_BUNDLING.banner },
    alias: { [CREDENTIAL_CHAIN]: `./${LAMBDA_CREDENTIALS}` },
    absWorkingDir: PROJECT_ROOT,
  };
}
