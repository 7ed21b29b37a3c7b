import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TarFormatError, tarEntries } from '@imaging-platform/image-io/tar-entries';

/**
 * An algorithm's model, a `.tar.gz`, read in one pass: its SHA-256 (of the stored, compressed
 * bytes) and every tar header checked before anything of the entry is written. The model
 * validator reads it to decide whether a model may be used; the job runner reads it again to
 * extract it at /opt/ml/model, with the same checks, so a model that changed or never passed
 * validation cannot place anything outside its folder.
 */

/** Links followed when resolving a symbolic link inside the model, as Linux's own bound. */
const MAX_LINK_HOPS = 40;

/** Why a model is refused: shown to its editors as the model's reason, or as a job's. */
export class ModelArchiveRefusal extends Error {}

export interface ModelArchiveLimits {
  /** Entries (files, folders and links) the archive may hold. */
  readonly entries: number;
  /** Bytes its files may hold once extracted, in all. */
  readonly extractedBytes: number;
  /** How the limits are named in a refusal: the configuration keys, or the validated counts. */
  readonly names: { readonly entries: string; readonly extractedBytes: string };
}

/** What one pass over a model found. */
export interface ModelArchiveSummary {
  /** Hex SHA-256 of the compressed archive, as stored. */
  readonly sha256: string;
  readonly compressedBytes: number;
  readonly entries: number;
  readonly extractedBytes: number;
}

type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink';

/** Where the entries of a checked archive go; each call comes only after its entry passed the checks. */
export interface ArchiveSink {
  directory(entryPath: string): Promise<void>;
  file(entryPath: string, executable: boolean, content: AsyncIterable<Buffer>): Promise<void>;
  symlink(entryPath: string, target: string): Promise<void>;
  hardlink(entryPath: string, target: string): Promise<void>;
}

/**
 * Reads a model archive from `source` once: hashes it, gunzips it and walks its tar headers,
 * refusing absolute paths, `..`, entries inside a file or a link, links that lead outside the
 * model, devices and FIFOs, and more entries or extracted bytes than `limits`. Entries go to
 * `sink` when given (their content is skipped otherwise). Throws ModelArchiveRefusal for what
 * is wrong with the archive; any other error is the source's (a failed read).
 */
export async function readModelArchive(
  source: Readable,
  limits: ModelArchiveLimits,
  sink?: ArchiveSink,
): Promise<ModelArchiveSummary> {
  const hash = createHash('sha256');
  let compressedBytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      compressedBytes += chunk.length;
      done(null, chunk);
    },
  });
  let found: { entries: number; extractedBytes: number } | undefined;
  try {
    await pipeline(source, hashing, createGunzip(), async (tar: AsyncIterable<Buffer>) => {
      found = await walkTar(tar, limits, sink);
    });
  } catch (err) {
    if (err instanceof TarFormatError) throw new ModelArchiveRefusal(`the model archive ${err.detail}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new ModelArchiveRefusal(
        `the model is not a gzip-compressed tar archive (${(err as Error).message})`,
      );
    }
    throw err;
  }
  return { sha256: hash.digest('hex'), compressedBytes, ...found! };
}

/**
 * Extracts a model archive into `directory` (made if missing, else it must be empty: on AWS it is
 * a volume's mount point) with the checks of readModelArchive, then takes every write bit away
 * (files 0444 or 0555, folders 0555), so that whoever does not own them cannot change them. What
 * was written is removed again if the archive is refused or does not hash to `expectedSha256`.
 */
export async function extractModelArchive(
  source: Readable,
  directory: string,
  limits: ModelArchiveLimits,
  expectedSha256: string,
): Promise<ModelArchiveSummary> {
  await fs.promises.mkdir(directory, { recursive: true, mode: 0o755 });
  if ((await fs.promises.readdir(directory)).length > 0) throw new Error(`${directory} is not empty`);
  const folders: string[] = [directory];
  const inside = (entryPath: string) => path.join(directory, entryPath);
  const parentOf = async (entryPath: string) => {
    const parent = path.dirname(inside(entryPath));
    await fs.promises.mkdir(parent, { recursive: true, mode: 0o755 });
  };
  const sink: ArchiveSink = {
    async directory(entryPath) {
      await fs.promises.mkdir(inside(entryPath), { recursive: true, mode: 0o755 });
    },
    async file(entryPath, executable, content) {
      await parentOf(entryPath);
      const handle = await fs.promises.open(
        inside(entryPath),
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
        0o600,
      );
      try {
        for await (const piece of content) await handle.write(piece);
        await handle.chmod(executable ? 0o555 : 0o444);
      } finally {
        await handle.close();
      }
    },
    async symlink(entryPath, target) {
      await parentOf(entryPath);
      await fs.promises.symlink(target, inside(entryPath));
    },
    async hardlink(entryPath, target) {
      await parentOf(entryPath);
      await fs.promises.link(inside(target), inside(entryPath));
    },
  };
  try {
    const summary = await readModelArchive(source, limits, sink);
    if (summary.sha256 !== expectedSha256) {
      throw new ModelArchiveRefusal(
        `the model's SHA-256 is ${summary.sha256}, not the ${expectedSha256} it was validated with`,
      );
    }
    await collectFolders(directory, folders);
    // Deepest first, so each folder is still writable while its children are changed.
    for (const folder of folders.sort((a, b) => b.length - a.length)) await fs.promises.chmod(folder, 0o555);
    return summary;
  } catch (err) {
    await emptyExtracted(directory);
    throw err;
  }
}

/** Removes what an extraction placed in `directory`, whose folders may have no write bits; the folder stays. */
export async function emptyExtracted(directory: string): Promise<void> {
  const folders: string[] = [];
  await collectFolders(directory, folders).catch(() => undefined);
  for (const folder of [directory, ...folders]) await fs.promises.chmod(folder, 0o755).catch(() => undefined);
  for (const entry of await fs.promises.readdir(directory).catch(() => [] as string[])) {
    await fs.promises.rm(path.join(directory, entry), { recursive: true, force: true });
  }
}

async function collectFolders(directory: string, into: string[]): Promise<void> {
  for (const entry of await fs.promises.readdir(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const folder = path.join(directory, entry.name);
      into.push(folder);
      await collectFolders(folder, into);
    }
  }
}

/** An entry's path inside the model, normalised (`./a//b/` is `a/b`; the model's root is ''). */
function entryPath(raw: string, what: string): string {
  if (raw.startsWith('/')) throw new ModelArchiveRefusal(`${what} "${raw}" is an absolute path`);
  if ([...raw].some((c) => c < ' ')) throw new ModelArchiveRefusal(`${what} "${raw}" has control characters`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw new ModelArchiveRefusal(`${what} "${raw}" leads out of the model with ".."`);
  return segments.join('/');
}

/**
 * Where a path inside the model leads once the archive's symbolic links are followed, or
 * undefined when it leaves the model (or loops).
 */
function resolveInside(start: string[], links: ReadonlyMap<string, string>): string[] | undefined {
  const done: string[] = [];
  const todo = [...start];
  let hops = 0;
  while (todo.length > 0) {
    const segment = todo.shift()!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (done.length === 0) return undefined;
      done.pop();
      continue;
    }
    done.push(segment);
    const target = links.get(done.join('/'));
    if (target !== undefined) {
      if (++hops > MAX_LINK_HOPS || target.startsWith('/')) return undefined;
      done.pop();
      todo.unshift(...target.split('/'));
    }
  }
  return done;
}

async function walkTar(
  tar: AsyncIterable<Buffer>,
  limits: ModelArchiveLimits,
  sink: ArchiveSink | undefined,
): Promise<{ entries: number; extractedBytes: number }> {
  const kinds = new Map<string, EntryKind>();
  const links = new Map<string, string>();
  let entries = 0;
  let extractedBytes = 0;

  for await (const { entry: header, content } of tarEntries(tar)) {
    const { name: rawName, linkName: rawLink, size } = header;
    entries += 1;
    if (entries > limits.entries) {
      throw new ModelArchiveRefusal(
        `the model has more than ${limits.entries} entries (${limits.names.entries})`,
      );
    }
    const kind = kindOf(header.type, rawName);
    const name = entryPath(rawName, 'entry');
    if (name === '') {
      if (kind !== 'directory')
        throw new ModelArchiveRefusal(`entry "${rawName}" is not a folder but names the model's root`);
      continue;
    }
    // Nothing is placed inside a file or through a link: each folder on the way is a folder.
    const segments = name.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      const parentKind = kinds.get(parent);
      if (parentKind === undefined) kinds.set(parent, 'directory');
      else if (parentKind !== 'directory') {
        throw new ModelArchiveRefusal(
          `entry "${rawName}" lies inside "${parent}", which is a ${describe(parentKind)}`,
        );
      }
    }
    const earlier = kinds.get(name);
    if (earlier !== undefined && !(earlier === 'directory' && kind === 'directory')) {
      throw new ModelArchiveRefusal(`entry "${rawName}" appears more than once in the model`);
    }
    kinds.set(name, kind);

    if (kind === 'file') {
      extractedBytes += size;
      if (extractedBytes > limits.extractedBytes) {
        throw new ModelArchiveRefusal(
          `the model holds more than ${limits.extractedBytes} bytes once extracted (${limits.names.extractedBytes})`,
        );
      }
      await sink?.file(name, (header.mode & 0o111) !== 0, content);
      continue;
    }
    if (kind === 'directory') {
      await sink?.directory(name);
    } else if (kind === 'symlink') {
      if (rawLink === '') throw new ModelArchiveRefusal(`symbolic link "${rawName}" has no target`);
      if (rawLink.startsWith('/')) {
        throw new ModelArchiveRefusal(`symbolic link "${rawName}" points to an absolute path, "${rawLink}"`);
      }
      if (!resolveInside([...segments.slice(0, -1), ...rawLink.split('/')], links)) {
        throw new ModelArchiveRefusal(`symbolic link "${rawName}" points outside the model, to "${rawLink}"`);
      }
      links.set(name, rawLink);
      await sink?.symlink(name, rawLink);
    } else {
      const target = entryPath(rawLink, `hard link "${rawName}" to`);
      if (kinds.get(target) !== 'file') {
        throw new ModelArchiveRefusal(
          `hard link "${rawName}" points to "${rawLink}", which is not a file earlier in the model`,
        );
      }
      await sink?.hardlink(name, target);
    }
  }
  // Each link checked again with every link of the archive known, since a later link can change
  // where an earlier one leads.
  for (const [name, target] of links) {
    if (!resolveInside([...name.split('/').slice(0, -1), ...target.split('/')], links)) {
      throw new ModelArchiveRefusal(`symbolic link "${name}" points outside the model, to "${target}"`);
    }
  }
  return { entries, extractedBytes };
}

function kindOf(type: string, rawName: string): EntryKind {
  switch (type) {
    case '0':
    case '7':
      return rawName.endsWith('/') ? 'directory' : 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    case '3':
    case '4':
      throw new ModelArchiveRefusal(`entry "${rawName}" is a device, which a model may not hold`);
    case '6':
      throw new ModelArchiveRefusal(`entry "${rawName}" is a FIFO, which a model may not hold`);
    default:
      throw new ModelArchiveRefusal(`entry "${rawName}" has tar type "${type}", which a model may not hold`);
  }
}

function describe(kind: EntryKind): string {
  return kind === 'symlink' ? 'symbolic link' : kind === 'hardlink' ? 'hard link' : kind;
}
