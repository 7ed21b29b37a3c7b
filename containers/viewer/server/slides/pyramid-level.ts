import { SampleLayout } from './lossless-tile';
import { SlideError } from './slide-error';
import { SlideLevel } from './slide-tile-source';
import { TAG, TiffDirectory, TiffLayout } from './tiff-directory';

/** TIFF's code for JPEG tiles, which go to the browser as stored. */
export const JPEG = 7;
/** Compressions by TIFF's codes, to name those the viewer does not show. */
const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none',
  5: 'LZW',
  6: 'old-style JPEG',
  7: 'JPEG',
  8: 'deflate',
  32773: 'PackBits',
  32946: 'deflate',
  33003: 'Aperio JPEG 2000',
  33005: 'Aperio JPEG 2000',
  34712: 'JPEG 2000',
  50000: 'Zstandard',
  50001: 'WebP',
};
/** JPEG, and what the browser gets as PNG: uncompressed and deflate. */
const SHOWN_COMPRESSIONS = new Set([1, JPEG, 8, 32946]);

/** A level of the pyramid as the file stores it: where its tiles are and how they are encoded. */
export interface StoredLevel extends SlideLevel {
  readonly compression: number;
  readonly offsets: readonly number[];
  readonly counts: readonly number[];
  readonly jpegTables?: Buffer;
  /** Photometric RGB (2): JPEG tiles that do not say so are marked RGB. */
  readonly rgb: boolean;
  readonly samples: SampleLayout;
}

/**
 * A directory as a level of the pyramid, checked; undefined when it is not the next level (not
 * tiled, another tile size, not half the level above), which ends the pyramid.
 */
export function storedLevel(
  directory: TiffDirectory,
  layout: TiffLayout,
  top: StoredLevel | undefined,
  above: StoredLevel | undefined,
): StoredLevel | undefined {
  const which = top ? 'a level' : 'the full-resolution level';
  const one = (tag: number) => directory.numbers.get(tag)?.[0];
  const width = one(TAG.width);
  const height = one(TAG.height);
  if (!width || !height) throw new SlideError(`the slide is damaged: ${which} states no size`, 502);
  const tileWidth = one(TAG.tileWidth);
  const tileHeight = one(TAG.tileHeight);
  if (!top && (!tileWidth || !tileHeight))
    throw new SlideError(
      'the slide is not tiled: the viewer shows the tiled pyramids the converter writes',
      415,
    );
  if (!tileWidth || !tileHeight) return undefined;
  if (!top && tileWidth !== tileHeight)
    throw new SlideError(
      `the slide's tiles are ${tileWidth} x ${tileHeight} pixels; the viewer shows square tiles`,
      415,
    );
  if (top && tileWidth !== top.samples.tileSize) return undefined;
  if (above && !(isHalf(width, above.width) && isHalf(height, above.height))) return undefined;
  const tileSize = tileWidth;

  const compression = one(TAG.compression) ?? 1;
  if (!SHOWN_COMPRESSIONS.has(compression))
    throw new SlideError(
      `the slide's tiles are compressed with ${COMPRESSION_NAMES[compression] ?? 'an unknown compression'} (${compression}); the viewer shows JPEG, deflate and uncompressed tiles`,
      415,
    );
  const samplesPerPixel = one(TAG.samplesPerPixel) ?? 1;
  const bits = directory.numbers.get(TAG.bitsPerSample) ?? [1];
  const format = one(TAG.sampleFormat) ?? 1;
  const photometric = one(TAG.photometric);
  const describe = `${samplesPerPixel} samples of ${bits.join('/')} bits, format ${format}, photometric ${photometric}`;
  const unsupported = (why: string) => new SlideError(`the slide's pixels are ${describe}: ${why}`, 415);
  if (bits.some((b) => b !== bits[0]) || ![8, 16, 32, 64].includes(bits[0]))
    throw unsupported('the viewer shows samples of 8, 16, 32 or 64 bits, all alike');
  if (![1, 2, 3].includes(format) || (format === 3 && bits[0] < 32))
    throw unsupported('the viewer shows integer and 32- or 64-bit floating-point samples');
  if (samplesPerPixel > 1 && (one(TAG.planarConfiguration) ?? 1) !== 1)
    throw unsupported('the viewer shows samples interleaved (PlanarConfiguration 1)');
  if (compression === JPEG) {
    if (bits[0] !== 8 || ![1, 2, 6].includes(photometric ?? -1))
      throw unsupported('JPEG tiles are shown for 8-bit grey, RGB or YCbCr');
  } else {
    if (photometric !== 1 && !(photometric === 2 && samplesPerPixel >= 3))
      throw unsupported('lossless tiles are shown for grey (MinIsBlack) and RGB');
    if ((one(TAG.predictor) ?? 1) !== 1)
      throw unsupported('the viewer shows lossless tiles stored without a predictor');
  }

  const tilesAcross = Math.ceil(width / tileSize);
  const tilesDown = Math.ceil(height / tileSize);
  const offsets = directory.numbers.get(TAG.tileOffsets) ?? [];
  const counts = directory.numbers.get(TAG.tileByteCounts) ?? [];
  if (offsets.length !== tilesAcross * tilesDown || counts.length !== offsets.length)
    throw new SlideError(
      `the slide is damaged: ${which} of ${width} x ${height} pixels in ${tileSize} px tiles lists ${offsets.length} tile offsets and ${counts.length} byte counts, not ${tilesAcross * tilesDown}`,
      502,
    );
  return {
    width,
    height,
    tilesAcross,
    tilesDown,
    compression,
    offsets,
    counts,
    jpegTables: directory.bytes.get(TAG.jpegTables),
    rgb: photometric === 2,
    samples: {
      tileSize,
      samplesPerPixel,
      bytes: bits[0] / 8,
      format,
      little: layout.little,
      rgb: photometric === 2,
    },
  };
}

/** Whether a level's side is half of the one above, rounded either way. */
function isHalf(side: number, above: number): boolean {
  return side === Math.floor(above / 2) || side === Math.ceil(above / 2);
}

/** Microns per pixel from the full-resolution level's resolution, per inch (TIFF's default) or centimetre. */
export function pixelSize(directory: TiffDirectory): number | undefined {
  const x = directory.numbers.get(TAG.xResolution)?.[0];
  const unit = directory.numbers.get(TAG.resolutionUnit)?.[0] ?? 2;
  if (!x || !Number.isFinite(x) || x <= 0 || (unit !== 2 && unit !== 3)) return undefined;
  return (unit === 2 ? 25_400 : 10_000) / x;
}
