import { reject } from './rejection';

/**
 * Decodes one frame of DICOM RLE Lossless (PS3.5 annex G): a 64-byte header with the number of
 * segments and their offsets, then one PackBits-coded segment per byte plane, most significant
 * first. Returns little-endian 16-bit samples. Every offset and run is checked against the frame,
 * and each segment must yield exactly one byte per pixel.
 */
export function decodeRle16(frame: Buffer, pixels: number): Buffer {
  if (frame.length < 64) reject('the RLE frame is shorter than its 64-byte header');
  const segments = frame.readUInt32LE(0);
  if (segments !== 2) reject(`the RLE frame has ${segments} segments; 16-bit grey needs 2`);
  const offsets = [frame.readUInt32LE(4), frame.readUInt32LE(8)];
  if (offsets[0] < 64 || offsets[1] <= offsets[0] || offsets[1] > frame.length) {
    reject('the RLE header points outside its frame');
  }
  const high = unpackBits(frame.subarray(offsets[0], offsets[1]), pixels);
  const low = unpackBits(frame.subarray(offsets[1]), pixels);
  const out = Buffer.alloc(pixels * 2);
  for (let i = 0; i < pixels; i++) {
    out[2 * i] = low[i];
    out[2 * i + 1] = high[i];
  }
  return out;
}

function unpackBits(segment: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let read = 0;
  let written = 0;
  while (written < length) {
    if (read >= segment.length) reject(`an RLE segment ends after ${written} of ${length} bytes`);
    const header = segment.readInt8(read++);
    if (header >= 0) {
      const count = header + 1;
      if (read + count > segment.length || written + count > length)
        reject('an RLE literal run overruns its segment');
      segment.copy(out, written, read, read + count);
      read += count;
      written += count;
    } else if (header !== -128) {
      const count = 1 - header;
      if (read >= segment.length || written + count > length)
        reject('an RLE repeat run overruns its segment');
      out.fill(segment[read++], written, written + count);
      written += count;
    }
  }
  return out;
}
