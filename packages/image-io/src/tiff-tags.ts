/** The tags of a TIFF's first image that decide how a slide is converted, as the file states them. */
export interface TiffTags {
  readonly bitsPerSample?: number;
  readonly samplesPerPixel?: number;
  /** 1 unsigned integer, 2 signed integer, 3 floating point. */
  readonly sampleFormat?: number;
  readonly photometric?: number;
  readonly compression?: number;
  /** Pixels per ResolutionUnit. */
  readonly xResolution?: number;
  readonly yResolution?: number;
  /** 1 none, 2 inch, 3 centimetre. */
  readonly resolutionUnit?: number;
  readonly description?: string;
}

const TAGS: Record<number, keyof TiffTags> = {
  258: 'bitsPerSample',
  259: 'compression',
  262: 'photometric',
  270: 'description',
  277: 'samplesPerPixel',
  282: 'xResolution',
  283: 'yResolution',
  296: 'resolutionUnit',
  339: 'sampleFormat',
};

/** Bytes of one value of each TIFF field type. */
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 16: 8 };

/**
 * Reads those tags of the first image, classic or BigTIFF, either byte order, with every offset
 * checked against the file; undefined when the file is no TIFF at all. Of a tag with several
 * values (BitsPerSample, SampleFormat) the first is kept.
 */
export function readTiffTags(file: Buffer): TiffTags | undefined {
  if (file.length < 16) return undefined;
  const order = file.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const u16 = (at: number) => (little ? file.readUInt16LE(at) : file.readUInt16BE(at));
  const u32 = (at: number) => (little ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const u64 = (at: number) => Number(little ? file.readBigUInt64LE(at) : file.readBigUInt64BE(at));
  const version = u16(2);
  const big = version === 43;
  if (version !== 42 && !big) return undefined;
  const ifd = big ? u64(8) : u32(4);
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  if (ifd + countBytes > file.length) return undefined;
  const count = big ? u64(ifd) : u16(ifd);
  const tags: Record<string, number | string> = {};
  for (let i = 0; i < count; i++) {
    const entry = ifd + countBytes + i * entryBytes;
    if (entry + entryBytes > file.length) break;
    const name = TAGS[u16(entry)];
    const type = u16(entry + 2);
    const size = TYPE_BYTES[type];
    if (!name || !size) continue;
    const length = (big ? u64(entry + 4) : u32(entry + 4)) * size;
    const inline = big ? 8 : 4;
    const offset = length <= inline ? entry + (big ? 12 : 8) : big ? u64(entry + 12) : u32(entry + 8);
    if (length === 0 || offset + length > file.length || length > 64 * 1024) continue;
    if (type === 2) tags[name] = file.toString('latin1', offset, offset + length).replace(/\0+$/, '');
    else if (type === 3) tags[name] = u16(offset);
    else if (type === 4) tags[name] = u32(offset);
    else if (type === 16) tags[name] = u64(offset);
    else if (type === 5 && u32(offset + 4) !== 0) tags[name] = u32(offset) / u32(offset + 4);
  }
  return tags as TiffTags;
}
