import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BundledEntrypointImage } from '../../../lib/core/bundled-entrypoint-image';
import { EXTERNAL_PACKAGES } from './image-context';

const ROOT = path.join(__dirname, '..', '..', '..');
/** Where the Dockerfile copies the browser client from, and where the server looks for it. */
const CLIENT_BUNDLE = path.join('client', 'dist', 'viewer-client.js');

/**
 * The viewer host's image: the entrypoint bundled with sharp left out (native, installed by the
 * Dockerfile with its prebuilt libvips, at the lock file's version), and the browser client
 * bundled ahead, so the host serves it without esbuild. An asset of the stack that deploys it:
 * published to that stack's region, so every viewer region pulls its image from its own ECR.
 */
export class ViewerHostImage extends BundledEntrypointImage {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      sourceDir: __dirname,
      name: 'viewer-host',
      external: EXTERNAL_PACKAGES,
      stage: (context, bundled) => {
        const dependencies = { sharp: lockedVersion('sharp'), ws: lockedVersion('ws') };
        fs.writeFileSync(
          path.join(context, 'package.json'),
          `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`,
        );
        const client = path.join(context, CLIENT_BUNDLE);
        fs.mkdirSync(path.dirname(client), { recursive: true });
        if (bundled) {
          bundleClientSync(client);
        } else {
          fs.writeFileSync(client, '// not bundled: this stack was excluded from bundling\n');
        }
      },
    });
  }
}

/** The version of a package that the lock file pins, so the image runs what the tests ran. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json pins no version of ${name}`);
  return version;
}

/**
 * The client bundled into `outfile` by the server's own `bundleClient`, before synth goes on:
 * constructs are built synchronously and `bundleClient` is asynchronous, so it runs in a child
 * process that this one waits for.
 */
function bundleClientSync(outfile: string): void {
  // Every viewer region stages the same client: bundled once per synth, copied after.
  if (bundledClient && fs.existsSync(bundledClient)) {
    fs.copyFileSync(bundledClient, outfile);
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const script = `require(${JSON.stringify(path.join(__dirname, '..', 'server', 'deploy.ts'))}).bundleClient(${JSON.stringify(outfile)}).catch((err) => { console.error(err); process.exit(1); });`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0 || !fs.existsSync(outfile)) {
    throw new Error(`bundling the viewer client failed: ${result.stderr || result.stdout}`);
  }
  bundledClient = outfile;
}

/** The first client bundled in this process. */
let bundledClient: string | undefined;
