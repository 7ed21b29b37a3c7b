import { RangeSource } from './range-source';
import { SlideError } from './slide-error';

/** How a TIFF lays out its numbers: byte order, and classic (32-bit offsets) or BigTIFF (64-bit). */
export interface TiffLayout {
  readonly little: boolean;
  readonly big: boolean;
}

/** The tags a slide is viewed by; all others (descriptions, ICC profiles, XMP) are never read. */
export const TAG = {
  newSubfileType: 254,
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  samplesPerPixel: 277,
  xResolution: 282,
  yResolution: 283,
  planarConfiguration: 284,
  resolutionUnit: 296,
  predictor: 317,
  tileWidth: 322,
  tileHeight: 323,
  tileOffsets: 324,
  tileByteCounts: 325,
  sampleFormat: 339,
  jpegTables: 347,
} as const;
const WANTED = new Set<number>(Object.values(TAG));

/** One image file directory: numeric tags as numbers (rationals divided out), byte tags as bytes. */
export interface TiffDirectory {
  readonly numbers: ReadonlyMap<number, readonly number[]>;
  readonly bytes: ReadonlyMap<number, Buffer>;
  /** Offset of the next directory; 0 after the last. */
  readonly next: number;
}

/** Bytes of one value of each field type TIFF and BigTIFF define. */
const TYPE_BYTES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};
/** More entries than any slide has: a bound on what a damaged directory makes us read. */
const MAX_ENTRIES = 1000;
/** Out-of-line values of one directory read in one request when no further apart than this. */
const MERGE_GAP = 64 * 1024;

/** The header: byte order, classic or BigTIFF, and where the first directory is. */
export async function readTiffHeader(source: RangeSource): Promise<{ layout: TiffLayout; first: number }> {
  const header = await source.metadata(0, 16);
  const order = header.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM')
    throw new SlideError('the slide is not a TIFF: it has no TIFF header', 415);
  const layout = { little: order === 'II', big: false };
  const version = uint(header, 2, 2, layout);
  if (version === 42) return { layout, first: uint(header, 4, 4, layout) };
  if (version !== 43 || uint(header, 4, 2, layout) !== 8)
    throw new SlideError(`the slide is not a TIFF: its header states version ${version}`, 415);
  return { layout: { ...layout, big: true }, first: uint(header, 8, 8, layout) };
}

/** The directory at `offset`, with the out-of-line values of the tags a slide is viewed by. */
export async function readTiffDirectory(
  source: RangeSource,
  layout: TiffLayout,
  offset: number,
): Promise<TiffDirectory> {
  const countBytes = layout.big ? 8 : 2;
  const entryBytes = layout.big ? 20 : 12;
  const offsetBytes = layout.big ? 8 : 4;
  const count = uint(await source.metadata(offset, countBytes), 0, countBytes, layout);
  if (count === 0 || count > MAX_ENTRIES)
    throw new SlideError(`the slide's directory at ${offset} is damaged: it states ${count} entries`, 502);
  const table = await source.metadata(offset + countBytes, count * entryBytes + offsetBytes);

  const numbers = new Map<number, number[]>();
  const bytes = new Map<number, Buffer>();
  const outOfLine: { tag: number; type: number; count: number; at: number; length: number }[] = [];
  for (let i = 0; i < count; i++) {
    const entry = i * entryBytes;
    const tag = uint(table, entry, 2, layout);
    const type = uint(table, entry + 2, 2, layout);
    const size = TYPE_BYTES[type];
    if (!WANTED.has(tag) || !size) continue;
    const values = uint(table, entry + 4, offsetBytes, layout);
    const length = values * size;
    const valueAt = entry + 4 + offsetBytes;
    if (length <= offsetBytes) decode(tag, type, values, table.subarray(valueAt, valueAt + length));
    else outOfLine.push({ tag, type, count: values, at: uint(table, valueAt, offsetBytes, layout), length });
  }
  for (const { value, fields } of await readValues(source, outOfLine))
    for (const f of fields)
      decode(f.tag, f.type, f.count, value.subarray(f.at - fields[0].at, f.at - fields[0].at + f.length));
  return { numbers, bytes, next: uint(table, count * entryBytes, offsetBytes, layout) };

  function decode(tag: number, type: number, values: number, data: Buffer) {
    if (type === 1 || type === 2 || type === 6 || type === 7) {
      bytes.set(tag, Buffer.from(data));
      return;
    }
    const size = TYPE_BYTES[type];
    const out: number[] = [];
    for (let k = 0; k < values; k++) {
      const at = k * size;
      if (type === 5 || type === 10) {
        const denominator = uint(data, at + 4, 4, layout);
        out.push(denominator === 0 ? NaN : uint(data, at, 4, layout) / denominator);
      } else if (type === 11) out.push(layout.little ? data.readFloatLE(at) : data.readFloatBE(at));
      else if (type === 12) out.push(layout.little ? data.readDoubleLE(at) : data.readDoubleBE(at));
      else out.push(uint(data, at, size, layout));
    }
    numbers.set(tag, out);
  }
}

/** Out-of-line values, those near each other fetched together. */
async function readValues(
  source: RangeSource,
  fields: { tag: number; type: number; count: number; at: number; length: number }[],
): Promise<{ value: Buffer; fields: typeof fields }[]> {
  const groups: (typeof fields)[] = [];
  for (const field of [...fields].sort((a, b) => a.at - b.at)) {
    const last = groups.at(-1);
    const end = last ? Math.max(...last.map((f) => f.at + f.length)) : 0;
    if (last && field.at <= end + MERGE_GAP) last.push(field);
    else groups.push([field]);
  }
  return Promise.all(
    groups.map(async (group) => {
      const start = group[0].at;
      const end = Math.max(...group.map((f) => f.at + f.length));
      return { value: await source.metadata(start, end - start), fields: group };
    }),
  );
}

/** An unsigned integer of 1, 2, 4 or 8 bytes in the file's byte order. */
function uint(data: Buffer, at: number, size: number, layout: TiffLayout): number {
  if (size === 1) return data[at];
  if (size === 2) return layout.little ? data.readUInt16LE(at) : data.readUInt16BE(at);
  if (size === 4) return layout.little ? data.readUInt32LE(at) : data.readUInt32BE(at);
  return Number(layout.little ? data.readBigUInt64LE(at) : data.readBigUInt64BE(at));
}
