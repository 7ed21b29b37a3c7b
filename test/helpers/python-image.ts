import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { sharedLibraries } from '../../containers/jobs/runner/deploy';
import { ContainerEngine } from '../../local/jobs/container-engine';

const run = promisify(execFile);

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
  readonly user: string;
}

/**
 * Builds, from this machine's files only (no base image can be pulled here), an image like
 * grand-challenge's algorithm template builds `FROM python`: Python and its standard library on
 * an empty base, the scripts in /opt/app, `ENTRYPOINT ["python", "inference.py"]` run there with
 * unbuffered output, as a non-root user. Returns the image by digest.
 */
export async function buildPythonImage(engine: ContainerEngine, image: PythonImage): Promise<string> {
  if (!fs.existsSync(path.join(STANDARD_LIBRARY, 'os.py')) || !fs.existsSync(PYTHON)) {
    throw new Error(
      `an image with Python is built from ${PYTHON} and ${STANDARD_LIBRARY}, which this machine lacks`,
    );
  }
  const context = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'python-image-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const place = async (inImage: string, source: string) => {
      const target = path.join(rootfs, inImage);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      // Copies what a link points at: Debian links sitecustomize.py to /etc.
      await fs.promises.copyFile(source, target);
    };
    await place(PYTHON, PYTHON);
    await fs.promises.symlink(path.basename(PYTHON), path.join(rootfs, '/usr/bin/python'));
    for (const library of sharedLibraries(PYTHON)) await place(library, library);
    const entries = await fs.promises.readdir(STANDARD_LIBRARY, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      const source = path.join(entry.parentPath, entry.name);
      const relative = path.relative(STANDARD_LIBRARY, source);
      if (LEFT_OUT.has(relative.split(path.sep)[0]) || entry.isDirectory()) continue;
      if (!fs.existsSync(source)) continue;
      await place(path.join(STANDARD_LIBRARY, relative), source);
    }
    for (const [name, source] of Object.entries(image.files))
      await place(path.join('/opt/app', name), source);
    await fs.promises.mkdir(path.join(rootfs, 'tmp'), { mode: 0o1777 });
    const containerfile = [
      'FROM scratch',
      'COPY rootfs/ /',
      'ENV PATH=/usr/local/bin:/usr/bin PYTHONUNBUFFERED=1',
      `USER ${image.user}`,
      'WORKDIR /opt/app',
      'ENTRYPOINT ["python", "inference.py"]',
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
