import { Stack, Stage } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SOURCE_DIR = __dirname;

/**
 * The input stager's image, built by `cdk deploy` from a small staged context: the entrypoint
 * bundled by the local esbuild (as NodejsFunction bundles handlers) and the Dockerfile. Synth needs
 * no Docker; stacks excluded from bundling (`cdk synth --exclusively`, tests) skip esbuild.
 */
export class JobInputStagerImage extends Construct {
  readonly asset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const context = path.join(Stage.of(this)!.outdir, `job-input-stager-context.${this.node.addr}`);
    fs.rmSync(context, { recursive: true, force: true });
    fs.mkdirSync(context, { recursive: true });
    fs.copyFileSync(path.join(SOURCE_DIR, 'Dockerfile'), path.join(context, 'Dockerfile'));
    if (Stack.of(this).bundlingRequired) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const esbuild = require('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: [path.join(SOURCE_DIR, 'entrypoint.ts')],
        outfile: path.join(context, 'entrypoint.js'),
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        minify: true,
        sourcemap: true,
        logLevel: 'error',
      });
    } else {
      for (const file of ['entrypoint.js', 'entrypoint.js.map']) {
        fs.writeFileSync(path.join(context, file), '// not bundled: this stack was excluded from bundling\n');
      }
    }
    this.asset = new ecrAssets.DockerImageAsset(this, 'Asset', {
      directory: context,
      // Fargate runs the stager on x86_64 (see the job definition); built for it on any machine.
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
  }
}
