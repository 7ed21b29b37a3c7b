import * as path from 'node:path';
import { bundledEntry } from '../../bin/bundle-cache.cjs';

const PROJECT_DIR = path.join(__dirname, '..', '..');
const WORKER = path.join(__dirname, 'function-worker.ts');

/** What one function's sandboxes run. */
export interface SandboxCode {
  /** The handler's index.ts. */
  readonly entry: string;
  /** Modules whose `setUp()` runs before the handler loads: local mode's stand-ins for AWS-only checks. */
  readonly setUp: readonly string[];
}

/**
 * The bundles a sandbox starts from, so that it starts in plain Node instead of compiling its
 * TypeScript through tsx (a second or more at each start): the worker, and the function's set-up
 * modules with its handler. Those are one bundle because they share the modules both load (a
 * set-up puts a local check into the very module the handler calls); the set-ups run first, as
 * the bundle's own first lines. Each is built once per version of its sources and kept in the
 * bundle cache (bin/bundle-cache.cjs), so every sandbox after the first starts from the cache.
 */
export async function sandboxBundles(code: SandboxCode): Promise<{ worker: string; fn: string }> {
  const fromRoot = (file: string) => `./${path.relative(PROJECT_DIR, file).split(path.sep).join('/')}`;
  const contents = [
    ...code.setUp.map((module) => `require(${JSON.stringify(fromRoot(module))}).setUp();`),
    `module.exports = require(${JSON.stringify(fromRoot(code.entry))});`,
  ].join('\n');
  const name = `sandbox${fromRoot(code.entry).slice(1).replace(/\.ts$/, '').replace(/\//g, '+')}`;
  const [worker, fn] = await Promise.all([bundledEntry(WORKER), bundledEntry({ name, contents })]);
  return { worker, fn };
}
