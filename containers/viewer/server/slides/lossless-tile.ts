import sharp from 'sharp';

/** How a level stores its samples, as its directory states. */
export interface SampleLayout {
  readonly tileSize: number;
  readonly samplesPerPixel: number;
  /** Bytes of one sample: 1, 2, 4 or 8. */
  readonly bytes: number;
  /** 1 unsigned integer, 2 signed integer, 3 floating point. */
  readonly format: number;
  readonly little: boolean;
  /** Photometric 2: the first three samples are R, G, B; otherwise the first is grey. */
  readonly rgb: boolean;
}

/** The range of values drawn from black to white, for samples that are not 8-bit. */
export interface DisplayRange {
  readonly min: number;
  readonly max: number;
}

/** Whether a level's samples go to the browser as they are: 8-bit unsigned grey or RGB. */
export function isEightBit(layout: SampleLayout): boolean {
  return layout.bytes === 1 && layout.format === 1;
}

/**
 * The samples of one uncompressed tile that are drawn (grey: the first; RGB: the first three;
 * further samples, such as a mask's extra channels, are left out) as numbers.
 */
export function shownSamples(raw: Buffer, layout: SampleLayout): Float64Array {
  const { tileSize, samplesPerPixel, bytes, format, little } = layout;
  const shown = layout.rgb ? 3 : 1;
  const pixels = tileSize * tileSize;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const read = sampleReader(view, bytes, format, little);
  const out = new Float64Array(pixels * shown);
  for (let p = 0; p < pixels; p++)
    for (let c = 0; c < shown; c++) out[p * shown + c] = read((p * samplesPerPixel + c) * bytes);
  return out;
}

/** The lowest and highest finite value shown within a level's `width` x `height` pixels of a tile. */
export function valueRange(
  samples: Float64Array,
  shown: number,
  tileSize: number,
  width: number,
  height: number,
): DisplayRange {
  let min = Infinity;
  let max = -Infinity;
  for (let y = 0; y < Math.min(height, tileSize); y++)
    for (let x = 0; x < Math.min(width, tileSize); x++)
      for (let c = 0; c < shown; c++) {
        const v = samples[(y * tileSize + x) * shown + c];
        if (!Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
  return { min, max };
}

/**
 * One tile as a PNG, which the browser decodes without loss. 8-bit unsigned samples are written
 * as they are. Other types (16- and 32-bit, signed, floating point) are scaled into 8 bits,
 * linearly from the display range's min (black) to its max (white), clamped, NaN black: the range
 * is the slide's smallest level's, so every tile of every level is scaled alike.
 */
export async function pngTile(
  raw: Buffer,
  layout: SampleLayout,
  range: DisplayRange | undefined,
): Promise<Buffer> {
  const shown = layout.rgb ? 3 : 1;
  const pixels = layout.tileSize * layout.tileSize;
  let eight: Buffer;
  if (isEightBit(layout) && layout.samplesPerPixel === shown) eight = raw;
  else if (isEightBit(layout)) {
    eight = Buffer.alloc(pixels * shown);
    for (let p = 0; p < pixels; p++)
      for (let c = 0; c < shown; c++) eight[p * shown + c] = raw[p * layout.samplesPerPixel + c];
  } else {
    if (!range) throw new Error('samples that are not 8-bit need a display range');
    eight = scaleToEightBits(shownSamples(raw, layout), range);
  }
  return sharp(eight, { raw: { width: layout.tileSize, height: layout.tileSize, channels: shown } })
    .toColourspace(shown === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 2, palette: false })
    .toBuffer();
}

/** `min` black, `max` white, linear between, clamped; NaN and a range of one value black. */
export function scaleToEightBits(samples: Float64Array, { min, max }: DisplayRange): Buffer {
  const out = Buffer.alloc(samples.length);
  const span = max > min ? max - min : Infinity;
  for (let i = 0; i < samples.length; i++) {
    // Multiplied before divided: integer samples land on exact halves where they should.
    const v = Math.round(((samples[i] - min) * 255) / span);
    out[i] = v > 255 ? 255 : v > 0 ? v : 0;
  }
  return out;
}

function sampleReader(
  view: DataView,
  bytes: number,
  format: number,
  little: boolean,
): (at: number) => number {
  if (format === 3 && bytes === 4) return (at) => view.getFloat32(at, little);
  if (format === 3 && bytes === 8) return (at) => view.getFloat64(at, little);
  if (format === 2 && bytes === 1) return (at) => view.getInt8(at);
  if (format === 2 && bytes === 2) return (at) => view.getInt16(at, little);
  if (format === 2 && bytes === 4) return (at) => view.getInt32(at, little);
  if (format === 2 && bytes === 8) return (at) => Number(view.getBigInt64(at, little));
  if (bytes === 1) return (at) => view.getUint8(at);
  if (bytes === 2) return (at) => view.getUint16(at, little);
  if (bytes === 4) return (at) => view.getUint32(at, little);
  return (at) => Number(view.getBigUint64(at, little));
}
