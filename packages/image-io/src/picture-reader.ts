import type Sharp from 'sharp';
import { ConversionLimits } from './conversion-limits';
import { reject, thrownText } from './rejection';
import { Volume } from './volume';
import { expectedDataBytes } from './volume-checks';

/**
 * Reads a 2D PNG or JPEG through libvips (sharp): 8- or 16-bit, grey, grey with alpha, RGB or
 * RGBA. Pixels are kept as stored, without EXIF rotation, 1 mm apart. A damaged file is refused,
 * not guessed at.
 */
export async function readPicture(file: Buffer, limits: ConversionLimits): Promise<Volume> {
  const sharp = loadSharp();
  const decoder = () =>
    sharp(file, { failOn: 'warning', limitInputPixels: limits.maxAxisLength ** 2, sequentialRead: true });
  let info;
  try {
    info = await decoder().metadata();
  } catch (err) {
    reject(`the picture cannot be read: ${thrownText(err)}`);
  }
  if (!info.width || !info.height) reject('the picture has no size');
  if ((info.pages ?? 1) > 1) reject(`the file holds ${info.pages} pages; one picture per file is supported`);
  const sixteen = info.depth === 'ushort';
  const components = info.channels ?? 1;
  const size = [info.width, info.height];
  expectedDataBytes(size, sixteen ? 'uint16' : 'uint8', components, limits);
  let pixels: Buffer;
  try {
    // Keep the file's own colour space: sharp would otherwise widen grey to sRGB.
    const space = components <= 2 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    pixels = await decoder()
      .toColourspace(space)
      .raw(sixteen ? { depth: 'ushort' } : {})
      .toBuffer();
  } catch (err) {
    reject(`the picture is damaged: ${thrownText(err)}`);
  }
  return {
    size,
    // Print densities (often a default 72 dpi) say nothing of the anatomy: 1 mm, as ITK reads them.
    spacing: [1, 1],
    origin: [0, 0],
    axes: [
      [1, 0],
      [0, 1],
    ],
    componentType: sixteen ? 'uint16' : 'uint8',
    components,
    data: pixels,
    metadata: {},
  };
}

/** Why a picture or slide is refused where libvips is missing; the converter function sends such sets on. */
export const LIBVIPS_MISSING =
  'PNG, JPEG, TIFF and slides are converted by the converter container (libvips), which this converter lacks';

/**
 * libvips is a native library: the converter's container image and local mode have it, the
 * converter's Lambda bundle does not, so there such files are refused with that reason.
 */
export function loadSharp(): typeof Sharp {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('sharp') as typeof Sharp;
  } catch {
    reject(LIBVIPS_MISSING);
  }
}
