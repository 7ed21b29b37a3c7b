import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/**
 * An algorithm's model, a `.tar.gz`, read in one pass: its SHA-256 (of the stored, compressed
 * bytes) and every tar header checked before anything of the entry is written. The model
 * validator reads it to decide whether a model may be used; the job runner reads it again to
 * extract it at /opt/ml/model, with the same checks, so a model that changed or never passed
 * validation cannot place anything outside its folder.
 */

const BLOCK = 512;
/** Longest pax or GNU long-name record taken; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1024 ** 2;
/** Zero padding (and anything else) after the archive's end that is read and ignored. */
const MAX_TRAILING_BYTES = 1024 ** 2;
/** Links followed when resolving a symbolic link inside the model, as Linux's own bound. */
const MAX_LINK_HOPS = 40;
/** Largest piece of an entry's content handed on at once. */
const CONTENT_PIECE = 1024 ** 2;

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
      found = await walkTar(new ByteReader(tar[Symbol.asyncIterator]()), limits, sink);
    });
  } catch (err) {
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

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** Bytes handed out so far. */
  offset = 0;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async fill(bytes: number): Promise<void> {
    while (this.pendingBytes < bytes && !this.ended) {
      const next = await this.chunks.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
  }

  private take(bytes: number): Buffer {
    const head = this.pending[0];
    let out: Buffer;
    if (head.length >= bytes) {
      out = head.subarray(0, bytes);
      if (head.length === bytes) this.pending.shift();
      else this.pending[0] = head.subarray(bytes);
    } else {
      const all = Buffer.concat(this.pending);
      out = all.subarray(0, bytes);
      this.pending.length = 0;
      if (all.length > bytes) this.pending.push(all.subarray(bytes));
    }
    this.pendingBytes -= bytes;
    this.offset += bytes;
    return out;
  }

  /** `bytes` bytes, or null at the end of the stream; a part of them is a truncated archive. */
  async exactly(bytes: number): Promise<Buffer | null> {
    await this.fill(bytes);
    if (this.pendingBytes === 0 && this.ended) return null;
    if (this.pendingBytes < bytes) throw new ModelArchiveRefusal('the model archive is truncated');
    return this.take(bytes);
  }

  /** Up to `bytes` bytes; the stream must not end first. */
  async some(bytes: number): Promise<Buffer> {
    await this.fill(1);
    if (this.pendingBytes === 0) throw new ModelArchiveRefusal('the model archive is truncated');
    return this.take(Math.min(bytes, this.pendingBytes));
  }

  /** Reads the rest, failing past `limit` bytes. */
  async drain(limit: number): Promise<void> {
    let rest = 0;
    for (;;) {
      await this.fill(1);
      if (this.pendingBytes === 0) return;
      rest += this.take(this.pendingBytes).length;
      if (rest > limit) throw new ModelArchiveRefusal('the model archive has data after its end');
    }
  }
}

interface Header {
  readonly name: string;
  readonly linkName: string;
  readonly size: number;
  readonly type: string;
  readonly mode: number;
}

function octal(field: Buffer, what: string): number {
  // GNU's base-256 form, for sizes past 8 GiB: the first byte's high bit set.
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new ModelArchiveRefusal(`a tar header's ${what} is too large`);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new ModelArchiveRefusal(`a tar header's ${what} is not a number: "${text}"`);
  return parseInt(text, 8);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function parseHeader(block: Buffer, position: number): Header {
  const checksum = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  const stored = /^[0-7]+$/.test(checksum) ? parseInt(checksum, 8) : -1;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  if (sum !== stored) {
    throw new ModelArchiveRefusal(
      `the model is not a tar archive (the header of entry ${position} is not valid)`,
    );
  }
  const isUstar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(block.subarray(345, 500)) : '';
  const name = cString(block.subarray(0, 100));
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkName: cString(block.subarray(157, 257)),
    size: octal(block.subarray(124, 136), 'size'),
    type: String.fromCharCode(block[156] || 0x30),
    mode: octal(block.subarray(100, 108), 'mode'),
  };
}

/** Records of a pax extended header: `<length> <key>=<value>\n`. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (space === -1 || !Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new ModelArchiveRefusal('the model archive has a malformed pax header');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
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
  reader: ByteReader,
  limits: ModelArchiveLimits,
  sink: ArchiveSink | undefined,
): Promise<{ entries: number; extractedBytes: number }> {
  const kinds = new Map<string, EntryKind>();
  const links = new Map<string, string>();
  let entries = 0;
  let extractedBytes = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};

  const readMeta = async (size: number): Promise<Buffer> => {
    if (size > MAX_META_BYTES)
      throw new ModelArchiveRefusal('the model archive has an oversized extended header');
    const data = size === 0 ? Buffer.alloc(0) : await reader.exactly(size);
    if (!data) throw new ModelArchiveRefusal('the model archive is truncated');
    await skipPadding(size);
    return data;
  };
  const skipPadding = async (size: number) => {
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0 && !(await reader.exactly(padding)))
      throw new ModelArchiveRefusal('the model archive is truncated');
  };
  const skipContent = async (size: number) => {
    for (let left = size; left > 0;) left -= (await reader.some(Math.min(left, CONTENT_PIECE))).length;
    await skipPadding(size);
  };

  for (;;) {
    const block = await reader.exactly(BLOCK);
    if (!block)
      throw new ModelArchiveRefusal('the model archive is truncated (it has no end-of-archive marker)');
    if (block.every((byte) => byte === 0)) break;
    const header = parseHeader(block, entries + 1);
    // Headers that describe the next entry.
    if (header.type === 'x') {
      pax = { ...pax, ...paxRecords(await readMeta(header.size)) };
      continue;
    }
    if (header.type === 'g') {
      await readMeta(header.size);
      continue;
    }
    if (header.type === 'L' || header.type === 'K') {
      const value = cString(await readMeta(header.size));
      if (header.type === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const rawName = pax.path ?? longName ?? header.name;
    const rawLink = pax.linkpath ?? longLink ?? header.linkName;
    const size = pax.size !== undefined ? Number(pax.size) : header.size;
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new ModelArchiveRefusal(`entry "${rawName}" has an invalid size`);

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
      await skipContent(size);
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
      if (sink) {
        let left = size;
        const content = async function* () {
          while (left > 0) {
            const piece = await reader.some(Math.min(left, CONTENT_PIECE));
            left -= piece.length;
            yield piece;
          }
        };
        await sink.file(name, (header.mode & 0o111) !== 0, content());
        // Whatever the sink left unread is skipped, so the next header is where tar put it.
        while (left > 0) left -= (await reader.some(Math.min(left, CONTENT_PIECE))).length;
        await skipPadding(size);
      } else {
        await skipContent(size);
      }
      continue;
    }
    await skipContent(size);
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
  await reader.drain(MAX_TRAILING_BYTES);
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
