import { convertImageFiles } from '@imaging-platform/image-io';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { stripedTiff } from '../../packages/image-io/test/helpers/tiff-files';

/**
 * Slides made by the platform's own converter, as uploads become slides: a photographic RGB slide
 * (JPEG tiles) and lossless grey ones (deflate tiles), from pixels whose values the tests know.
 */

/** Microns per pixel of every fixture: 20,000 pixels per centimetre. */
export const MICRONS_PER_PIXEL = 0.5;

/** Side of the flat colour blocks of the photographic slide: not a multiple of 8 or 256. */
export const BLOCK = 100;

/** The colour of the photographic slide at (x, y): flat blocks, each a colour of its own. */
export function blockColour(x: number, y: number): [number, number, number] {
  const bx = Math.floor(x / BLOCK);
  const by = Math.floor(y / BLOCK);
  return [30 + 13 * bx, 30 + 20 * by, 220 - 9 * bx - 6 * by];
}

/** A photographic slide of `width` x `height` flat colour blocks. */
export async function photographicSlide(width = 1500, height = 1000): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set(blockColour(x, y), (y * width + x) * 3);
  const input = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .tiff({ xres: 1000 / MICRONS_PER_PIXEL, yres: 1000 / MICRONS_PER_PIXEL, resolutionUnit: 'cm' })
    .toBuffer();
  return converted('photo.tif', input, 'jpeg');
}

/** The 16-bit grey slide's value at (x, y): a ramp that does not fill the 16 bits, as 12-bit data. */
export function grey16Value(x: number, y: number): number {
  return 500 + ((x * 7 + y * 3) % 3000);
}

/** The 8-bit grey slide's value at (x, y). */
export function grey8Value(x: number, y: number): number {
  return (x * 3 + y * 5) % 256;
}

/** The 16-bit RGB slide's channel `c` at (x, y). */
export function rgb16Value(x: number, y: number, c: number): number {
  return (x * 97 + y * 31 + c * 20_000) % 65_536;
}

/** A lossless 16-bit RGB slide. */
export async function rgb16Slide(width = 600, height = 300): Promise<Buffer> {
  const values = new Uint16Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) values[(y * width + x) * 3 + c] = rgb16Value(x, y, c);
  const input = stripedTiff({
    width,
    height,
    pixels: Buffer.from(values.buffer),
    samplesPerPixel: 3,
    photometric: 2,
    bitsPerSample: 16,
    resolution: { perUnit: 10_000 / MICRONS_PER_PIXEL, unit: 3 },
  });
  return converted('rgb16.tif', input, 'deflate');
}

/** A lossless grey slide, 8- or 16-bit. */
export async function greySlide(bits: 8 | 16, width = 700, height = 530): Promise<Buffer> {
  const values = bits === 8 ? new Uint8Array(width * height) : new Uint16Array(width * height);
  const value = bits === 8 ? grey8Value : grey16Value;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) values[y * width + x] = value(x, y);
  // Written byte by byte, as image-io's tests write theirs: libvips writes 16-bit grey as 8-bit.
  const input = stripedTiff({
    width,
    height,
    pixels: Buffer.from(values.buffer),
    samplesPerPixel: 1,
    photometric: 1,
    bitsPerSample: bits,
    resolution: { perUnit: 10_000 / MICRONS_PER_PIXEL, unit: 3 },
  });
  return converted(`grey${bits}.tif`, input, 'deflate');
}

async function converted(name: string, input: Buffer, compression: 'jpeg' | 'deflate'): Promise<Buffer> {
  const result = await convertImageFiles([{ name, load: () => input }]);
  if (result.rejected.length) throw new Error(`the converter refused ${name}: ${result.rejected[0].reason}`);
  const [slide] = result.images;
  if (slide.metadata.compression !== compression)
    throw new Error(`the converter wrote ${name} with ${String(slide.metadata.compression)} tiles`);
  return slide.content;
}

/** One directory as libtiff's `tiffdump` lists it: every value of every tag, by tag number. */
export type DumpedDirectory = Map<number, number[]>;

/** The directories of a TIFF as `tiffdump` reads them: the independent reader of these tests. */
export function tiffDump(file: string): DumpedDirectory[] {
  const text = execFileSync('tiffdump', ['-m', '10000000', file], { encoding: 'latin1', maxBuffer: 1 << 28 });
  const directories: DumpedDirectory[] = [];
  for (const line of text.split('\n')) {
    if (/^Directory \d+:/.test(line)) directories.push(new Map());
    const entry = /^\S+ \((\d+)\) \S+ \(\d+\) \d+<(.*)>$/.exec(line.trim());
    if (entry && directories.length)
      directories.at(-1)!.set(
        Number(entry[1]),
        entry[2]
          .trim()
          .split(/\s+/)
          .map((v) => (v.startsWith('0x') ? parseInt(v, 16) : Number(v))),
      );
  }
  return directories;
}

/** Rewrites a TIFF with libtiff's `tiffcp` (each directory kept, 256 px tiles) with its options. */
export function tiffcp(dir: string, input: Buffer, name: string, options: string[]): Buffer {
  const from = path.join(dir, `${name}-in.tif`);
  const to = path.join(dir, `${name}.tif`);
  fs.writeFileSync(from, input);
  execFileSync('tiffcp', [...options, '-t', '-w', '256', '-l', '256', from, to]);
  return fs.readFileSync(to);
}
