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
  const out = Buffer.allocUnsafe(frameBytes(format));
  // Segment order: sample by sample, most significant byte first; output is little endian.
  const stride = format.samples * bytes;
  offsets.forEach((start, segment) => {
    const sample = Math.floor(segment / bytes);
    const byte = bytes - 1 - (segment % bytes);
    const end = offsets[segment + 1] ?? frame.length;
    unpackBits(frame, start, end, out, sample * bytes + byte, stride, pixels);
  });
  return out;
}

/**
 * Decodes the PackBits segment `frame[start, end)` into `count` bytes of `out`, from `first` on,
 * `stride` apart. Runs are copied byte by byte: most are a few bytes long, shorter than a call
 * into native copying costs.
 */
function unpackBits(
  frame: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  first: number,
  stride: number,
  count: number,
): void {
  let read = start;
  let written = 0;
  let at = first;
  while (written < count) {
    if (read >= end) reject(`an RLE segment ends after ${written} of ${count} bytes`);
    const header = frame[read++];
    if (header < 128) {
      const run = header + 1;
      if (read + run > end || written + run > count) reject('an RLE literal run overruns its segment');
      for (let j = 0; j < run; j++, at += stride) out[at] = frame[read + j];
      read += run;
      written += run;
    } else if (header > 128) {
      const run = 257 - header;
      if (read >= end || written + run > count) reject('an RLE repeat run overruns its segment');
      const value = frame[read++];
      for (let j = 0; j < run; j++, at += stride) out[at] = value;
      written += run;
    }
  }
}
