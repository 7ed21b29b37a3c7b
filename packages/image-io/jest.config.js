/** @type {import('jest').Config} */
module.exports = {
  displayName: 'image-io',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // ts-jest finds the repository's tsconfig.json up the tree: isolatedModules, so it transpiles only.
    '^.+\\.ts$': 'ts-jest',
  },
  // Some tests (GDCM comparisons, the zip bomb) take longer than jest's default 5 seconds.
  testTimeout: 60_000,
};
