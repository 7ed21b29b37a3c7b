// Jest's transform of the TypeScript sources and tests: esbuild strips the types, file by file,
// as tsconfig's isolatedModules allows (`npm run typecheck` checks the types, once), several times
// quicker than TypeScript's own transpiler, which a run on a fresh clone, whose every file is
// transformed, feels. Nothing here hoists `jest.mock` calls: a test that mocks a module calls
// `jest.doMock` before it requires the module.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const tsconfig = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tsconfig.json'), 'utf8'));
const options = {
  loader: 'ts',
  format: 'cjs',
  target: `node${process.versions.node.split('.')[0]}`,
  // Class fields and imports as tsc reads them from tsconfig.json.
  tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  sourcemap: 'external',
  sourcesContent: false,
};
const version = createHash('sha256')
  .update(esbuild.version)
  .update(JSON.stringify(options))
  .update(fs.readFileSync(__filename))
  .digest('hex');

module.exports = {
  getCacheKey(source, file) {
    return createHash('sha256').update(version).update(file).update('\0').update(source).digest('hex');
  },
  process(source, file) {
    const { code, map } = esbuild.transformSync(source, { ...options, sourcefile: file });
    return { code, map };
  },
};
