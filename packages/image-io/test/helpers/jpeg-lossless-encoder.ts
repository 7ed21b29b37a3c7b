/**
 * A lossless JPEG encoder (ITU T.81 process 14: Huffman-coded, any of the seven predictors, no
 * point transform; restart intervals of whole rows; colour in one interleaved scan or one scan per
 * component), written from the standard so the converter's decoder is checked
 * against an encoder it shares nothing with. One Huffman table, optimal for the frame (annex K.2).
 * Fast enough for benchmark series: two passes over typed arrays.
 */
export interface LosslessFrameSpec {
  readonly width: number;
  readonly height: number;
  /** 1 for grey, 3 for colour (samples interleaved). */
  readonly components: 1 | 3;
  /** Bits per sample, 2 to 16; stored values are taken modulo 2^precision (two's complement for signed). */
  readonly precision: number;
  /** Predictor selection value 1 to 7; DICOM's first-order prediction is 1. */
  readonly predictor?: number;
  /** Rows per restart interval; none when absent. */
  readonly restartRows?: number;
  /** Colour coded one component per scan rather than interleaved in one. */
  readonly scanPerComponent?: boolean;
}

export function encodeJpegLossless(samples: ArrayLike<number>, spec: LosslessFrameSpec): Buffer {
  const { width, height, components, precision } = spec;
  const predictor = spec.predictor ?? 1;
  const count = width * height * components;
  if (samples.length !== count) throw new Error(`${samples.length} samples for ${count}`);
  const mask = precision === 16 ? 0xffff : (1 << precision) - 1;

  // Pass 1: the difference of each sample from its prediction (H.1.2.1), modulo 2^16.
  const differences = new Int32Array(count);
  const categories = new Uint8Array(count);
  const frequencies = new Float64Array(257);
  const line = width * components;
  const first = 1 << (precision - 1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < components; c++) {
        const i = y * line + x * components + c;
        let prediction: number;
        // The first row of the image and of each restart interval is predicted from the left.
        const fresh = y === 0 || (spec.restartRows !== undefined && y % spec.restartRows === 0);
        if (x === 0 && fresh) prediction = first;
        else if (fresh) prediction = samples[i - components] & mask;
        else if (x === 0) prediction = samples[i - line] & mask;
        else {
          const a = samples[i - components] & mask;
          const b = samples[i - line] & mask;
          const d = samples[i - line - components] & mask;
          prediction = predict(predictor, a, b, d);
        }
        let difference = ((samples[i] & mask) - prediction) & 0xffff;
        if (difference > 32768) difference -= 65536;
        differences[i] = difference;
        const size = category(difference);
        categories[i] = size;
        frequencies[size]++;
      }
    }
  }

  const table = optimalHuffmanTable(frequencies);
  const restartInterval = spec.restartRows === undefined ? 0 : spec.restartRows * width;
  const scans = spec.scanPerComponent
    ? Array.from({ length: components }, (_, c) => [c])
    : [Array.from({ length: components }, (_, c) => c)];
  const parts = [
    Buffer.from([0xff, 0xd8]),
    segment(0xc3, [
      precision,
      height >> 8,
      height & 0xff,
      width >> 8,
      width & 0xff,
      components,
      ...Array.from({ length: components }, (_, c) => [c + 1, 0x11, 0]).flat(),
    ]),
    segment(0xc4, [0x00, ...table.counts, ...table.symbols]),
    ...(restartInterval > 0 ? [segment(0xdd, [restartInterval >> 8, restartInterval & 0xff])] : []),
  ];

  // Pass 2: Huffman code of each difference's category, then its low bits (F.1.2.1), 0xff stuffed;
  // at each restart the bits are padded with ones to a byte and the restart marker follows.
  for (const scan of scans) {
    parts.push(segment(0xda, [scan.length, ...scan.map((c) => [c + 1, 0x00]).flat(), predictor, 0, 0]));
    const out = Buffer.allocUnsafe(count * 8 + 16 + 2 * height);
    let at = 0;
    let bits = 0; // bits waiting in `buffered`, fewer than 8 between codes
    let buffered = 0;
    const align = () => {
      if (bits > 0) {
        const byte = ((buffered << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff; // pad with ones
        out[at++] = byte;
        if (byte === 0xff) out[at++] = 0;
      }
      bits = 0;
      buffered = 0;
    };
    for (let y = 0, restarts = 0; y < height; y++) {
      if (y > 0 && spec.restartRows !== undefined && y % spec.restartRows === 0) {
        align();
        out[at++] = 0xff;
        out[at++] = 0xd0 + (restarts++ & 7);
      }
      for (let x = 0; x < width; x++) {
        for (const c of scan) {
          const i = y * line + x * components + c;
          const difference = differences[i];
          const size = categories[i];
          // The code and the extra bits together, at most 16 + 15 bits, in two steps of at most 16.
          const extra = size > 0 && size < 16 ? size : 0;
          for (let step = 0; step < 2; step++) {
            const length = step === 0 ? table.lengths[size] : extra;
            if (length === 0) continue;
            const value =
              step === 0
                ? table.codes[size]
                : (difference < 0 ? difference - 1 : difference) & ((1 << extra) - 1);
            buffered = (buffered << length) | value;
            bits += length;
            while (bits >= 8) {
              bits -= 8;
              const byte = (buffered >>> bits) & 0xff;
              out[at++] = byte;
              if (byte === 0xff) out[at++] = 0;
            }
            buffered &= (1 << bits) - 1;
          }
        }
      }
    }
    align();
    parts.push(out.subarray(0, at));
  }
  return Buffer.concat([...parts, Buffer.from([0xff, 0xd9])]);
}

function predict(predictor: number, a: number, b: number, c: number): number {
  switch (predictor) {
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return c;
    case 4:
      return a + b - c;
    case 5:
      return a + ((b - c) >> 1);
    case 6:
      return b + ((a - c) >> 1);
    case 7:
      return (a + b) >> 1;
    default:
      throw new Error(`predictor ${predictor}`);
  }
}

/** SSSS: the number of bits of a difference's magnitude; 16 stands for 32768 itself. */
function category(difference: number): number {
  return 32 - Math.clz32(difference < 0 ? -difference : difference);
}

function segment(marker: number, body: number[]): Buffer {
  const length = body.length + 2;
  return Buffer.from([0xff, marker, length >> 8, length & 0xff, ...body]);
}

/** Code lengths limited to 16 bits, the all-ones code reserved (T.81 annex K.2), and the canonical codes. */
function optimalHuffmanTable(observed: Float64Array) {
  const frequency = Float64Array.from(observed);
  frequency[256] = 1; // reserves one code point, so no code is all ones
  const size = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    let c1 = -1;
    let c2 = -1;
    let v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (frequency[i] > 0 && frequency[i] <= v) {
        v = frequency[i];
        c1 = i;
      }
    }
    v = Infinity;
    for (let i = 0; i <= 256; i++) {
      if (frequency[i] > 0 && frequency[i] <= v && i !== c1) {
        v = frequency[i];
        c2 = i;
      }
    }
    if (c2 < 0) break;
    frequency[c1] += frequency[c2];
    frequency[c2] = 0;
    size[c1]++;
    while (others[c1] >= 0) {
      c1 = others[c1];
      size[c1]++;
    }
    others[c1] = c2;
    size[c2]++;
    while (others[c2] >= 0) {
      c2 = others[c2];
      size[c2]++;
    }
  }
  const bits = new Int32Array(33);
  for (let i = 0; i <= 256; i++) if (size[i] > 0) bits[size[i]]++;
  for (let i = 32; i > 16; i--) {
    while (bits[i] > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i] -= 2;
      bits[i - 1]++;
      bits[j + 1] += 2;
      bits[j]--;
    }
  }
  let longest = 16;
  while (bits[longest] === 0) longest--;
  bits[longest]--; // the reserved code point
  const symbols: number[] = [];
  for (let length = 1; length <= 32; length++) {
    for (let s = 0; s < 256; s++) if (size[s] === length) symbols.push(s);
  }
  // Canonical codes (annex C), symbols in order of length.
  const codes = new Int32Array(17);
  const lengths = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let n = 0; n < bits[length]; n++, k++) {
      codes[symbols[k]] = code++;
      lengths[symbols[k]] = length;
    }
    code <<= 1;
  }
  return { counts: Array.from(bits.subarray(1, 17)), symbols, codes, lengths };
}
