import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContainerEngine } from './container-engine';
import { imageUserIds } from './image-user';
import { ImageConfig, stageRunnerLayer } from '../../containers/jobs/runner/deploy';

const run = promisify(execFile);

/**
 * Adds the runner layer to an algorithm image with a local container engine, as the build of an
 * algorithm version does for AWS Batch, and returns the new image by digest. An image whose USER
 * is root, by name or by number, is refused (`ImageUserError`, naming the USER).
 */
export async function buildRunnableImage(
  engine: ContainerEngine,
  image: string,
  tag: string,
): Promise<string> {
  const { stdout } = await run(engine.command, ['image', 'inspect', '--format', '{{json .Config}}', image]);
  const context = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'runner-layer-'));
  try {
    // The author's USER by number, from the image's own /etc/passwd and /etc/group: root under any
    // name (and a user the image does not define) is refused here, and the launcher and the ECR
    // check at registration read the numbers the layer records.
    const { uid, gid } = await imageUserIds(engine, image);
    await stageRunnerLayer(context, image, { ...(JSON.parse(stdout) as ImageConfig), User: `${uid}:${gid}` });
    await run(
      engine.command,
      ['build', ...engine.runArgs, '--quiet', '--tag', tag, '--file', 'Containerfile', '.'],
      {
        cwd: context,
      },
    );
    const digest = await run(engine.command, ['image', 'inspect', '--format', '{{.Digest}}', tag]);
    return `${tag.replace(/:[^/:]+$/, '')}@${digest.stdout.trim()}`;
  } finally {
    await fs.promises.rm(context, { recursive: true, force: true });
  }
}
