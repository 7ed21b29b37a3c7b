import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContainerEngine } from './container-engine';

const run = promisify(execFile);

export interface LocalFilesImage {
  readonly tag: string;
  /** Files of this machine placed in the image: source by path in the image. */
  readonly files: Readonly<Record<string, string>>;
  /** Files given by their text (an /etc/passwd), by path in the image. */
  readonly texts?: Readonly<Record<string, string>>;
  /**
   * Folders owned by a user of the image (`uid:gid`), with the files placed under them, as
   * `COPY --chown` and a `WORKDIR` after `USER` leave an image's home and working directory.
   */
  readonly owned?: { readonly by: string; readonly folders: readonly string[] };
  /** Containerfile instructions after the files (ENV, USER, WORKDIR, ENTRYPOINT…). */
  readonly instructions: readonly string[];
}

/**
 * Builds an image from this machine's files only, for machines that cannot pull base images:
 * the files on an empty base with a world-writable /tmp, then the instructions. Returns the
 * image by digest, as algorithms name their images.
 */
export async function buildLocalFilesImage(engine: ContainerEngine, image: LocalFilesImage): Promise<string> {
  const context = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'local-files-image-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const userRootfs = path.join(context, 'user-rootfs');
    const owned = image.owned?.folders ?? [];
    const treeOf = (inImage: string) =>
      owned.some((folder) => inImage === folder || inImage.startsWith(`${folder}/`)) ? userRootfs : rootfs;
    const place = async (inImage: string) => {
      const target = path.join(treeOf(inImage), inImage);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      return target;
    };
    // Copies what a link points at.
    for (const [inImage, source] of Object.entries(image.files)) {
      await fs.promises.copyFile(source, await place(inImage));
    }
    for (const [inImage, text] of Object.entries(image.texts ?? {})) {
      await fs.promises.writeFile(await place(inImage), text);
    }
    for (const folder of owned) await fs.promises.mkdir(path.join(userRootfs, folder), { recursive: true });
    await fs.promises.mkdir(path.join(rootfs, 'tmp'), { recursive: true });
    // Set apart from mkdir, which the umask would narrow.
    await fs.promises.chmod(path.join(rootfs, 'tmp'), 0o1777);
    const containerfile = [
      'FROM scratch',
      'COPY rootfs/ /',
      ...(image.owned ? [`COPY --chown=${image.owned.by} user-rootfs/ /`] : []),
      ...image.instructions,
    ];
    await fs.promises.writeFile(path.join(context, 'Containerfile'), `${containerfile.join('\n')}\n`);
    // No cache: another process's `rmi` can remove a cached layer while this build looks it up.
    await run(
      engine.command,
      ['build', '--quiet', '--no-cache', '--tag', image.tag, '--file', 'Containerfile', '.'],
      { cwd: context },
    );
    const { stdout } = await run(engine.command, ['image', 'inspect', '--format', '{{.Digest}}', image.tag]);
    return `${image.tag.replace(/:[^/:]+$/, '')}@${stdout.trim()}`;
  } finally {
    await fs.promises.rm(context, { recursive: true, force: true });
  }
}
