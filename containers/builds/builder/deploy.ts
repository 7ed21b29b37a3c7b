import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BUILD_IMAGE_TAGS,
  BUILD_IMAGE_VARIABLE,
  BUILD_LIMITS,
  BUILD_PIPELINE,
  BUILD_SOURCE_ENTRY,
  BUILDER_ENVIRONMENT,
  BUILDER_REPORT,
} from '../../../lambda/contracts/builds';
import type { SettingValues } from '../../../lambda/contracts/settings';
import { bundleRunner } from '../../jobs/runner/deploy';
import { RUNNER_BUNDLES_DIR } from './run-builder';

/** The builder's file in the staged folder. */
export const BUILDER_BUNDLE = 'builder.cjs';

/** The variable of the CodeBuild project that names the staged builder as an asset: `s3://bucket/key`. */
export const BUILDER_ASSET_VARIABLE = 'BUILDER_ASSET';

/** The buildspec's variable naming where the build unpacks the builder, apart from its source. */
const BUILDER_HOME = 'BUILDER_HOME';

/**
 * Writes the builder into `dir` for an S3 asset that CodeBuild downloads: `builder.cjs`, the
 * builder and everything it loads bundled by the local esbuild, and beside it the runner's
 * bundles, so that the build needs neither esbuild nor the sources. Synchronous, as constructs are.
 */
export function stageBuilder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'main.ts')],
    outfile: path.join(dir, BUILDER_BUNDLE),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Reached only to bundle the runner, which is staged beside the builder instead.
    external: ['esbuild'],
    logLevel: 'error',
  });
  bundleRunner(path.join(dir, RUNNER_BUNDLES_DIR));
}

/**
 * The buildspec (version 0.2) that runs the builder on CodeBuild, for `BuildSpec.fromObject`. The
 * project runs privileged (Docker) on an Amazon Linux standard image and sets
 * `BUILDER_ASSET_VARIABLE` (the staged builder's `s3://` URL, which its role may read) and
 * `IMAGE_REPOSITORY` (the algorithm repository's URI, which its role may push to); the pipeline's
 * action sets `BUILD_ID` and `DOCKERFILE` from the execution's variables. The source is the
 * pipeline's one entry, `context.zip` or `context.tar.gz`, in the working directory. The build
 * exports `IMAGE`, the runnable image by digest, from the builder's `BUILD_RESULT` line, and ends
 * once ECR's scan on push of it has finished (its role may describe the scan).
 */
export function builderBuildspec(limits: SettingValues<typeof BUILD_LIMITS.shape>): Record<string, unknown> {
  const env = BUILDER_ENVIRONMENT;
  const home = `$${BUILDER_HOME}`;
  const builderLog = `${home}/builder.log`;
  return {
    version: '0.2',
    env: {
      shell: 'bash',
      variables: {
        [BUILDER_HOME]: '/tmp/platform-builder',
        [env.engine]: 'docker',
        [env.pullNever]: 'false',
        [env.push]: 'true',
        ...BUILD_LIMITS.variables(limits),
      },
      'exported-variables': [BUILD_IMAGE_VARIABLE],
    },
    phases: {
      install: {
        'runtime-versions': { nodejs: 22 },
        commands: [`aws s3 cp "$${BUILDER_ASSET_VARIABLE}" ${home}.zip`, `unzip -q ${home}.zip -d ${home}`],
      },
      pre_build: {
        commands: [
          // The registry is the repository's host.
          `aws ecr get-login-password | docker login --username AWS --password-stdin "\${${env.repository}%%/*}"`,
        ],
      },
      build: {
        commands: [
          `if [ -f ${BUILD_SOURCE_ENTRY.zip} ]; then export ${env.contextArchive}="$PWD/${BUILD_SOURCE_ENTRY.zip}"; ` +
            `else export ${env.contextArchive}="$PWD/${BUILD_SOURCE_ENTRY.tarGz}"; fi`,
          `export ${env.tag}=${BUILD_IMAGE_TAGS.candidate(`$${BUILD_PIPELINE.variables.buildId}`)}`,
          `set -o pipefail && node ${home}/${BUILDER_BUNDLE} | tee ${builderLog}`,
          `export ${BUILD_IMAGE_VARIABLE}=$(sed -n 's/^${BUILDER_REPORT.result} //p' ${builderLog} | ` +
            `node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).image')`,
        ],
      },
      post_build: {
        commands: [
          // Registration needs ECR's scan on push finished: a build that pushed ends once it is
          // (the waiter gives up after 5 minutes, failing the build).
          `if [ "$CODEBUILD_BUILD_SUCCEEDING" = 1 ]; then aws ecr wait image-scan-complete ` +
            `--repository-name "\${${env.repository}#*/}" --image-id imageDigest="\${${BUILD_IMAGE_VARIABLE}#*@}"; fi`,
        ],
      },
    },
  };
}
