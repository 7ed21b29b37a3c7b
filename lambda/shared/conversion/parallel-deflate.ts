import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const deflateRaw = promisify<zlib.InputType, zlib.ZlibOptions, Buffer>(zlib.deflateRaw);

/** Pieces compressed on their own: large enough that restarting the dictionary costs nothing visible. */
const PIECE_BYTES = 4 * 1024 * 1024;

/**
 * Writes a header and then `data` as one zlib stream, the header made from the stream's size once
 * known. The pieces are compressed at once on libuv's thread pool, as pigz does: every piece but
 * the last ends on a sync flush, so the raw deflate pieces join into one stream, and the Adler-32
 * of the whole is computed on this thread meanwhile. Any zlib reader inflates it.
 *
 * Memory: the output is reserved at its worst-case size but only the pages written are used, and
 * only a few pieces are in flight, so compressing needs about the compressed size, not twice it.
 */
export async function deflateAfterHeader(
  data: Uint8Array,
  header: (compressedBytes: number) => Buffer,
  level = 1,
): Promise<Buffer> {
  const count = Math.max(1, Math.ceil(data.length / PIECE_BYTES));
  const input = (i: number) => data.subarray(i * PIECE_BYTES, (i + 1) * PIECE_BYTES);
  const start = (i: number) =>
    deflateRaw(input(i), {
      level,
      finishFlush: i < count - 1 ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_FINISH,
    });
  // As many pieces in flight as the pool has threads; each is copied out, in order, as it ends.
  const inFlight = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
  const pending = new Map<number, Promise<Buffer>>();
  for (let i = 0; i < Math.min(inFlight, count); i++) pending.set(i, start(i));

  const headroom = header(Number.MAX_SAFE_INTEGER).length;
  const out = Buffer.allocUnsafeSlow(headroom + 2 + worstCase(data.length, count) + 4);
  // 0x78 0x01: deflate with a 32 KiB window, fastest level; the pair is a multiple of 31, as zlib requires.
  let end = headroom;
  out[end++] = 0x78;
  out[end++] = 0x01;
  let checksum = 1;
  for (let i = 0; i < count; i++) {
    checksum = adler32(input(i), checksum); // on this thread, while the pool compresses
    const piece = await pending.get(i)!;
    pending.delete(i);
    if (i + inFlight < count) pending.set(i + inFlight, start(i + inFlight));
    end += piece.copy(out, end);
  }
  end = out.writeUInt32BE(checksum, end);
  const head = header(end - headroom);
  if (head.length > headroom) throw new Error('the header grew past the room kept for it');
  head.copy(out, headroom - head.length);
  return out.subarray(headroom - head.length, end);
}

/** zlib's deflateBound for each piece, plus the 5 bytes of its sync flush. */
function worstCase(bytes: number, pieces: number): number {
  return bytes + (bytes >> 12) + (bytes >> 14) + (bytes >> 25) + pieces * (13 + 5);
}

/**
 * Adler-32 (RFC 1950) of `data`, continuing from the checksum of what came before it; sums 5552
 * bytes at a time, the most before the sums could overflow 2^32.
 */
export function adler32(data: Uint8Array, previous = 1): number {
  let a = previous & 0xffff;
  let b = previous >>> 16;
  for (let start = 0; start < data.length; start += 5552) {
    const end = Math.min(start + 5552, data.length);
    for (let i = start; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
