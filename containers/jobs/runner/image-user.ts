import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { resolveUser } from './algorithm-identity';
import { ContainerEngine, imageConfig } from './image-engine';

const run = promisify(execFile);

/**
 * The numeric uid and gid that an image's USER names, resolved in the image's own /etc/passwd
 * and /etc/group (copied out of a container made from the image and never started), as the runner
 * resolves it on Batch: root by name or by number is refused (`ImageUserError`), and so is a user
 * or group that the image does not define.
 */
export async function imageUserIds(
  engine: ContainerEngine,
  image: string,
): Promise<{ user: string; uid: number; gid: number }> {
  const { user } = await imageConfig(engine, image);
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'image-user-'));
  const name = `image-user-${randomUUID()}`;
  try {
    await run(engine.command, ['create', '--pull', 'never', '--name', name, image]);
    await fs.promises.mkdir(path.join(root, 'etc'));
    for (const file of ['passwd', 'group']) {
      // An image without the file resolves numeric users only.
      await run(engine.command, ['cp', `${name}:/etc/${file}`, path.join(root, 'etc', file)]).catch(
        () => undefined,
      );
    }
    return { user, ...resolveUser(user, `${root}/`) };
  } finally {
    await run(engine.command, ['rm', '--force', name]).catch(() => undefined);
    await fs.promises.rm(root, { recursive: true, force: true });
  }
}
