import { entryPathInside } from '@imaging-platform/image-io/archive-entries';
import { tarEntries } from '@imaging-platform/image-io/tar-entries';
import { isZipSymlink, openZip, zipEntryMode, zipEntryName } from '@imaging-platform/image-io/zip-archive';
import { diskFile } from '@imaging-platform/image-io/disk-file';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type * as yauzl from 'yauzl';

/** What a build context may expand to: entries (folders and links included) and bytes written. */
export interface ContextLimits {
  readonly entries: number;
  readonly extractedBytes: number;
}

/** A build context on disk, ready for the engine. */
export interface ExtractedContext {
  /** The folder to build: where the archive was extracted, or the one folder that wraps it all. */
  readonly root: string;
  /** The Dockerfile, by its path inside `root`. */
  readonly dockerfile: string;
}

/** Why an author's archive is not a build context, naming the entry at fault. */
export class ContextRefusal extends Error {}

function refuse(reason: string): never {
  throw new ContextRefusal(reason);
}

/** Longest symbolic link target read from a zip entry; real ones are a path. */
const MAX_LINK_TARGET = 4096;
/** Links followed while resolving one, as Linux allows before ELOOP. */
const MAX_LINK_HOPS = 40;
/** Written by macOS beside what was zipped; never part of a context. */
const MACOS_METADATA = '__MACOSX';

type EntryKind = 'file' | 'folder' | 'symlink' | 'hardlink';

interface ArchiveEntry {
  readonly name: string;
  readonly kind: EntryKind;
  readonly mode: number;
  /** A link's target as the archive names it. */
  readonly linkName?: string;
  readonly content?: () => Promise<Readable>;
}

/**
 * Extracts an author's build context (a zip or gzipped tar archive, told apart by its first bytes)
 * into the empty folder `dir`, treating it as hostile: a path that leaves the archive (absolute,
 * `..`, a backslash or drive letter), a symbolic link that resolves outside the context, a hard
 * link to an entry the archive does not hold as a file, a device or pipe, more entries than the
 * limit, more bytes than the limit (counted while written, whatever the headers say), and no
 * Dockerfile at `dockerfile` refuse the whole archive with a `ContextRefusal` naming the entry.
 * Links are made only once every entry is written and every link checked, so no entry is ever
 * written through one. When the Dockerfile is not at the archive's root but inside the one folder
 * that holds everything (as `zip -r ctx.zip folder` makes), that folder is the context.
 */
export async function extractContext(
  archive: string,
  dir: string,
  options: { readonly dockerfile: string; readonly limits: ContextLimits },
): Promise<ExtractedContext> {
  const dockerfile = dockerfilePath(options.dockerfile);
  const format = archiveFormat(archive);
  const written = new ContextWriter(dir, format, options.limits);
  if (format === 'zip') await readZip(archive, written);
  else await readTar(archive, written);
  const root = written.contextRoot(dockerfile);
  written.checkLinks(root);
  await written.makeLinks();
  return { root: path.join(dir, root), dockerfile };
}

function dockerfilePath(dockerfile: string): string {
  try {
    const inside = entryPathInside(dockerfile, 'build');
    if (inside !== '' && !dockerfile.endsWith('/')) return inside;
  } catch {
    // Refused below, as a path of the context rather than of an archive.
  }
  refuse(`the Dockerfile path "${dockerfile}" is not a file path inside the build context`);
}

function archiveFormat(archive: string): 'zip' | 'tar' {
  const head = Buffer.alloc(4);
  try {
    const fd = fs.openSync(archive, 'r');
    try {
      fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    refuse(`the build context cannot be read: ${(err as Error).message}`);
  }
  if (head.readUInt32LE(0) === 0x04034b50 || head.readUInt32LE(0) === 0x06054b50) return 'zip';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar';
  refuse('the build context is neither a zip archive nor a gzipped tar archive (.tar.gz, .tgz)');
}

async function readZip(archive: string, written: ContextWriter): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(diskFile(path.basename(archive), archive));
  } catch (err) {
    refuse(`the zip archive cannot be read: ${(err as Error).message}`);
  }
  try {
    // The count its directory declares is refused before any entry is read.
    written.declared(zip.entryCount);
    for (;;) {
      const entry = await nextZipEntry(zip);
      if (!entry) break;
      const name = zipEntryName(entry);
      const mode = zipEntryMode(entry);
      const type = mode & 0o170000;
      const kind: EntryKind | undefined = isZipSymlink(entry)
        ? 'symlink'
        : name.endsWith('/') || type === 0o040000
          ? 'folder'
          : type === 0 || type === 0o100000
            ? 'file'
            : undefined;
      if (!kind) refuse(`the zip archive holds "${name}", a device or pipe; a build context holds files`);
      const content = () => zip.openReadStreamPromise(entry);
      const linkName = kind === 'symlink' ? await linkTarget(name, await content()) : undefined;
      await written.add({ name, kind, mode, linkName, content });
    }
  } catch (err) {
    if (err instanceof ContextRefusal) throw err;
    refuse(`the zip archive is damaged: ${(err as Error).message}`);
  } finally {
    zip.close();
  }
}

function nextZipEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, fail) => {
    const settle = (entry?: yauzl.Entry, err?: Error) => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
      if (err) fail(err);
      else resolve(entry);
    };
    const onEntry = (entry: yauzl.Entry) => settle(entry);
    const onEnd = () => settle();
    const onError = (err: Error) => settle(undefined, err);
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

async function linkTarget(name: string, content: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of content as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_LINK_TARGET) {
      content.destroy();
      refuse(
        `the zip archive holds the symbolic link "${name}", whose target is longer than ${MAX_LINK_TARGET} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readTar(archive: string, written: ContextWriter): Promise<void> {
  const source = fs.createReadStream(archive);
  const stream = source.pipe(zlib.createGunzip());
  // A file that cannot be read ends the iteration with its error.
  source.on('error', (err) => stream.destroy(err));
  const kinds: Record<string, EntryKind> = {
    '0': 'file',
    '7': 'file',
    '5': 'folder',
    '2': 'symlink',
    '1': 'hardlink',
  };
  try {
    for await (const { entry, content } of tarEntries(stream)) {
      const kind = kinds[entry.type];
      if (!kind) {
        const what = ['3', '4', '6'].includes(entry.type)
          ? 'a device or pipe'
          : `an entry of type "${entry.type}"`;
        refuse(
          `the tar archive holds "${entry.name}", ${what}; a build context holds files, folders and links`,
        );
      }
      await written.add({
        name: entry.name,
        kind,
        mode: entry.mode,
        linkName: entry.linkName,
        content: () => Promise.resolve(Readable.from(content)),
      });
    }
  } catch (err) {
    if (err instanceof ContextRefusal) throw err;
    refuse(`the tar archive cannot be read: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
}

/** Writes entries under the context folder, counting them; keeps links to check and make last. */
class ContextWriter {
  private entries = 0;
  private bytes = 0;
  private readonly kinds = new Map<string, EntryKind>();
  private readonly symlinks = new Map<string, string>();
  private readonly hardlinks = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly format: 'zip' | 'tar',
    private readonly limits: ContextLimits,
  ) {}

  declared(entries: number): void {
    if (entries > this.limits.entries) this.tooManyEntries();
  }

  private tooManyEntries(): never {
    refuse(`the build context has more than ${this.limits.entries} entries`);
  }

  async add(entry: ArchiveEntry): Promise<void> {
    this.entries += 1;
    if (this.entries > this.limits.entries) this.tooManyEntries();
    let inside: string;
    try {
      inside = entryPathInside(entry.name, this.format);
    } catch (err) {
      refuse((err as Error).message);
    }
    if (inside === '') return;
    const known = this.kinds.get(inside);
    if (known && !(known === 'folder' && entry.kind === 'folder')) {
      refuse(`the ${this.format} archive holds "${inside}" twice`);
    }
    const parts = inside.split('/');
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join('/');
      if (this.symlinks.has(above)) {
        refuse(`the ${this.format} archive's entry "${inside}" is inside the symbolic link "${above}"`);
      }
    }
    this.kinds.set(inside, entry.kind);
    const target = path.join(this.dir, inside);
    if (entry.kind === 'folder') {
      await this.folder(target, inside);
    } else if (entry.kind === 'symlink') {
      this.symlinks.set(inside, entry.linkName ?? '');
    } else if (entry.kind === 'hardlink') {
      this.hardlinks.set(inside, this.hardlinkTarget(inside, entry.linkName ?? ''));
    } else {
      await this.folder(path.dirname(target), inside);
      // Owner read and write, so the folder can be removed; no set-id bits.
      const mode = (entry.mode & 0o777 || 0o644) | 0o600;
      const counted = new Transform({
        transform: (chunk: Buffer, _encoding, done) => {
          this.bytes += chunk.length;
          if (this.bytes > this.limits.extractedBytes) {
            done(new ContextRefusal(`the build context expands beyond ${this.limits.extractedBytes} bytes`));
          } else done(null, chunk);
        },
      });
      try {
        await pipeline(await entry.content!(), counted, fs.createWriteStream(target, { flags: 'wx', mode }));
      } catch (err) {
        if (err instanceof ContextRefusal) throw err;
        refuse(
          `the ${this.format} archive's entry "${inside}" cannot be extracted: ${(err as Error).message}`,
        );
      }
    }
  }

  private async folder(target: string, inside: string): Promise<void> {
    try {
      await fs.promises.mkdir(target, { recursive: true });
    } catch {
      refuse(`the ${this.format} archive's entry "${inside}" is inside one that is not a folder`);
    }
  }

  private hardlinkTarget(inside: string, linkName: string): string {
    let target: string;
    try {
      target = entryPathInside(linkName, this.format);
    } catch {
      refuse(
        `the ${this.format} archive holds the hard link "${inside}" to "${linkName}", outside the context`,
      );
    }
    // Tar links only to an entry written before the link.
    if (this.kinds.get(target) !== 'file') {
      refuse(
        `the ${this.format} archive holds the hard link "${inside}" to "${linkName}", which is not a file in it`,
      );
    }
    return target;
  }

  /** The context's root inside the archive: its own root, or the one folder that wraps it all. */
  contextRoot(dockerfile: string): string {
    if (this.kinds.has(dockerfile)) return this.checkedDockerfile('', dockerfile);
    const tops = new Set(
      [...this.kinds.keys()].map((p) => p.split('/')[0]).filter((top) => top !== MACOS_METADATA),
    );
    const [top] = tops;
    if (tops.size === 1 && this.kinds.get(top) === 'folder' && this.kinds.has(`${top}/${dockerfile}`)) {
      return this.checkedDockerfile(top, dockerfile);
    }
    refuse(
      `the build context has no Dockerfile at "${dockerfile}"${tops.size === 1 && this.kinds.get(top) === 'folder' ? ` (nor at "${top}/${dockerfile}")` : ''}`,
    );
  }

  private checkedDockerfile(root: string, dockerfile: string): string {
    const at = root ? `${root}/${dockerfile}` : dockerfile;
    const kind = this.kinds.get(at);
    if (kind !== 'file' && kind !== 'hardlink') {
      refuse(
        `the build context's Dockerfile "${at}" is a ${kind === 'folder' ? 'folder' : 'symbolic link'}, not a file`,
      );
    }
    return root;
  }

  /** Refuses a symbolic link that resolves outside `root`, following links through the context. */
  checkLinks(root: string): void {
    const prefix = root ? root.split('/') : [];
    for (const [link, target] of this.symlinks) {
      const outside = () =>
        refuse(
          `the ${this.format} archive holds the symbolic link "${link}" to "${target}", outside the context`,
        );
      if (target === '' || target.startsWith('/') || target.includes('\\') || /^[A-Za-z]:/.test(target))
        outside();
      let hops = 0;
      const resolved: string[] = [];
      const pending = [...link.split('/').slice(0, -1), ...target.split('/')];
      while (pending.length > 0) {
        const part = pending.shift()!;
        if (part === '' || part === '.') continue;
        if (part === '..') {
          if (resolved.length <= prefix.length) outside();
          resolved.pop();
          continue;
        }
        resolved.push(part);
        const through = this.symlinks.get(resolved.join('/'));
        if (through === undefined) continue;
        hops += 1;
        if (hops > MAX_LINK_HOPS)
          refuse(`the ${this.format} archive's symbolic link "${link}" is in a loop of links`);
        if (through.startsWith('/')) outside();
        resolved.pop();
        pending.unshift(...through.split('/'));
      }
      if (resolved.slice(0, prefix.length).join('/') !== prefix.join('/')) outside();
    }
  }

  /** Makes the links, once every entry is written and every link checked. */
  async makeLinks(): Promise<void> {
    for (const [link, target] of this.hardlinks) {
      await fs.promises
        .link(path.join(this.dir, target), path.join(this.dir, link))
        .catch(() => refuse(`the ${this.format} archive's hard link "${link}" is where another entry is`));
    }
    for (const [link, target] of this.symlinks) {
      await this.folder(path.dirname(path.join(this.dir, link)), link);
      await fs.promises
        .symlink(target, path.join(this.dir, link))
        .catch(() =>
          refuse(`the ${this.format} archive's symbolic link "${link}" is where another entry is`),
        );
    }
  }
}
