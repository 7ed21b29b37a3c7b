/**
 * Which folder may import which (`npm run lint` checks every import, by the file it resolves to).
 * Runtime code (handlers, containers, the image library, local mode) never loads CDK; Lambda
 * bundles carry neither local mode nor container code; deploy code takes from the handlers only
 * their deployments and the contracts they share.
 */

/** Deploy code inside containers/: the constructs that build and deploy a container. */
const CONTAINER_DEPLOY = '^containers/[^/]+/[^/]+/deploy[a-z-]*\\.ts$';
/** What deploy code may take from lambda/: deployments written beside handlers, their list, contracts. */
const DESCRIPTORS_AND_CONTRACTS =
  '^lambda/(contracts/|deployments\\.ts$|[^/]+/[^/]+/(operation|function)\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-without-cdk',
      comment:
        'Handlers, containers, the image library and local mode run without the CDK: it would bloat bundles and blur deploy from run.',
      severity: 'error',
      from: { path: '^(lambda|local|packages)/|^containers/', pathNot: CONTAINER_DEPLOY },
      to: { path: '^node_modules/(aws-cdk-lib|constructs|cdk-nag)/' },
    },
    {
      name: 'lambda-without-local-or-containers',
      comment:
        'A Lambda bundle carries only production code: no local mode, no container engine, no container sources.',
      severity: 'error',
      from: { path: '^lambda/' },
      to: { path: '^(local|containers|lib|bin|test|bench)/' },
    },
    {
      name: 'deploy-code-takes-descriptors-and-contracts',
      comment:
        'lib/ and the deploy files of containers read how a handler is deployed and the contracts it shares, never its code.',
      severity: 'error',
      from: { path: `^lib/|${CONTAINER_DEPLOY}` },
      to: { path: '^lambda/', pathNot: DESCRIPTORS_AND_CONTRACTS },
    },
    {
      name: 'containers-without-local-or-lib',
      comment:
        'A container image carries its own sources and the platform runtime code, not local mode or deploy code.',
      severity: 'error',
      from: { path: '^containers/', pathNot: CONTAINER_DEPLOY },
      to: { path: '^(local|lib|bin|test|bench)/' },
    },
    {
      name: 'local-takes-config-from-lib',
      comment:
        'Local mode reads the configuration and its resource names, as the stacks do; it builds no construct.',
      severity: 'error',
      from: { path: '^local/' },
      to: {
        path: '^lib/',
        pathNot: '^lib/(config/|jobs/job-resource-names\\.ts$|builds/build-resource-names\\.ts$)',
      },
    },
    {
      name: 'image-io-self-contained',
      comment: 'The image library is a package of its own: it depends on its npm dependencies only.',
      severity: 'error',
      from: { path: '^packages/image-io/src/' },
      to: { path: '^(?!packages/image-io/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-test-code-in-the-product',
      severity: 'error',
      from: { path: '^(lambda|lib|local|containers|bin|packages/[^/]+/src)/' },
      to: { path: '^(test|bench)/|^packages/[^/]+/test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^cdk\\.out/' },
    // Type-only imports vanish when bundled: they carry no code into a bundle.
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
