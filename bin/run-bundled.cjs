#!/usr/bin/env node
// `node bin/run-bundled.cjs <entry.ts> [args...]`: runs a TypeScript entry of this repository
// from its cached CommonJS bundle (bin/bundle-cache.cjs), so that a command starts in a plain Node
// process instead of compiling its TypeScript at every start (tsx takes about a second).
'use strict';
const path = require('node:path');
const { bundledEntrySync } = require('./bundle-cache.cjs');

const [entryArgument, ...args] = process.argv.slice(2);
if (!entryArgument) {
  console.error('usage: node bin/run-bundled.cjs <entry.ts> [args...]');
  process.exit(2);
}
const bundle = bundledEntrySync(path.resolve(entryArgument));
// The entry reads its arguments from process.argv, as when it is run itself.
process.argv = [process.argv[0], bundle, ...args];
require(bundle);
