import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { adler32Combine, PieceDeflater } from '../src/parallel-deflate';

/** Data that compresses as voxels do: runs with noise, neither random nor constant. */
function voxelLike(bytes: number): Buffer {
  const data = crypto.randomBytes(bytes);
  for (let i = 0; i < bytes; i += 3) data[i] = 0;
  return data;
}

describe('zlib streams compressed in parallel pieces', () => {
  test.each([
    ['empty', 0],
    ['one byte', 1],
    ['one piece', 100_000],
    ['a piece boundary exactly', 4 * 1024 * 1024],
    ['several pieces and a partial one', 9 * 1024 * 1024 + 17],
  ])('%s inflates with zlib to the same bytes, checksum verified', async (_, bytes) => {
    const data = voxelLike(bytes);
    const sizes: number[] = [];
    const written = await new PieceDeflater(data).finish((size) => {
      sizes.push(size);
      return Buffer.from(`size ${size}\n`);
    });
    const size = sizes.at(-1)!;
    const head = `size ${size}\n`;
    expect(written.subarray(0, head.length).toString()).toBe(head);
    const stream = written.subarray(head.length);
    expect(stream.length).toBe(size);
    // inflateSync verifies the Adler-32 trailer and refuses a stream that does not end.
    expect(zlib.inflateSync(stream).equals(data)).toBe(true);
  });

  test('a header longer than the room kept in front of the stream still comes first', async () => {
    const data = voxelLike(300_000);
    const long = Buffer.alloc(100 * 1024, 'k');
    const written = await new PieceDeflater(data).finish(() => long);
    expect(written.subarray(0, long.length).equals(long)).toBe(true);
    expect(zlib.inflateSync(written.subarray(long.length)).equals(data)).toBe(true);
  });

  test('a wrong checksum is refused, so the ones above were checked', async () => {
    const data = voxelLike(5 * 1024 * 1024);
    const written = await new PieceDeflater(data).finish(() => Buffer.alloc(0));
    const trailer = written.length - 4;
    written[trailer] ^= 0xff;
    expect(() => zlib.inflateSync(written)).toThrow(/incorrect data check/);
  });

  test('a buffer compressed while it fills, and started over when replaced, inflates to its final bytes', async () => {
    const first = voxelLike(10 * 1024 * 1024);
    const deflater = new PieceDeflater(first);
    deflater.advance(5 * 1024 * 1024); // one piece final
    deflater.advance(9 * 1024 * 1024); // two
    const replaced = voxelLike(12 * 1024 * 1024 + 5);
    deflater.restart(replaced);
    deflater.advance(4 * 1024 * 1024);
    // A byte of a piece not yet final changes: what is compressed must be what the buffer ends as.
    replaced[10 * 1024 * 1024] ^= 0x5a;
    const written = await deflater.finish(() => Buffer.alloc(0));
    expect(zlib.inflateSync(written).equals(replaced)).toBe(true);
  });

  test('Adler-32 of pieces combines as zlib computes it of the whole', () => {
    const adler = (data: Buffer) => {
      const stream = zlib.deflateSync(data);
      return stream.readUInt32BE(stream.length - 4);
    };
    for (const [bytes, split] of [
      [100_003, 60_000],
      [200_000, 0],
      [140_000, 131_042], // a second piece longer than the modulus 65521
    ]) {
      const data = voxelLike(bytes);
      const [a, b] = [data.subarray(0, split), data.subarray(split)];
      expect(adler32Combine(adler(a), adler(b), b.length)).toBe(adler(data));
    }
  });
});
