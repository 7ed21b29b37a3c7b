/** @type {import('jest').Config} */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // Lambda runs Node.js 24; tests may run on 20
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'; // handlers log each refusal at INFO; tests make hundreds
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // handlers print a metric document per invocation that counts; tests that read them turn them on
module.exports = {
  projects: [
    {
      displayName: 'platform',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      transform: {
        // Types are stripped, file by file; `npm run typecheck` checks them once.
        '^.+\\.ts$': '<rootDir>/test/helpers/esbuild-transform.cjs',
      },
    },
    // Each package's tests, as its own jest.config.js runs them alone.
    '<rootDir>/packages/*',
  ],
  // Jest reads the timeout from here, not from a project's config, when it runs several projects.
  testTimeout: 60_000,
  // Most suites wait on local servers and containers, not the CPU: two at once on two cores.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
