import { ContainerEngine } from './container-engine';
import { buildLocalFilesImage } from './local-files-image';
import { sharedLibraries } from '../../containers/jobs/runner/runner-layer';

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
  const libraries = sharedLibraries(process.execPath);
  return buildLocalFilesImage(engine, {
    tag: image.tag,
    files: {
      '/usr/local/bin/node': process.execPath,
      ...Object.fromEntries(libraries.map((library) => [library, library])),
      ...image.files,
    },
    instructions: [
      'ENV PATH=/usr/local/bin',
      ...(image.user ? [`USER ${image.user}`] : []),
      ...Object.entries(image.labels ?? {}).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
      `ENTRYPOINT ${JSON.stringify(image.entrypoint)}`,
    ],
  });
}
