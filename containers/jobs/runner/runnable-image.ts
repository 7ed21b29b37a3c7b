import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bundleRunner } from './deploy';
import { ContainerEngine, isPodman, localImageDigest } from './image-engine';
import { imageUserIds } from './image-user';
import { ImageConfig, stageRunnerLayer } from './runner-layer';

const run = promisify(execFile);

export interface RunnableImageOptions {
  /** More `build` arguments: the platform, the pull policy, what the engine may keep. */
  readonly buildArgs?: readonly string[];
  /**
   * A folder holding the runner's bundles made ahead (beside the builder's own bundle); without
   * it they are bundled now from the sources in this folder, which needs esbuild.
   */
  readonly runnerBundles?: string;
}

/**
 * Adds the runner layer to an algorithm image with a container engine, as every algorithm
 * version on AWS Batch carries it, tags the result `tag` and returns it by digest as the engine
 * keeps it (`localImageDigest`). An image whose USER is root, by name or by number, is refused
 * (`ImageUserError`, naming the USER). `npm run runnable-image`, local mode and the builder all
 * layer images with this.
 */
export async function buildRunnableImage(
  engine: ContainerEngine,
  image: string,
  tag: string,
  options: RunnableImageOptions = {},
): Promise<string> {
  const { stdout } = await run(engine.command, ['image', 'inspect', '--format', '{{json .Config}}', image]);
  const context = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'runner-layer-'));
  try {
    // The author's USER by number, from the image's own /etc/passwd and /etc/group: root under any
    // name (and a user the image does not define) is refused here, and the launcher and the ECR
    // check at registration read the numbers the layer records.
    const { uid, gid } = await imageUserIds(engine, image);
    let bundles = options.runnerBundles;
    if (!bundles) {
      bundles = path.join(context, 'bundles');
      bundleRunner(bundles);
    }
    const layer = path.join(context, 'layer');
    await stageRunnerLayer(
      layer,
      image,
      { ...(JSON.parse(stdout) as ImageConfig), User: `${uid}:${gid}` },
      bundles,
    );
    await run(
      engine.command,
      [
        'build',
        ...engine.runArgs,
        ...(options.buildArgs ?? []),
        '--quiet',
        // A cached layer can be removed by another process's `rmi` while this build looks it up.
        '--no-cache',
        // One layer for the whole step, rather than a commit per instruction: seconds less with podman.
        ...(isPodman(engine) ? ['--layers=false'] : []),
        '--tag',
        tag,
        '--file',
        'Containerfile',
        '.',
      ],
      { cwd: layer },
    );
    return await localImageDigest(engine, tag);
  } finally {
    await fs.promises.rm(context, { recursive: true, force: true });
  }
}
