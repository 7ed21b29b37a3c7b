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
    for (const [inImage, source] of Object.entries(image.files)) {
      const target = path.join(rootfs, inImage);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      // Copies what a link points at.
      await fs.promises.copyFile(source, target);
    }
    await fs.promises.mkdir(path.join(rootfs, 'tmp'), { mode: 0o1777 });
    const containerfile = ['FROM scratch', 'COPY rootfs/ /', ...image.instructions];
    await fs.promises.writeFile(path.join(context, 'Containerfile'), `${containerfile.join('\n')}\n`);
    await run(engine.command, ['build', '--quiet', '--tag', image.tag, '--file', 'Containerfile', '.'], {
      cwd: context,
    });
    const { stdout } = await run(engine.command, ['image', 'inspect', '--format', '{{.Digest}}', image.tag]);
    return `${image.tag.replace(/:[^/:]+$/, '')}@${stdout.trim()}`;
  } finally {
    await fs.promises.rm(context, { recursive: true, force: true });
  }
}
