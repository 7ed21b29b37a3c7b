/** @type {import('jest').Config} */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // Lambda runs Node.js 24; tests may run on 20
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR'; // handlers log each refusal at INFO; tests make hundreds
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only; `npm run typecheck` checks types once.
    '^.+\\.ts$': 'ts-jest',
  },
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
