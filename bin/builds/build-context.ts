import ignore from '@balena/dockerignore';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { END_OF_ARCHIVE, entryHeader, padding, TarEntry, write } from './tar-writer';

/** A folder that cannot be pushed: said before anything is uploaded. */
export class ContextError extends Error {}

/** What went into the archive. */
export interface PackedContext {
  /** Paths inside the context, `/`-separated, in the archive's order. */
  readonly entries: readonly string[];
  readonly bytes: number;
}

/**
 * Packs a build context as `docker build` sends it: every file, folder and symbolic link (kept as
 * a link) of `folder` except those its `.dockerignore` excludes, with Docker's rules (`**`, `!`
 * exceptions, the last matching line wins), and always the Dockerfile and `.dockerignore`
 * themselves. Writes a gzipped tar to `out`. Refuses a folder without the Dockerfile.
 */
export async function packBuildContext(
  folder: string,
  out: string,
  options: { readonly dockerfile?: string } = {},
): Promise<PackedContext> {
  const dockerfile = path.posix.normalize((options.dockerfile ?? 'Dockerfile').split(path.sep).join('/'));
  if (dockerfile.startsWith('../') || path.posix.isAbsolute(dockerfile)) {
    throw new ContextError(`the Dockerfile ${dockerfile} is outside the context`);
  }
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ContextError(`${folder} is not a folder`);
  }
  if (!fs.statSync(path.join(folder, dockerfile), { throwIfNoEntry: false })?.isFile()) {
    throw new ContextError(`${folder} has no ${dockerfile}: a build context needs its Dockerfile`);
  }
  const ignoreFile = path.join(folder, '.dockerignore');
  const rules = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : '';
  const ignored = ignore().add(rules.split(/\r?\n/));
  const exceptions = rules.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  const always = new Set([dockerfile, '.dockerignore']);
  const kept = (relative: string) => always.has(relative) || !ignored.ignores(relative);

  const entries: string[] = [];
  const gzip = zlib.createGzip();
  const written = pipeline(gzip, fs.createWriteStream(out));
  const walk = async (relative: string): Promise<void> => {
    const names = (await fs.promises.readdir(path.join(folder, relative))).sort();
    for (const name of names) {
      const inContext = relative ? `${relative}/${name}` : name;
      const onDisk = path.join(folder, inContext);
      const stat = await fs.promises.lstat(onDisk);
      const keep = kept(inContext);
      const base = { name: inContext, mode: stat.mode, mtime: stat.mtime };
      let entry: TarEntry | undefined;
      if (stat.isSymbolicLink())
        entry = { ...base, type: 'symlink', target: await fs.promises.readlink(onDisk) };
      else if (stat.isFile()) entry = { ...base, type: 'file', size: stat.size };
      else if (stat.isDirectory()) entry = { ...base, type: 'directory' };
      if (entry && keep) {
        entries.push(inContext);
        await write(gzip, entryHeader(entry));
        if (entry.type === 'file') {
          for await (const chunk of fs.createReadStream(onDisk)) await write(gzip, chunk as Buffer);
          await write(gzip, padding(entry.size));
        }
      }
      // An excluded folder may still hold what a `!` line takes back, or the Dockerfile.
      const holdsAlways = [...always].some((name) => name.startsWith(`${inContext}/`));
      if (stat.isDirectory() && (keep || exceptions || holdsAlways)) await walk(inContext);
    }
  };
  try {
    await walk('');
    await write(gzip, END_OF_ARCHIVE);
  } finally {
    gzip.end();
  }
  await written;
  return { entries, bytes: fs.statSync(out).size };
}
