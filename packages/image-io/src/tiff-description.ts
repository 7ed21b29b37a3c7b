/**
 * Reads the ImageDescription (tag 270) of a TIFF's first image, classic or BigTIFF, with every
 * offset checked against the file: whole-slide scanners write their microns per pixel there.
 */
export function tiffImageDescription(file: Buffer): string | undefined {
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
  for (let i = 0; i < count; i++) {
    const entry = ifd + countBytes + i * entryBytes;
    if (entry + entryBytes > file.length) return undefined;
    if (u16(entry) !== 270) continue;
    const length = big ? u64(entry + 4) : u32(entry + 4);
    const inline = big ? 8 : 4;
    const offset = length <= inline ? entry + (big ? 12 : 8) : big ? u64(entry + 12) : u32(entry + 8);
    if (offset + length > file.length || length > 64 * 1024) return undefined;
    return file.toString('latin1', offset, offset + length).replace(/\0+$/, '');
  }
  return undefined;
}
