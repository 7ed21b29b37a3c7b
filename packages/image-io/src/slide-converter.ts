import type Sharp from 'sharp';
import { ConversionLimits } from './conversion-limits';
import { reject } from './rejection';
import { tiffImageDescription } from './tiff-description';

/** Side of the square tiles of every level. */
export const TILE_SIZE = 256;

export interface ConvertedSlide {
  readonly content: Buffer;
  readonly metadata: Record<string, unknown>;
}

/**
 * Turns a TIFF or whole-slide image that libvips reads (plain or BigTIFF, tiled or striped,
 * Aperio SVS) into a tiled pyramidal BigTIFF: 256 px tiles, JPEG for 8-bit grey or RGB, deflate
 * otherwise, each level half the one above, the pixel size recorded as its resolution. The first
 * page is the full-resolution image (SVS keeps its own pyramid and label images after it).
 */
export async function convertSlide(
  file: Buffer,
  limits: ConversionLimits,
  sharp: typeof Sharp,
): Promise<ConvertedSlide> {
  const maxPixels = Math.floor(limits.maxImageBytes / 3);
  const input = () =>
    sharp(file, { failOn: 'error', limitInputPixels: maxPixels, page: 0, sequentialRead: true });
  let info: Sharp.Metadata;
  try {
    info = await input().metadata();
  } catch (err) {
    reject(`the TIFF cannot be read: ${(err as Error).message}`);
  }
  if (!info.width || !info.height) reject('the TIFF has no size');
  const channels = info.channels ?? 1;
  const eightBit = info.depth === 'uchar';
  const jpeg = eightBit && (channels === 1 || channels === 3);

  const micronsPerPixel = micronsFromDescription(tiffImageDescription(file)) ?? micronsFromDensity(info);
  let content: Buffer;
  try {
    content = await input()
      .tiff({
        tile: true,
        tileWidth: TILE_SIZE,
        tileHeight: TILE_SIZE,
        pyramid: true,
        bigtiff: true,
        compression: jpeg ? 'jpeg' : 'deflate',
        quality: 90,
        ...(micronsPerPixel && {
          xres: 1000 / micronsPerPixel,
          yres: 1000 / micronsPerPixel,
          resolutionUnit: 'cm',
        }),
      })
      .toBuffer();
  } catch (err) {
    reject(`the TIFF is damaged: ${(err as Error).message}`);
  }
  return {
    content,
    metadata: {
      width: info.width,
      height: info.height,
      channels,
      tileSize: TILE_SIZE,
      compression: jpeg ? 'jpeg' : 'deflate',
      levels: pyramidLevels(info.width, info.height),
      ...(micronsPerPixel && { micronsPerPixel }),
    },
  };
}

/** Aperio writes `|MPP = 0.2520|` into the description. */
function micronsFromDescription(description: string | undefined): number | undefined {
  const mpp = Number(description?.match(/\|\s*MPP\s*=\s*([0-9.]+)/i)?.[1]);
  return Number.isFinite(mpp) && mpp > 0 ? mpp : undefined;
}

/**
 * A resolution the file states itself (sharp reports it as pixels per inch whatever the file's
 * unit); without a resolution unit the density is libvips' default, not the scanner's.
 */
function micronsFromDensity(info: Sharp.Metadata): number | undefined {
  if (!info.density || !info.resolutionUnit) return undefined;
  return 25_400 / info.density;
}

/** Levels libvips writes: halving (rounding down) until a level fits in one tile. */
function pyramidLevels(width: number, height: number): number {
  let levels = 1;
  for (let w = width, h = height; w > TILE_SIZE || h > TILE_SIZE; levels++) {
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
  }
  return levels;
}
