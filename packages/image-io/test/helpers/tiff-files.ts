/**
 * TIFF for the slide tests, written and read here byte by byte so the checks do not rest on
 * libvips, which makes the converter's output.
 */

/** A striped, uncompressed 8-bit RGB TIFF with the given ImageDescription (as Aperio writes). */
export function stripedRgbTiff(width: number, height: number, pixels: Buffer, description: string): Buffer {
  return stripedTiff({ width, height, pixels, description, samplesPerPixel: 3, photometric: 2 });
}

export interface StripedTiff {
  readonly width: number;
  readonly height: number;
  /** Samples interleaved, in the byte order of the file (little endian). */
  readonly pixels: Buffer;
  readonly samplesPerPixel: number;
  /** 1 grey (min is black), 2 RGB, 3 palette, ... */
  readonly photometric: number;
  /** Bits of each sample; 8 unless given. */
  readonly bitsPerSample?: number;
  /** 1 unsigned, 2 signed, 3 float; the tag is left out unless given. */
  readonly sampleFormat?: number;
  readonly description?: string;
  /** Pixels per unit, with the ResolutionUnit tag's value (1 none, 2 inch, 3 cm); left out unless given. */
  readonly resolution?: { readonly perUnit: number; readonly unit?: number };
}

/** One strip of uncompressed pixels, little endian, with the tags asked for. */
export function stripedTiff(spec: StripedTiff): Buffer {
  const { width, height, pixels, samplesPerPixel: spp, photometric } = spec;
  const bits = spec.bitsPerSample ?? 8;
  const shorts = (values: number[]) => {
    const b = Buffer.alloc(values.length * 2);
    values.forEach((v, i) => b.writeUInt16LE(v, i * 2));
    return b;
  };
  // Resolution as a rational over 1000, so that fractional pixels per unit survive.
  const rational = (value: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(Math.round(value * 1000), 0);
    b.writeUInt32LE(1000, 4);
    return b;
  };
  const tags: [number, number, number, number | Buffer][] = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, spp, shorts(Array(spp).fill(bits))],
    [259, 3, 1, 1],
    [262, 3, 1, photometric],
    [273, 4, 1, 0], // strip offset, filled in below
    [277, 3, 1, spp],
    [278, 4, 1, height],
    [279, 4, 1, pixels.length],
    [284, 3, 1, 1],
  ];
  if (spec.description !== undefined) {
    const text = Buffer.from(`${spec.description}\0`, 'latin1');
    tags.push([270, 2, text.length, text]);
  }
  if (spec.resolution) {
    tags.push([282, 5, 1, rational(spec.resolution.perUnit)], [283, 5, 1, rational(spec.resolution.perUnit)]);
    if (spec.resolution.unit !== undefined) tags.push([296, 3, 1, spec.resolution.unit]);
  }
  // Samples beyond the colour ones are extra: unspecified, as a mask's or a stain's channels are.
  const colours = photometric === 2 || photometric === 6 ? 3 : 1;
  if (spp > colours) tags.push([338, 3, spp - colours, shorts(Array(spp - colours).fill(0))]);
  if (spec.sampleFormat !== undefined) tags.push([339, 3, spp, shorts(Array(spp).fill(spec.sampleFormat))]);
  tags.sort((a, b) => a[0] - b[0]);

  const ifdOffset = 8;
  const ifdBytes = 2 + tags.length * 12 + 4;
  let extra = ifdOffset + ifdBytes;
  const blobs: Buffer[] = [];
  const entries = Buffer.alloc(ifdBytes);
  entries.writeUInt16LE(tags.length, 0);
  let stripOffsetAt = 0;
  tags.forEach(([tag, type, count, value], i) => {
    const at = 2 + i * 12;
    entries.writeUInt16LE(tag, at);
    entries.writeUInt16LE(type, at + 2);
    entries.writeUInt32LE(count, at + 4);
    if (tag === 273) stripOffsetAt = at + 8;
    // Values of up to 4 bytes sit in the entry itself; longer ones after the directory.
    if (Buffer.isBuffer(value) && value.length <= 4) value.copy(entries, at + 8);
    else if (Buffer.isBuffer(value)) {
      entries.writeUInt32LE(extra, at + 8);
      blobs.push(value);
      extra += value.length;
      if (value.length % 2) {
        blobs.push(Buffer.alloc(1));
        extra += 1;
      }
    } else if (type === 3) entries.writeUInt16LE(value, at + 8);
    else entries.writeUInt32LE(value, at + 8);
  });
  entries.writeUInt32LE(extra, stripOffsetAt); // the pixels come last
  const header = Buffer.from([0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  return Buffer.concat([header, entries, ...blobs, pixels]);
}

export interface TiffLevel {
  readonly width: number;
  readonly height: number;
  readonly tileWidth?: number;
  readonly tileHeight?: number;
  readonly compression?: number;
  /** XResolution as a number, in the file's ResolutionUnit. */
  readonly xResolution?: number;
  readonly resolutionUnit?: number;
}

/** The images of a BigTIFF, in file order. */
export function bigTiffLevels(file: Buffer): TiffLevel[] {
  if (file.toString('latin1', 0, 2) !== 'II' || file.readUInt16LE(2) !== 43)
    throw new Error('not a little-endian BigTIFF');
  const levels: TiffLevel[] = [];
  let ifd = Number(file.readBigUInt64LE(8));
  while (ifd !== 0) {
    const count = Number(file.readBigUInt64LE(ifd));
    const values: Record<number, number> = {};
    for (let i = 0; i < count; i++) {
      const at = ifd + 8 + i * 20;
      const tag = file.readUInt16LE(at);
      const type = file.readUInt16LE(at + 2);
      if (type === 3) values[tag] = file.readUInt16LE(at + 12);
      else if (type === 4) values[tag] = file.readUInt32LE(at + 12);
      else if (type === 16) values[tag] = Number(file.readBigUInt64LE(at + 12));
      // One rational fits the 8-byte value field of a BigTIFF entry.
      else if (type === 5) values[tag] = file.readUInt32LE(at + 12) / file.readUInt32LE(at + 16);
    }
    levels.push({
      width: values[256],
      height: values[257],
      tileWidth: values[322],
      tileHeight: values[323],
      compression: values[259],
      xResolution: values[282],
      resolutionUnit: values[296],
    });
    ifd = Number(file.readBigUInt64LE(ifd + 8 + count * 20));
  }
  return levels;
}
