/**
 * TIFF for the slide tests, written and read here byte by byte so the checks do not rest on
 * libvips, which makes the converter's output.
 */

/** A striped, uncompressed 8-bit RGB TIFF with the given ImageDescription (as Aperio writes). */
export function stripedRgbTiff(width: number, height: number, pixels: Buffer, description: string): Buffer {
  const text = Buffer.from(`${description}\0`, 'latin1');
  const tags: [number, number, number, number | Buffer][] = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 3, Buffer.from([8, 0, 8, 0, 8, 0])],
    [259, 3, 1, 1],
    [262, 3, 1, 2],
    [270, 2, text.length, text],
    [273, 4, 1, 0], // strip offset, filled in below
    [277, 3, 1, 3],
    [278, 4, 1, height],
    [279, 4, 1, pixels.length],
    [284, 3, 1, 1],
  ];
  const ifdOffset = 8;
  const ifdBytes = 2 + tags.length * 12 + 4;
  let extra = ifdOffset + ifdBytes;
  const blobs: Buffer[] = [];
  const entries = Buffer.alloc(ifdBytes);
  entries.writeUInt16LE(tags.length, 0);
  tags.forEach(([tag, type, count, value], i) => {
    const at = 2 + i * 12;
    entries.writeUInt16LE(tag, at);
    entries.writeUInt16LE(type, at + 2);
    entries.writeUInt32LE(count, at + 4);
    if (Buffer.isBuffer(value)) {
      entries.writeUInt32LE(extra, at + 8);
      blobs.push(value);
      extra += value.length;
    } else if (type === 3) entries.writeUInt16LE(value, at + 8);
    else entries.writeUInt32LE(value, at + 8);
  });
  entries.writeUInt32LE(extra, 2 + 6 * 12 + 8); // StripOffsets: the pixels come last
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
