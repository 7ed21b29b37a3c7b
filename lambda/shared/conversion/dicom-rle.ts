import { frameBytes, FrameFormat } from './frame-format';
import { reject } from './rejection';

/**
 * Decodes one frame of DICOM RLE Lossless (PS3.5 annex G): a 64-byte header with the number of
 * segments and their offsets, then one PackBits-coded segment per byte plane: for each sample
 * (R, G, B, or the one grey), its most significant byte first. 8-bit grey has one segment,
 * 16-bit grey two, 8-bit RGB three. Returns stored values, little endian, colour interleaved.
 * Every offset and run is checked against the frame, and each segment must yield exactly one
 * byte per pixel.
 */
export function decodeRle(frame: Buffer, format: FrameFormat): Buffer {
  const bytes = format.bitsAllocated / 8;
  const expected = format.samples * bytes;
  if (frame.length < 64) reject('the RLE frame is shorter than its 64-byte header');
  const segments = frame.readUInt32LE(0);
  if (segments !== expected) {
    reject(
      `the RLE frame has ${segments} segments; ${format.bitsAllocated}-bit ${format.samples === 1 ? 'grey' : 'RGB'} needs ${expected}`,
    );
  }
  const offsets = Array.from({ length: segments }, (_, i) => frame.readUInt32LE(4 + 4 * i));
  if (offsets[0] < 64 || offsets.some((o, i) => (i > 0 && o <= offsets[i - 1]) || o > frame.length)) {
    reject('the RLE header points outside its frame');
  }
  const pixels = format.rows * format.columns;
  const out = Buffer.alloc(frameBytes(format));
  offsets.forEach((start, segment) => {
    const plane = unpackBits(frame.subarray(start, offsets[segment + 1] ?? frame.length), pixels);
    // Segment order: sample by sample, most significant byte first; output is little endian.
    const sample = Math.floor(segment / bytes);
    const byte = bytes - 1 - (segment % bytes);
    const stride = format.samples * bytes;
    for (let i = 0, at = sample * bytes + byte; i < pixels; i++, at += stride) out[at] = plane[i];
  });
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
