import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { checkedEntryPath, EntryWriter, ExtractionBudget } from './archive-entries';
import type { InputFile } from './convert-image-files';
import { reject, Rejection } from './rejection';

const BLOCK = 512;
/** Bytes read from an archive on disk at a time. */
const READ_BYTES = 1024 * 1024;
/** Longest extended header (pax) or long name (GNU) read: names, not content. */
const MAX_META_BYTES = 64 * 1024;

/** The bytes of a file, a megabyte at a time where it is on disk. */
function fileStream(file: InputFile): Readable {
  const { readRange, size } = file;
  if (!readRange || size === undefined) return Readable.from([file.load()]);
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < size; offset += READ_BYTES) {
        yield readRange({ offset, length: Math.min(READ_BYTES, size - offset) });
      }
    })(),
  );
}

/** Reads a stream in exact amounts: headers whole, contents as chunks. */
class Blocks {
  private pending: Buffer[] = [];
  private held = 0;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Exactly `bytes` bytes, or fewer where the stream ends first. */
  async take(bytes: number): Promise<Buffer> {
    while (this.held < bytes) {
      const next = await this.chunks.next();
      if (next.done) break;
      this.pending.push(next.value);
      this.held += next.value.length;
    }
    const all = Buffer.concat(this.pending);
    const taken = all.subarray(0, bytes);
    this.pending = all.length > bytes ? [all.subarray(bytes)] : [];
    this.held = Math.max(0, all.length - bytes);
    return taken;
  }

  /** `bytes` bytes as a stream of chunks of at most a megabyte; fails where the archive ends first. */
  async *content(bytes: number): AsyncGenerator<Buffer> {
    for (let left = bytes; left > 0;) {
      const chunk = await this.take(Math.min(left, READ_BYTES));
      if (chunk.length === 0) throw new Rejection('the tar archive ends inside an entry');
      left -= chunk.length;
      yield chunk;
    }
  }
}

/** A header's number: octal text, or base-256 when its first byte's high bit is set. */
function headerNumber(field: Buffer): number {
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function headerText(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** The records of a pax extended header: `<length> <key>=<value>\n`. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (space === -1 || !Number.isInteger(length) || length <= 0)
      reject('the tar archive has a damaged extended header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

/**
 * Extracts a tar archive (plain, or gzipped: `.tgz`, `.tar.gz`) to disk through `writer`,
 * treating it as hostile, as zip archives are: paths that leave the archive, links of either
 * kind, devices and pipes, archives inside, and entries or bytes beyond the set's budget refuse
 * the whole archive with the reason. ustar, pax and GNU long names are read; folders skipped.
 */
export async function extractTar(
  file: InputFile,
  writer: EntryWriter,
  budget: ExtractionBudget,
): Promise<InputFile[]> {
  const gzipped = /\.(tgz|tar\.gz)$/i.test(file.name);
  const source = fileStream(file);
  const stream = gzipped ? source.pipe(zlib.createGunzip()) : source;
  // A damaged gzip stream ends the iteration with its error.
  if (gzipped) source.on('error', (err) => stream.destroy(err));
  const blocks = new Blocks(stream);
  const extracted: InputFile[] = [];
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  try {
    for (;;) {
      const header = await blocks.take(BLOCK);
      if (header.length === 0 || header.every((byte) => byte === 0)) break;
      if (header.length < BLOCK) reject('the tar archive ends inside a header');
      const stored = headerNumber(header.subarray(148, 156));
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
      if (sum !== stored)
        reject('the tar archive has a header whose checksum does not match: not a tar archive, or damaged');
      const type = String.fromCharCode(header[156] || 0x30);
      const size = pax.size !== undefined ? Number(pax.size) : headerNumber(header.subarray(124, 136));
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
      const prefix = ustar ? headerText(header.subarray(345, 500)) : '';
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/` : '') + headerText(header.subarray(0, 100));

      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        if (size > MAX_META_BYTES) reject('the tar archive has an extended header larger than 64 KiB');
        const data = (await blocks.take(padded)).subarray(0, size);
        if (type === 'x') pax = paxRecords(data);
        if (type === 'L') longName = headerText(data);
        continue;
      }
      longName = undefined;
      pax = {};
      if (type === '1' || type === '2') {
        reject(
          `the tar archive holds the ${type === '2' ? 'symbolic' : 'hard'} link "${name}"; links are not extracted`,
        );
      }
      if (type === '3' || type === '4' || type === '6') {
        reject(`the tar archive holds "${name}", a device or pipe; only files are extracted`);
      }
      if (type !== '0' && type !== '7' && type !== '5') {
        reject(`the tar archive holds "${name}", an entry of type "${type}" that is not extracted`);
      }
      budget.entry('tar');
      const entryPath = type === '5' ? undefined : checkedEntryPath(name, 'tar');
      if (entryPath === undefined) {
        for await (const _ of blocks.content(padded)) void _;
        continue;
      }
      extracted.push(await writer.write(entryPath, Readable.from(blocks.content(size))));
      await blocks.take(padded - size);
    }
  } catch (err) {
    if (err instanceof Rejection) throw err;
    reject(`the tar archive cannot be read: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  return extracted;
}
