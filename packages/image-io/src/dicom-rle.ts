import { frameBytes, FrameFormat } from './frame-format';
import { DATA_ADDRESS, packbitsDecoder, Stop, WRITTEN_ADDRESS } from './packbits-wasm';
import { reject } from './rejection';

/** Frames whose bytes and values fit in this are decoded in WebAssembly, whose memory never shrinks. */
const LARGEST_IN_WASM = 256 * 1024 * 1024;

/**
 * Decodes one frame of DICOM RLE Lossless (PS3.5 annex G): a 64-byte header with the number of
 * segments and their offsets, then one PackBits-coded segment per byte plane: for each sample
 * (R, G, B, or the one grey), its most significant byte first. 8-bit grey has one segment,
 * 16-bit grey two, 8-bit RGB three. Returns stored values, little endian, colour interleaved.
 * Every offset and run is checked against the frame, and each segment must yield exactly one
 * byte per pixel. The runs are decoded in WebAssembly (packbits-wasm.ts), whose memory holds
 * the frame and its values; frames too large to keep there for the rest of the process, or past
 * what its 32-bit addresses reach, are decoded in JavaScript (`wasmBytes` sets where).
 */
export function decodeRle(frame: Buffer, format: FrameFormat, wasmBytes = LARGEST_IN_WASM): Buffer {
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
  const size = frameBytes(format);
  // Segment order: sample by sample, most significant byte first; output is little endian.
  const stride = format.samples * bytes;
  const planes = offsets.map((start, segment) => ({
    start,
    end: offsets[segment + 1] ?? frame.length,
    first: Math.floor(segment / bytes) * bytes + (bytes - 1 - (segment % bytes)),
  }));
  if (DATA_ADDRESS + frame.length + size > wasmBytes) {
    const out = Buffer.allocUnsafe(size);
    for (const { start, end, first } of planes) unpackBits(frame, start, end, out, first, stride, pixels);
    return out;
  }
  // In the decoder's memory: the frame, then the values decoded from it.
  const { memory, unpack } = packbitsDecoder();
  const outAt = DATA_ADDRESS + frame.length;
  const needed = outAt + size - memory.buffer.byteLength;
  if (needed > 0) memory.grow(Math.ceil(needed / 65536));
  new Uint8Array(memory.buffer).set(frame, DATA_ADDRESS);
  for (const { start, end, first } of planes) {
    const stop = unpack(DATA_ADDRESS + start, DATA_ADDRESS + end, outAt + first, stride, pixels);
    if (stop === Stop.segmentEnded) {
      const written = new DataView(memory.buffer).getUint32(WRITTEN_ADDRESS, true);
      reject(`an RLE segment ends after ${written} of ${pixels} bytes`);
    }
    if (stop === Stop.literalOverrun) reject('an RLE literal run overruns its segment');
    if (stop === Stop.repeatOverrun) reject('an RLE repeat run overruns its segment');
  }
  return Buffer.from(new Uint8Array(memory.buffer, outAt, size));
}

/**
 * Decodes the PackBits segment `frame[start, end)` into `count` bytes of `out`, from `first` on,
 * `stride` apart. Runs are copied byte by byte, eight at a time: most are a few bytes long,
 * shorter than a call into native copying costs, and unrolling saves a third of the time.
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
      let run = header + 1;
      if (read + run > end || written + run > count) reject('an RLE literal run overruns its segment');
      written += run;
      for (; run >= 8; run -= 8, read += 8, at += 8 * stride) {
        out[at] = frame[read];
        out[at + stride] = frame[read + 1];
        out[at + 2 * stride] = frame[read + 2];
        out[at + 3 * stride] = frame[read + 3];
        out[at + 4 * stride] = frame[read + 4];
        out[at + 5 * stride] = frame[read + 5];
        out[at + 6 * stride] = frame[read + 6];
        out[at + 7 * stride] = frame[read + 7];
      }
      for (; run > 0; run--, at += stride) out[at] = frame[read++];
    } else if (header > 128) {
      let run = 257 - header;
      if (read >= end || written + run > count) reject('an RLE repeat run overruns its segment');
      const value = frame[read++];
      written += run;
      for (; run >= 8; run -= 8, at += 8 * stride) {
        out[at] = value;
        out[at + stride] = value;
        out[at + 2 * stride] = value;
        out[at + 3 * stride] = value;
        out[at + 4 * stride] = value;
        out[at + 5 * stride] = value;
        out[at + 6 * stride] = value;
        out[at + 7 * stride] = value;
      }
      for (; run > 0; run--, at += stride) out[at] = value;
    }
  }
}
