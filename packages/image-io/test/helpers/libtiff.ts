import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LibtiffImage {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly samplesPerPixel: number;
  readonly sampleFormat: number;
  readonly photometric: number;
  /** Samples interleaved, row by row, little endian. */
  readonly pixels: Buffer;
}

/**
 * One image of a TIFF decoded by libtiff (Debian's libtiff-tools): `tiffcp` rewrites it as one
 * uncompressed strip, whose bytes are then the samples as libtiff decoded them. The independent
 * reader of the lossless slide tests, since ITK reads tiled TIFF through 8-bit RGBA.
 */
export function readWithLibtiff(file: string, page = 0): LibtiffImage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libtiff-'));
  try {
    const flat = path.join(dir, 'flat.tif');
    execFileSync('tiffcp', ['-c', 'none', '-s', '-r', '4294967295', `${file},${page}`, flat]);
    const data = fs.readFileSync(flat);
    if (data.toString('latin1', 0, 2) !== 'II' || data.readUInt16LE(2) !== 42)
      throw new Error('tiffcp wrote no little-endian classic TIFF');
    const ifd = data.readUInt32LE(4);
    const tags: Record<number, number> = {};
    for (let i = 0, count = data.readUInt16LE(ifd); i < count; i++) {
      const at = ifd + 2 + i * 12;
      const type = data.readUInt16LE(at + 2);
      const n = data.readUInt32LE(at + 4);
      const size = type === 3 ? 2 : 4;
      // Of several values, the first; longer lists sit at the offset the entry gives.
      const valueAt = n * size <= 4 ? at + 8 : data.readUInt32LE(at + 8);
      tags[data.readUInt16LE(at)] = type === 3 ? data.readUInt16LE(valueAt) : data.readUInt32LE(valueAt);
    }
    if (tags[259] !== 1) throw new Error('tiffcp left the image compressed');
    const offset = tags[273];
    return {
      width: tags[256],
      height: tags[257],
      bitsPerSample: tags[258],
      samplesPerPixel: tags[277] ?? 1,
      sampleFormat: tags[339] ?? 1,
      photometric: tags[262],
      pixels: Buffer.from(data.subarray(offset, offset + tags[279])),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
