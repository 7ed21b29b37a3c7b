import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The image library is a package of its own and imports nothing of the platform: no path that
 * climbs out of packages/image-io (one `../` more than the file's depth in it), no AWS SDK, CDK
 * or Powertools. One block per depth, since a relative path means nothing without its file.
 */
const imageIoStaysApart = [0, 1, 2, 3].map((depth) => ({
  files: [`packages/image-io/${'*/'.repeat(depth)}*.{ts,mts,cts,js,mjs,cjs}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [`${'../'.repeat(depth + 1)}*`],
            message:
              'packages/image-io imports nothing outside itself; the platform passes in what it needs.',
          },
          {
            group: ['aws-cdk-lib', 'constructs', '@aws-sdk/*', '@aws-lambda-powertools/*'],
            message: 'packages/image-io reads and writes images; AWS belongs to the platform.',
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules', 'cdk.out', '.local', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and benchmarks load some modules only after setting the environment they read.
    files: ['test/**/*.ts', 'packages/*/test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Algorithms run as plain CommonJS scripts in their containers, with nothing but Node.
    files: ['containers/**/*.js', 'test/**/fixtures/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The launcher of bundled commands and jest's transform are plain CommonJS, so that Node runs them without compiling.
    files: ['bin/**/*.cjs', 'test/helpers/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Constructs are created for their side effects on the tree.
    files: ['lib/**/*.ts', 'bin/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-new': 'off' },
  },
  ...imageIoStaysApart,
);
