import { Stack, Stage } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODEC_WASM_FILES } from '@imaging-platform/image-io';

const ROOT = path.join(__dirname, '..', '..', '..');
const SOURCE_DIR = __dirname;

/**
 * The converter container image, built by `cdk deploy` from a small staged context: the
 * entrypoint bundled by the local esbuild (as NodejsFunction bundles handlers, sharp left out),
 * the DICOM codecs' WebAssembly beside it, the Dockerfile, and a package.json naming the lock file's sharp, which the Dockerfile installs
 * with its prebuilt libvips. Synth needs no Docker, and the asset hash changes only with what the
 * image holds. Stacks excluded from bundling (`cdk synth --exclusively`, tests) skip esbuild.
 */
export class ImageConverterImage extends Construct {
  readonly asset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const context = path.join(Stage.of(this)!.outdir, `image-converter-context.${this.node.addr}`);
    fs.rmSync(context, { recursive: true, force: true });
    fs.mkdirSync(context, { recursive: true });
    fs.copyFileSync(path.join(SOURCE_DIR, 'Dockerfile'), path.join(context, 'Dockerfile'));
    fs.writeFileSync(
      path.join(context, 'package.json'),
      `${JSON.stringify({ private: true, dependencies: { sharp: lockedVersion('sharp') } }, null, 2)}\n`,
    );
    if (Stack.of(this).bundlingRequired) {
      bundleEntrypoint(path.join(context, 'entrypoint.js'));
      // The DICOM codecs load their WebAssembly from the bundle's folder, as in the function.
      for (const file of CODEC_WASM_FILES) {
        const source = require.resolve(file);
        fs.copyFileSync(source, path.join(context, path.basename(source)));
      }
    } else {
      for (const file of ['entrypoint.js', 'entrypoint.js.map']) {
        fs.writeFileSync(path.join(context, file), '// not bundled: this stack was excluded from bundling\n');
      }
    }
    this.asset = new ecrAssets.DockerImageAsset(this, 'Asset', {
      directory: context,
      // Fargate runs the converter on x86_64 (see the job definition); built for it on any machine.
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
  }
}

function bundleEntrypoint(outfile: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(SOURCE_DIR, 'entrypoint.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    // Native: installed in the image by the Dockerfile.
    external: ['sharp'],
    logLevel: 'error',
  });
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
