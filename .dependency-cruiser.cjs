/**
 * The arrows of the house (README, "Where things are"), checked in CI by
 * `npm run boundaries`:
 *
 *   handlers (functions/<fn>/) → core, adapters (wiring only), commons
 *   adapters → core (port types), schemas
 *   core     → schemas
 *   commons  → core, schemas          (handler-side wiring: config, logging, clients)
 *   lib/     → schemas                (the CDK app)
 *   local/   → handlers, adapters, commons, schemas
 *   schemas  → nothing of ours
 *
 * never core → adapters/commons/lib/local, never runtime code → aws-cdk-lib,
 * never one handler folder → another. Tests, bench and scripts are free.
 */
const HANDLER_EXCLUDED = '^functions/(core|adapters|commons)/';

module.exports = {
  forbidden: [
    {
      name: 'schemas-import-nothing-ours',
      comment: 'schemas/ are the contracts: zod and node built-ins only.',
      severity: 'error',
      from: { path: '^schemas/' },
      to: { path: '^(functions|lib|local|bin|scripts|bench|test)/' },
    },
    {
      name: 'core-is-pure',
      comment: 'core takes its ports as arguments: it imports core and schemas only, and no AWS SDK, CDK, Powertools or middy.',
      severity: 'error',
      from: { path: '^functions/core/' },
      to: {
        pathNot: ['^functions/core/', '^schemas/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'adapters-reach-only-core-and-schemas',
      comment: 'adapters implement core ports; configuration and secrets come in as constructor arguments.',
      severity: 'error',
      from: { path: '^functions/adapters/' },
      to: { path: ['^functions/(?!adapters/|core/)', '^(lib|local|bin)/'] },
    },
    {
      name: 'commons-wire-no-adapters',
      comment: 'commons/ is handler-side support (config, logging, clients); choosing adapters is the composition root’s job.',
      severity: 'error',
      from: { path: '^functions/commons/' },
      to: { path: ['^functions/(?!commons/|core/)', '^(lib|local|bin)/'] },
    },
    {
      name: 'no-handler-to-another-handler',
      comment: 'each function folder is its own composition root; shared code lives in core, adapters or commons.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/', pathNot: HANDLER_EXCLUDED },
      to: { path: '^functions/[^/]+/', pathNot: ['^functions/$1/', HANDLER_EXCLUDED] },
    },
    {
      name: 'runtime-never-imports-cdk',
      comment: 'Lambda bundles and the local runtime never pull in aws-cdk-lib or constructs.',
      severity: 'error',
      from: { path: '^(functions|schemas|local)/' },
      to: { path: 'node_modules/(aws-cdk-lib|constructs|aws-cdk|cdk-nag)/' },
    },
    {
      name: 'lib-reaches-only-schemas',
      comment: 'the CDK app names handlers by path and shares definitions through schemas/ only.',
      severity: 'error',
      from: { path: '^(lib|bin)/' },
      to: { path: '^(functions|local|bench|test|scripts)/' },
    },
    {
      name: 'local-never-reaches-core',
      comment: 'the local runtime wires handlers and in-process adapters, as AWS does; it runs no use case itself.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^functions/core/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(functions|schemas|lib|local)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk.out|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
