/**
 * The entries of a tar archive (ustar, pax and GNU long names), read from a stream in one pass:
 * each header checked (checksum, numbers) and resolved (pax records and long names apply to the
 * entry after them), handed on with its content. What the entries may be is the reader's
 * caller's to judge: the converter's archives and algorithm models allow different things.
 */

const BLOCK = 512;
/** Longest pax or GNU long-name record taken; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1024 ** 2;
/** Zero padding (and anything else) after the archive's end that is read and ignored. */
const MAX_TRAILING_BYTES = 1024 ** 2;
/** Largest piece of an entry's content handed on at once. */
const CONTENT_PIECE = 1024 ** 2;

/** What is wrong with an archive's structure; `detail` reads after "the archive" or "the model archive". */
export class TarFormatError extends Error {
  constructor(readonly detail: string) {
    super(`the tar archive ${detail}`);
  }
}

export interface TarEntry {
  /** As the archive names it, unchecked: the caller decides what a name may be. */
  readonly name: string;
  readonly linkName: string;
  readonly size: number;
  /** The ustar type flag: '0' or '7' file, '5' folder, '1' hard link, '2' symbolic link, '3'/'4' device, '6' FIFO. */
  readonly type: string;
  readonly mode: number;
  /** 1 for the first entry, counting every header that describes one. */
  readonly position: number;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

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
    return out;
  }

  /** `bytes` bytes, or null at the end of the stream; a part of them is a truncated archive. */
  async exactly(bytes: number): Promise<Buffer | null> {
    await this.fill(bytes);
    if (this.pendingBytes === 0 && this.ended) return null;
    if (this.pendingBytes < bytes) throw new TarFormatError('is truncated');
    return this.take(bytes);
  }

  /** Up to `bytes` bytes; the stream must not end first. */
  async some(bytes: number): Promise<Buffer> {
    await this.fill(1);
    if (this.pendingBytes === 0) throw new TarFormatError('is truncated');
    return this.take(Math.min(bytes, this.pendingBytes));
  }

  /** Reads the rest, failing past `limit` bytes. */
  async drain(limit: number): Promise<void> {
    let rest = 0;
    for (;;) {
      await this.fill(1);
      if (this.pendingBytes === 0) return;
      rest += this.take(this.pendingBytes).length;
      if (rest > limit) throw new TarFormatError('has data after its end');
    }
  }

  async skip(bytes: number): Promise<void> {
    for (let left = bytes; left > 0;) left -= (await this.some(Math.min(left, CONTENT_PIECE))).length;
  }
}

function octal(field: Buffer, what: string): number {
  // GNU's base-256 form, for sizes past 8 GiB: the first byte's high bit set.
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`has a header whose ${what} is too large`);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new TarFormatError(`has a header whose ${what} is not a number: "${text}"`);
  return parseInt(text, 8);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function parseHeader(block: Buffer, position: number): Omit<TarEntry, 'position'> {
  const checksum = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  const stored = /^[0-7]+$/.test(checksum) ? parseInt(checksum, 8) : -1;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  if (sum !== stored) {
    throw new TarFormatError(
      `has a header that is not valid (entry ${position}): it is not a tar archive, or is damaged`,
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
      throw new TarFormatError('has a malformed pax header');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

/**
 * Each entry of the tar archive in `chunks`, with its content; content the caller leaves unread
 * is skipped before the next entry. Throws TarFormatError for a damaged or truncated archive (one
 * without its end-of-archive marker included), and for more than a megabyte after that marker.
 */
export async function* tarEntries(
  chunks: AsyncIterable<Buffer>,
): AsyncGenerator<{ entry: TarEntry; content: AsyncIterable<Buffer> }> {
  const reader = new ByteReader(chunks[Symbol.asyncIterator]());
  const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
  const readMeta = async (size: number): Promise<Buffer> => {
    if (size > MAX_META_BYTES) throw new TarFormatError('has an oversized extended header');
    const data = size === 0 ? Buffer.alloc(0) : await reader.exactly(size);
    if (!data) throw new TarFormatError('is truncated');
    await reader.skip(padding(size));
    return data;
  };
  let position = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const block = await reader.exactly(BLOCK);
    if (!block) throw new TarFormatError('is truncated (it has no end-of-archive marker)');
    if (block.every((byte) => byte === 0)) break;
    const header = parseHeader(block, position + 1);
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
    position += 1;
    const entry: TarEntry = {
      ...header,
      name: pax.path ?? longName ?? header.name,
      linkName: pax.linkpath ?? longLink ?? header.linkName,
      size: pax.size !== undefined ? Number(pax.size) : header.size,
      position,
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
      throw new TarFormatError(`has an entry, "${entry.name}", with an invalid size`);
    }
    let left = entry.size;
    const content = (async function* () {
      while (left > 0) {
        const piece = await reader.some(Math.min(left, CONTENT_PIECE));
        left -= piece.length;
        yield piece;
      }
    })();
    yield { entry, content };
    // Whatever the caller left unread is skipped, so the next header is where tar put it.
    await reader.skip(left);
    await reader.skip(padding(entry.size));
  }
  await reader.drain(MAX_TRAILING_BYTES);
}
