import { Stack, Stage } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface BundledEntrypointImageProps {
  /** The container's folder, holding its `Dockerfile` and `entrypoint.ts`. */
  readonly sourceDir: string;
  /** Names the staged context in the cloud assembly. */
  readonly name: string;
  /** Packages left out of the bundle, which the Dockerfile installs. */
  readonly external?: string[];
  /** Puts what else the image needs into the context; `bundled` is false where bundling is skipped. */
  readonly stage?: (context: string, bundled: boolean) => void;
}

/**
 * A Node container image built by `cdk deploy` from a small staged context: the Dockerfile and
 * the entrypoint bundled by the local esbuild (as NodejsFunction bundles handlers), so synth
 * needs no Docker and the asset hash changes only with what the image holds. Stacks excluded
 * from bundling (`cdk synth --exclusively`, tests) skip esbuild. Built for x86_64 on any
 * machine, as Fargate runs it.
 */
export class BundledEntrypointImage extends Construct {
  readonly asset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: BundledEntrypointImageProps) {
    super(scope, id);
    const context = path.join(Stage.of(this)!.outdir, `${props.name}-context.${this.node.addr}`);
    fs.rmSync(context, { recursive: true, force: true });
    fs.mkdirSync(context, { recursive: true });
    fs.copyFileSync(path.join(props.sourceDir, 'Dockerfile'), path.join(context, 'Dockerfile'));
    const bundled = Stack.of(this).bundlingRequired;
    if (bundled) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const esbuild = require('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: [path.join(props.sourceDir, 'entrypoint.ts')],
        outfile: path.join(context, 'entrypoint.js'),
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        minify: true,
        sourcemap: true,
        external: props.external,
        logLevel: 'error',
      });
    } else {
      for (const file of ['entrypoint.js', 'entrypoint.js.map']) {
        fs.writeFileSync(path.join(context, file), '// not bundled: this stack was excluded from bundling\n');
      }
    }
    props.stage?.(context, bundled);
    this.asset = new ecrAssets.DockerImageAsset(this, 'Asset', {
      directory: context,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
  }
}
