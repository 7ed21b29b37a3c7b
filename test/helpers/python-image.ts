import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedLibraries } from '../../containers/jobs/runner/runner-layer';
import { ContainerEngine } from '../../local/jobs/container-engine';
import { buildLocalFilesImage } from '../../local/jobs/local-files-image';

/** This machine's Python (`/usr/bin/python3` links to `python3.<minor>`), whose standard library sits at `/usr/lib/python3.<minor>`. */
const PYTHON = fs.existsSync('/usr/bin/python3') ? fs.realpathSync('/usr/bin/python3') : '/usr/bin/python3';
const STANDARD_LIBRARY = path.join('/usr/lib', path.basename(PYTHON));
/** Parts of the standard library an algorithm never needs; they only make the image larger. */
const LEFT_OUT = new Set([
  'test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'ensurepip',
  'lib2to3',
  'site-packages',
]);

export interface PythonImage {
  readonly tag: string;
  /** Files placed in the image's working directory, /opt/app, by name. */
  readonly files: Readonly<Record<string, string>>;
}

/** The template's user (`useradd -m -r user`): a system uid, a home of its own. */
export const TEMPLATE_USER = { name: 'user', uid: 999, gid: 999, home: '/home/user' };

/**
 * Builds, from this machine's files only (no base image can be pulled here), an image like
 * grand-challenge's algorithm template builds `FROM python`: Python and its standard library on
 * an empty base, the scripts in /opt/app, `ENTRYPOINT ["python", "inference.py"]` run there with
 * unbuffered output, as the template's `user`, who owns its home and /opt/app. Returns the
 * image by digest.
 */
export async function buildPythonImage(engine: ContainerEngine, image: PythonImage): Promise<string> {
  if (!fs.existsSync(path.join(STANDARD_LIBRARY, 'os.py')) || !fs.existsSync(PYTHON)) {
    throw new Error(
      `an image with Python is built from ${PYTHON} and ${STANDARD_LIBRARY}, which this machine lacks`,
    );
  }
  const files: Record<string, string> = { [PYTHON]: PYTHON, '/usr/bin/python': PYTHON };
  for (const library of sharedLibraries(PYTHON)) files[library] = library;
  const entries = await fs.promises.readdir(STANDARD_LIBRARY, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const source = path.join(entry.parentPath, entry.name);
    const relative = path.relative(STANDARD_LIBRARY, source);
    if (LEFT_OUT.has(relative.split(path.sep)[0]) || entry.isDirectory()) continue;
    // A link is copied as what it points at (Debian links sitecustomize.py to /etc), a dangling one left out.
    if (!fs.existsSync(source)) continue;
    files[path.join(STANDARD_LIBRARY, relative)] = source;
  }
  for (const [name, source] of Object.entries(image.files)) files[path.join('/opt/app', name)] = source;
  const { name, uid, gid, home } = TEMPLATE_USER;
  return buildLocalFilesImage(engine, {
    tag: image.tag,
    files,
    texts: {
      '/etc/passwd': `root:x:0:0:root:/root:/bin/sh\n${name}:x:${uid}:${gid}::${home}:/bin/sh\n`,
      '/etc/group': `root:x:0:\n${name}:x:${gid}:\n`,
    },
    owned: { by: `${uid}:${gid}`, folders: [home, '/opt/app'] },
    instructions: [
      'ENV PATH=/usr/local/bin:/usr/bin PYTHONUNBUFFERED=1',
      `USER ${name}`,
      'WORKDIR /opt/app',
      'ENTRYPOINT ["python", "inference.py"]',
    ],
  });
}
