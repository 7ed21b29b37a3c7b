import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ContainerEngine } from './container-engine';
import { sharedLibraries } from '../../containers/jobs/runner/deploy';

const run = promisify(execFile);

export interface NodeImage {
  readonly tag: string;
  /** Files placed in the image, by their path in it. */
  readonly files: Readonly<Record<string, string>>;
  /** The image's USER; empty for an image that runs as root. */
  readonly user: string;
  readonly entrypoint: readonly string[];
  /** The image's labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Builds an image from local files only, for machines that cannot pull base images: this
 * machine's Node binary and the shared libraries it loads, on an empty base, with the given
 * files. The result runs like an image built `FROM node` would, for scripts that use Node alone.
 * Returns the image by digest, as algorithms name their images.
 */
export async function buildNodeImage(engine: ContainerEngine, image: NodeImage): Promise<string> {
  const context = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'node-image-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const place = async (inImage: string, source: string) => {
      const target = path.join(rootfs, inImage);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.copyFile(source, target);
    };
    await place('/usr/local/bin/node', process.execPath);
    for (const library of sharedLibraries(process.execPath)) await place(library, library);
    for (const [inImage, source] of Object.entries(image.files)) await place(inImage, source);
    await fs.promises.mkdir(path.join(rootfs, 'tmp'), { mode: 0o1777 });
    const containerfile = [
      'FROM scratch',
      'COPY rootfs/ /',
      'ENV PATH=/usr/local/bin',
      ...(image.user ? [`USER ${image.user}`] : []),
      ...Object.entries(image.labels ?? {}).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
      `ENTRYPOINT ${JSON.stringify(image.entrypoint)}`,
    ];
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
