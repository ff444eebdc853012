import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_CHAIN, FUNCTION_BUNDLING, LAMBDA_CREDENTIALS, esbuildOptions } from '../../lib/bundling.js';

const outDir = mkdtempSync(join(tmpdir(), 'bundling-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const root = new URL('../..', import.meta.url).pathname;

/** Bundles `contents` (resolved from the project root) the way the CDK bundles a function. */
async function bundle(name: string, contents: string) {
  const outfile = join(outDir, `${name}.mjs`);
  const { entryPoints: _entry, ...options } = esbuildOptions('unused', outfile);
  const result = await build({ ...options, stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: `${name}.ts` }, metafile: true, logLevel: 'error' });
  return { outfile, inputs: Object.keys(result.metafile.inputs) };
}

describe('function bundles (lib/bundling.ts)', () => {
  it('the CDK and the bench alias the same credential chain to the same file', () => {
    expect(FUNCTION_BUNDLING.esbuildArgs['--alias']).toBe(`${CREDENTIAL_CHAIN}=./${LAMBDA_CREDENTIALS}`);
    expect(esbuildOptions('x.ts', 'x.mjs').alias).toEqual({ [CREDENTIAL_CHAIN]: `./${LAMBDA_CREDENTIALS}` });
  });

  it('a bundled webhook carries the environment link of the credential chain and none of the others', async () => {
    const { inputs } = await bundle('webhook', "export { handler } from './functions/webhook/handler.ts';");
    expect(inputs).toContain(LAMBDA_CREDENTIALS);
    const chain = inputs.filter((input) => /credential-provider-(node|ini|sso|process|web-identity|http)|nested-clients|credential-provider-imds/.test(input));
    expect(chain).toEqual([]);
  });

  it('a bundled SDK client signs with the credentials Lambda puts in the environment', async () => {
    const { outfile } = await bundle(
      'client',
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const credentials = () => new DynamoDBClient({ region: 'eu-west-1' }).config.credentials();",
    );
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDLAMBDA', AWS_SECRET_ACCESS_KEY: 'lambda-secret', AWS_SESSION_TOKEN: 'lambda-token' });
      const { credentials } = await import(pathToFileURL(outfile).href);
      expect(await credentials()).toMatchObject({ accessKeyId: 'AKIDLAMBDA', secretAccessKey: 'lambda-secret', sessionToken: 'lambda-token' });
      delete process.env.AWS_ACCESS_KEY_ID;
      await expect(credentials()).rejects.toThrow(/AWS_ACCESS_KEY_ID|environment/i);
    } finally {
      process.env = saved;
    }
  });
});
