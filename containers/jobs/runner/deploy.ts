import * as path from 'node:path';
import { RUNNER_BUNDLES } from './runner-layer';

/**
 * Bundles the runner from its sources into `dir` (`RUNNER_BUNDLES`), one CommonJS file each, for
 * the runner layer: at synth time beside the builder's bundle, or when a layer is built from this
 * checkout. Synchronous, as constructs are. esbuild is loaded only here, so the builder's bundle, which ships these files made
 * ahead, runs without it.
 */
export function bundleRunner(dir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  for (const [source, bundle] of Object.entries(RUNNER_BUNDLES)) {
    esbuild.buildSync({
      entryPoints: [path.join(__dirname, source)],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: path.join(dir, bundle),
      logLevel: 'silent',
    });
  }
}
