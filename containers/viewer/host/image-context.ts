import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { bundleClient } from '../server/deploy';

const ROOT = path.join(__dirname, '..', '..', '..');

/** Left out of the entrypoint's bundle: native (sharp), or never loaded in the image (esbuild). */
export const EXTERNAL_PACKAGES = ['sharp', 'esbuild'];

/**
 * Stages the viewer host's build context where no registry can be reached (tests, benchmarks):
 * the Dockerfile, the bundled entrypoint, the client bundle, and sharp with the packages it loads
 * copied from this checkout's node_modules, for a build with `MODULES=staged-modules`. Deploys
 * stage the same but a package.json in place of node_modules, which the image installs.
 */
export async function stageViewerHostContext(context: string): Promise<void> {
  fs.mkdirSync(context, { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'Dockerfile'), path.join(context, 'Dockerfile'));
  const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'entrypoint.ts')],
    outfile: path.join(context, 'entrypoint.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    external: EXTERNAL_PACKAGES,
    logLevel: 'error',
  });
  await bundleClient(path.join(context, 'client', 'dist', 'viewer-client.js'));
  fs.writeFileSync(path.join(context, 'package.json'), '{ "private": true }\n');
  for (const name of runtimePackages('sharp')) {
    fs.cpSync(path.join(ROOT, 'node_modules', name), path.join(context, 'node_modules', name), {
      recursive: true,
      dereference: true,
    });
  }
}

/** A package and those it loads, as installed here: its dependencies and its optional ones present. */
function runtimePackages(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  const manifest = path.join(ROOT, 'node_modules', name, 'package.json');
  if (!fs.existsSync(manifest)) return seen;
  seen.add(name);
  const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  for (const dependency of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    runtimePackages(dependency, seen);
  }
  return seen;
}
