/** @type {import('jest').Config} */
module.exports = {
  displayName: 'image-io',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // The repository's transform, which strips the types file by file as its tsconfig.json allows.
    '^.+\\.ts$': '<rootDir>/../../test/helpers/esbuild-transform.cjs',
  },
  // Some tests (GDCM comparisons, the zip bomb) take longer than jest's default 5 seconds.
  testTimeout: 60_000,
};
