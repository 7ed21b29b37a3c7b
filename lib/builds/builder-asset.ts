import { Stack, Stage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface BuilderAssetProps {
  /**
   * Puts the builder's bundles into `dir` with the local esbuild, so that synth needs no Docker;
   * not called for stacks excluded from bundling (`cdk synth --exclusively`, tests).
   */
  readonly stage: (dir: string) => void;
}

/**
 * The builder as CodeBuild downloads it: a folder of bundles staged at synth time, uploaded by
 * `cdk deploy` as a file asset (a zip).
 */
export class BuilderAsset extends Construct {
  readonly asset: s3assets.Asset;

  constructor(scope: Construct, id: string, props: BuilderAssetProps) {
    super(scope, id);
    const dir = path.join(Stage.of(this)!.outdir, `builder.${this.node.addr}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    if (Stack.of(this).bundlingRequired) props.stage(dir);
    else fs.writeFileSync(path.join(dir, 'README'), 'not bundled: this stack was excluded from bundling\n');
    this.asset = new s3assets.Asset(this, 'Asset', { path: dir });
  }
}
