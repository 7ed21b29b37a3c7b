import * as zlib from 'node:zlib';

/** Pieces compressed on their own: large enough that restarting the dictionary costs nothing visible. */
const PIECE_BYTES = 4 * 1024 * 1024;

/** Bytes kept in front of the stream for the header, written last; only the pages written count. */
const HEADER_ROOM = 64 * 1024;

/** Pieces compressing or waiting to be copied at once: as many as libuv's pool has threads. */
const IN_FLIGHT = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);

/** How a piece ends: the sync flush marker, then the empty final block zlib writes on finishing. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
const PIECE_TAIL = Buffer.concat([Buffer.from([0x00, 0x00, 0xff, 0xff]), FINAL_BLOCK]);

interface Piece {
  /** Raw deflate blocks ending on a sync flush, so pieces join into one stream. */
  readonly blocks: Buffer;
  readonly adler: number;
  readonly bytes: number;
}

/**
 * One zlib stream of a buffer that may still be filling, compressed as pigz does: each piece of
 * 4 MiB is compressed on libuv's thread pool as soon as its bytes are final (`advance`), so the
 * compression of the start overlaps the reading of the rest. Each piece is a zlib stream of its
 * own, flushed and then finished: its blocks end on a sync flush and join the others'; zlib's
 * own Adler-32 of each piece, combined, is the trailer. Any zlib reader inflates the result.
 *
 * Memory: the output is reserved at its worst-case size but only the pages written are used, and
 * pieces are copied into it in order as they end, so compressing needs about the compressed size.
 */
export class PieceDeflater {
  private data: Uint8Array;
  /** Pieces started; each is dropped once copied, so its blocks are freed. */
  private pieces: (Promise<Piece> | undefined)[] = [];
  /** Pieces ended but not yet copied, by index. */
  private ended: (Piece | undefined)[] = [];
  /** Pieces copied into `out`, and where the next goes. */
  private copied = 0;
  private end = 0;
  private out: Buffer;
  private checksum = 1;
  private generation = 0;
  private finalBytes = 0;

  constructor(data: Uint8Array) {
    this.data = data;
    this.out = this.reserve();
  }

  /** The bytes before `finalBytes` will not change: the pieces they fill may be started. */
  advance(finalBytes: number): void {
    this.finalBytes = Math.max(this.finalBytes, finalBytes);
    this.startReady();
  }

  /** Starts final pieces while fewer than the pool's threads are compressing or waiting to be copied. */
  private startReady(): void {
    const count = pieceCount(this.data.length);
    const generation = this.generation;
    while (this.pieces.length < count && this.pieces.length - this.copied < IN_FLIGHT) {
      const i = this.pieces.length;
      const end = Math.min((i + 1) * PIECE_BYTES, this.data.length);
      if (end > this.finalBytes) return;
      const piece = deflatePiece(this.data.subarray(i * PIECE_BYTES, end));
      this.pieces.push(piece);
      // Copied in order as they end; a failure is reported by `finish`, not as an unhandled rejection.
      piece.then(
        (ended) => {
          if (this.generation !== generation) return;
          this.ended[i] = ended;
          this.copyEnded();
          this.startReady();
        },
        () => undefined,
      );
    }
  }

  /** The data was replaced (a wider voxel type, say): what was compressed of the old is dropped. */
  restart(data: Uint8Array): void {
    this.generation++;
    this.data = data;
    [this.pieces, this.ended, this.copied, this.checksum, this.finalBytes] = [[], [], 0, 1, 0];
    this.out = this.reserve();
  }

  /** The header, made from the stream's size, and the whole stream, once every byte is final. */
  async finish(header: (compressedBytes: number) => Buffer): Promise<Buffer> {
    this.advance(this.data.length);
    // Each piece's own handler, registered first, copies it and starts the next before this resumes.
    while (this.copied < pieceCount(this.data.length)) await this.pieces[this.copied];
    // Every piece ends on a sync flush; the stream ends with an empty final block, then the trailer.
    this.end += FINAL_BLOCK.copy(this.out, this.end);
    const end = this.out.writeUInt32BE(this.checksum, this.end);
    const stream = this.out.subarray(HEADER_ROOM, end);
    const head = header(stream.length);
    // A header longer than the room kept in front (long metadata) costs a copy.
    if (head.length > HEADER_ROOM) return Buffer.concat([head, stream]);
    head.copy(this.out, HEADER_ROOM - head.length);
    return this.out.subarray(HEADER_ROOM - head.length, end);
  }

  private reserve(): Buffer {
    const out = Buffer.allocUnsafeSlow(
      HEADER_ROOM + 2 + worstCase(this.data.length) + FINAL_BLOCK.length + 4,
    );
    // 0x78 0x01: deflate with a 32 KiB window, fastest level; the pair is a multiple of 31, as zlib requires.
    out[HEADER_ROOM] = 0x78;
    out[HEADER_ROOM + 1] = 0x01;
    this.end = HEADER_ROOM + 2;
    return out;
  }

  private copyEnded(): void {
    for (let piece = this.ended[this.copied]; piece; piece = this.ended[this.copied]) {
      this.end += piece.blocks.copy(this.out, this.end);
      this.checksum = adler32Combine(this.checksum, piece.adler, piece.bytes);
      this.ended[this.copied] = undefined;
      this.pieces[this.copied++] = undefined;
    }
  }
}

function pieceCount(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PIECE_BYTES));
}

/** One piece as its own zlib stream, sync-flushed and finished; its blocks and zlib's Adler-32 of it. */
function deflatePiece(input: Uint8Array): Promise<Piece> {
  return new Promise((resolve, reject) => {
    // One output chunk holds the whole piece (stored blocks at worst), so it is never concatenated.
    const stream = zlib.createDeflate({ level: 1, memLevel: 9, chunkSize: worstCase(input.length) + 64 });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => {
      const whole = joined(chunks);
      const tailAt = whole.length - 4 - PIECE_TAIL.length;
      if (tailAt < 2 || !whole.subarray(tailAt, tailAt + PIECE_TAIL.length).equals(PIECE_TAIL)) {
        reject(new Error('zlib ended a piece without the flush and final block expected'));
        return;
      }
      // Without the 2-byte zlib header, the empty final block and the Adler-32 trailer.
      const blocks = whole.subarray(2, tailAt + 4);
      resolve({ blocks, adler: whole.readUInt32BE(whole.length - 4), bytes: input.length });
    });
    stream.write(input, () => stream.flush(zlib.constants.Z_SYNC_FLUSH, () => stream.end()));
  });
}

/**
 * The chunks as one buffer: a view where they lie one after another in one buffer (zlib's output
 * buffer, which holds a whole piece), else a copy.
 */
function joined(chunks: readonly Buffer[]): Buffer {
  if (chunks.length === 0) return Buffer.alloc(0);
  const first = chunks[0];
  let end = first.byteOffset;
  for (const chunk of chunks) {
    if (chunk.buffer !== first.buffer || chunk.byteOffset !== end) return Buffer.concat(chunks);
    end += chunk.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/** zlib's deflateBound for each piece, plus the 5 bytes of its sync flush. */
function worstCase(bytes: number): number {
  return bytes + (bytes >> 12) + (bytes >> 14) + (bytes >> 25) + pieceCount(bytes) * (13 + 5);
}

const ADLER_BASE = 65521;

/**
 * The Adler-32 (RFC 1950) of two pieces one after the other, from theirs and the second's
 * length, as zlib's adler32_combine computes it.
 */
export function adler32Combine(first: number, second: number, secondBytes: number): number {
  const rem = secondBytes % ADLER_BASE;
  let a = first & 0xffff;
  let b = (rem * a) % ADLER_BASE;
  a += (second & 0xffff) + ADLER_BASE - 1;
  b += (first >>> 16) + (second >>> 16) + ADLER_BASE - rem;
  if (a >= ADLER_BASE) a -= ADLER_BASE;
  if (a >= ADLER_BASE) a -= ADLER_BASE;
  if (b >= 2 * ADLER_BASE) b -= 2 * ADLER_BASE;
  if (b >= ADLER_BASE) b -= ADLER_BASE;
  return ((b << 16) | a) >>> 0;
}
