import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const deflate = promisify(zlib.deflate);

/** Sample types a lossless slide keeps, as TIFF states them. */
export const SAMPLE_TYPES = {
  uint8: { bytes: 1, format: 1 },
  int8: { bytes: 1, format: 2 },
  uint16: { bytes: 2, format: 1 },
  uint32: { bytes: 4, format: 1 },
  int32: { bytes: 4, format: 2 },
  float32: { bytes: 4, format: 3 },
  float64: { bytes: 8, format: 3 },
} as const;

export type SampleType = keyof typeof SAMPLE_TYPES;

export interface LosslessPyramidInput {
  readonly width: number;
  readonly height: number;
  readonly samplesPerPixel: number;
  readonly sampleType: SampleType;
  /** 1 grey (min is black) or 2 RGB; samples beyond the colours are written as extra samples. */
  readonly photometric: 1 | 2;
  /** Samples interleaved, row by row, in little-endian order. */
  readonly pixels: Buffer;
  readonly micronsPerPixel: number;
  readonly tileSize: number;
}

/** Tiles compressing at once on libuv's pool. */
const IN_FLIGHT = Math.max(2, Number(process.env.UV_THREADPOOL_SIZE) || 4) * 2;

/**
 * Writes a tiled pyramidal BigTIFF that keeps every sample as it is: deflate tiles, the input's
 * sample type and channel count, each level half the one above. Lower levels take every second
 * pixel rather than averaging, so a label mask's levels hold only labels that the mask holds.
 */
export async function writeLosslessPyramid(input: LosslessPyramidInput): Promise<Buffer> {
  const { samplesPerPixel, sampleType, tileSize } = input;
  const pixelBytes = samplesPerPixel * SAMPLE_TYPES[sampleType].bytes;
  const parts: Buffer[] = [Buffer.alloc(16)];
  let written = 16;
  const levels: { width: number; height: number; offsets: number[]; counts: number[] }[] = [];
  let level = { width: input.width, height: input.height, pixels: input.pixels };
  for (;;) {
    const across = Math.ceil(level.width / tileSize);
    const down = Math.ceil(level.height / tileSize);
    const tiles: Buffer[] = new Array(across * down);
    const pending = new Set<Promise<void>>();
    for (let t = 0; t < across * down; t++) {
      const raw = cutTile(level, t % across, Math.floor(t / across), tileSize, pixelBytes);
      const job: Promise<void> = deflate(raw).then((compressed) => {
        tiles[t] = compressed;
        pending.delete(job);
      });
      pending.add(job);
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
    }
    await Promise.all(pending);
    const offsets: number[] = [];
    const counts: number[] = [];
    for (const tile of tiles) {
      offsets.push(written);
      counts.push(tile.length);
      parts.push(tile);
      written += tile.length;
    }
    levels.push({ width: level.width, height: level.height, offsets, counts });
    if (level.width <= tileSize && level.height <= tileSize) break;
    level = halve(level, pixelBytes);
  }

  // The directories follow the tiles, each linking to the next.
  const header = parts[0];
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(43, 2);
  header.writeUInt16LE(8, 4);
  header.writeBigUInt64LE(BigInt(written), 8);
  levels.forEach((l, index) => {
    const scale = 2 ** index;
    const { directory, linkAt } = directoryOf(input, l, index > 0, input.micronsPerPixel * scale, written);
    written += directory.length;
    if (index < levels.length - 1) directory.writeBigUInt64LE(BigInt(written), linkAt);
    parts.push(directory);
  });
  return Buffer.concat(parts);
}

/** One tile's pixels, zero beyond the image's edges as TIFF's whole tiles need. */
function cutTile(
  level: { width: number; height: number; pixels: Buffer },
  column: number,
  row: number,
  tileSize: number,
  pixelBytes: number,
): Buffer {
  const tile = Buffer.alloc(tileSize * tileSize * pixelBytes);
  const x0 = column * tileSize;
  const y0 = row * tileSize;
  const rowBytes = Math.min(tileSize, level.width - x0) * pixelBytes;
  for (let y = 0; y < tileSize && y0 + y < level.height; y++) {
    const from = ((y0 + y) * level.width + x0) * pixelBytes;
    level.pixels.copy(tile, y * tileSize * pixelBytes, from, from + rowBytes);
  }
  return tile;
}

/** The next level: every second pixel of every second row, so no value is made up. */
function halve(
  level: { width: number; height: number; pixels: Buffer },
  pixelBytes: number,
): { width: number; height: number; pixels: Buffer } {
  const width = Math.max(1, Math.floor(level.width / 2));
  const height = Math.max(1, Math.floor(level.height / 2));
  const pixels = Buffer.alloc(width * height * pixelBytes);
  // Copied in the widest words that a pixel is made of, as typed arrays copy fastest.
  const word = [8, 4, 2, 1].find((w) => pixelBytes % w === 0 && level.pixels.byteOffset % w === 0)!;
  // Integer words only: a float array could rewrite the bits of a NaN on the way.
  const view = (b: Buffer): { [index: number]: number | bigint } => {
    const Words =
      word === 8 ? BigUint64Array : word === 4 ? Uint32Array : word === 2 ? Uint16Array : Uint8Array;
    return new Words(b.buffer as ArrayBuffer, b.byteOffset, b.length / word);
  };
  const from = view(level.pixels);
  const to = view(pixels);
  const words = pixelBytes / word;
  for (let y = 0; y < height; y++) {
    const row = 2 * y * level.width * words;
    const at = y * width * words;
    for (let x = 0; x < width; x++)
      for (let w = 0; w < words; w++) to[at + x * words + w] = from[row + 2 * x * words + w];
  }
  return { width, height, pixels };
}

/** TIFF field types. */
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const LONG8 = 16;

/**
 * The directory of one level, with its out-of-line values after it; `at` is where it starts,
 * `linkAt` where in it the offset of the next directory goes.
 */
function directoryOf(
  input: LosslessPyramidInput,
  level: { width: number; height: number; offsets: number[]; counts: number[] },
  reduced: boolean,
  micronsPerPixel: number,
  at: number,
): { directory: Buffer; linkAt: number } {
  const spp = input.samplesPerPixel;
  const { bytes, format } = SAMPLE_TYPES[input.sampleType];
  const colours = input.photometric === 2 ? 3 : 1;
  const resolution = rational(10_000 / micronsPerPixel);
  const entries: [number, number, number[] | Buffer][] = [
    [254, LONG, [reduced ? 1 : 0]],
    [256, LONG, [level.width]],
    [257, LONG, [level.height]],
    [258, SHORT, Array(spp).fill(bytes * 8)],
    [259, SHORT, [8]], // deflate
    [262, SHORT, [input.photometric]],
    [277, SHORT, [spp]],
    [282, RATIONAL, resolution],
    [283, RATIONAL, resolution],
    [284, SHORT, [1]], // samples interleaved
    [296, SHORT, [3]], // centimetre
    [322, LONG, [input.tileSize]],
    [323, LONG, [input.tileSize]],
    [324, LONG8, level.offsets],
    [325, LONG8, level.counts],
    ...(spp > colours ? [[338, SHORT, Array(spp - colours).fill(0)] as [number, number, number[]]] : []),
    [339, SHORT, Array(spp).fill(format)],
  ];
  const valueBytes = { [SHORT]: 2, [LONG]: 4, [RATIONAL]: 4, [LONG8]: 8 } as Record<number, number>;
  const tableBytes = 8 + entries.length * 20 + 8;
  const extra: Buffer[] = [];
  let extraAt = at + tableBytes;
  const table = Buffer.alloc(tableBytes);
  table.writeBigUInt64LE(BigInt(entries.length), 0);
  entries.forEach(([tag, type, values], i) => {
    const e = 8 + i * 20;
    const count = type === RATIONAL ? values.length / 2 : values.length;
    const data = Buffer.alloc(values.length * valueBytes[type]);
    values.forEach((v, k) => {
      if (type === SHORT) data.writeUInt16LE(v, k * 2);
      else if (type === LONG8) data.writeBigUInt64LE(BigInt(v), k * 8);
      else data.writeUInt32LE(v, k * 4);
    });
    table.writeUInt16LE(tag, e);
    table.writeUInt16LE(type, e + 2);
    table.writeBigUInt64LE(BigInt(count), e + 4);
    if (data.length <= 8) data.copy(table, e + 12);
    else {
      table.writeBigUInt64LE(BigInt(extraAt), e + 12);
      extra.push(data);
      extraAt += data.length;
    }
  });
  return { directory: Buffer.concat([table, ...extra]), linkAt: tableBytes - 8 };
}

/** A positive number as numerator and denominator, as precise as 32 bits allow. */
function rational(value: number): number[] {
  let denominator = 1;
  while (denominator < 1e6 && value * denominator * 10 < 2 ** 32 - 1) denominator *= 10;
  return [Math.round(value * denominator), denominator];
}
