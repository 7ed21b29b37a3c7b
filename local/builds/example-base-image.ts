import { ContainerEngine } from '../jobs/container-engine';
import { buildLocalFilesImage } from '../jobs/local-files-image';
import { sharedLibraries } from '../../containers/jobs/runner/runner-layer';

/** The base image that the example algorithm's Dockerfile names, and that local mode cannot pull. */
export const EXAMPLE_BASE_IMAGE = 'public.ecr.aws/docker/library/node:22-slim';

/** The `node` user of the official Node images, whose home is its working folder. */
const NODE_USER = { uid: 1000, gid: 1000, home: '/home/node' };

/**
 * Builds `EXAMPLE_BASE_IMAGE` from this machine's files, for local mode, where no base image can
 * be pulled: this machine's Node binary and the libraries it loads, `/etc/passwd` and
 * `/etc/group` with root and `node` (uid and gid 1000, home `/home/node`, owned by it) and a
 * world-writable /tmp, so that a Dockerfile written for the official image (`USER node`, `node`
 * on the PATH) builds with `--pull=never`. It has no shell or package manager: RUN steps fail.
 * Returns the image by digest.
 */
export async function buildExampleBaseImage(engine: ContainerEngine): Promise<string> {
  const { uid, gid, home } = NODE_USER;
  return buildLocalFilesImage(engine, {
    tag: EXAMPLE_BASE_IMAGE,
    files: {
      '/usr/local/bin/node': process.execPath,
      ...Object.fromEntries(sharedLibraries(process.execPath).map((library) => [library, library])),
    },
    texts: {
      '/etc/passwd': `root:x:0:0:root:/root:/sbin/nologin\nnode:x:${uid}:${gid}::${home}:/sbin/nologin\n`,
      '/etc/group': `root:x:0:\nnode:x:${gid}:\n`,
    },
    owned: { by: `${uid}:${gid}`, folders: [home] },
    instructions: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'CMD ["node"]'],
  });
}
