import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { adler32, deflateAfterHeader } from '../lambda/shared/conversion/parallel-deflate';

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
    const written = await deflateAfterHeader(data, (size) => {
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

  test('a wrong checksum is refused, so the ones above were checked', async () => {
    const data = voxelLike(5 * 1024 * 1024);
    const written = await deflateAfterHeader(data, () => Buffer.alloc(0));
    const trailer = written.length - 4;
    written[trailer] ^= 0xff;
    expect(() => zlib.inflateSync(written)).toThrow(/incorrect data check/);
  });

  test('Adler-32 agrees with zlib, whole or continued piece by piece', () => {
    const data = voxelLike(100_003);
    const reference = zlib.deflateSync(data).readUInt32BE(zlib.deflateSync(data).length - 4);
    expect(adler32(data)).toBe(reference);
    expect(adler32(data.subarray(60_000), adler32(data.subarray(0, 60_000)))).toBe(reference);
  });
});
