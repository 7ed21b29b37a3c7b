import type Sharp from 'sharp';
import type { TiffOptions } from 'sharp';
import { ConversionLimits } from './conversion-limits';
import { SAMPLE_TYPES, SampleType, writeLosslessPyramid } from './lossless-pyramid-tiff';
import { reject } from './rejection';
import { slidePixelSize } from './slide-pixel-size';
import { readTiffTags, TiffTags } from './tiff-tags';

/** Side of the square tiles of every level. */
export const TILE_SIZE = 256;

/** JPEG quality of photographic slides' tiles. */
export const SLIDE_JPEG_QUALITY = 90;

/** libvips' options for a photographic slide's pyramid: BigTIFF, JPEG tiles, the resolution when known. */
export function jpegPyramidOptions(micronsPerPixel: number | undefined): TiffOptions {
  return {
    tile: true,
    tileWidth: TILE_SIZE,
    tileHeight: TILE_SIZE,
    pyramid: true,
    bigtiff: true,
    compression: 'jpeg',
    quality: SLIDE_JPEG_QUALITY,
    ...(micronsPerPixel && {
      xres: 1000 / micronsPerPixel,
      yres: 1000 / micronsPerPixel,
      resolutionUnit: 'cm' as const,
    }),
  };
}

export interface ConvertedSlide {
  readonly content: Buffer;
  readonly metadata: Record<string, unknown>;
}

/** PhotometricInterpretation values a slide may have, as panimg takes them: grey, RGB, YCbCr. */
const PHOTOMETRIC: Record<number, string> = {
  0: 'MinIsWhite',
  1: 'MinIsBlack',
  2: 'RGB',
  3: 'Palette',
  4: 'Mask',
  5: 'Separated (CMYK)',
  6: 'YCbCr',
  8: 'CIELab',
};
const ACCEPTED_PHOTOMETRIC = new Set([1, 2, 6]);

/** libvips' names of sample formats, for those a lossless slide keeps. */
const SAMPLE_TYPE_OF_DEPTH: Record<string, SampleType> = {
  uchar: 'uint8',
  char: 'int8',
  ushort: 'uint16',
  uint: 'uint32',
  int: 'int32',
  float: 'float32',
  double: 'float64',
};

/**
 * Turns a TIFF or whole-slide image that libvips reads (plain or BigTIFF, tiled or striped,
 * Aperio SVS) into a tiled pyramidal BigTIFF of 256 px tiles, each level half the one above, the
 * pixel size recorded as its resolution. The first page is the full-resolution image (SVS keeps
 * its own pyramid and label images after it).
 *
 * Photographic slides (8-bit RGB or YCbCr, or 8-bit grey already stored as JPEG) become JPEG
 * tiles, which the metadata says are lossy; everything else (label masks, 16- and 32-bit,
 * float, extra channels) keeps its sample type, channels and values in deflate tiles.
 */
export async function convertSlide(
  file: Buffer,
  limits: ConversionLimits,
  sharp: typeof Sharp,
): Promise<ConvertedSlide> {
  const tags = readTiffTags(file);
  if (!tags) reject('the file is not a TIFF: it does not start with a TIFF header');
  const photometric = tags.photometric;
  if (photometric === undefined) reject('the TIFF has no PhotometricInterpretation');
  if (!ACCEPTED_PHOTOMETRIC.has(photometric))
    reject(
      `the TIFF's PhotometricInterpretation is ${PHOTOMETRIC[photometric] ?? 'unknown'} (${photometric}); slides are converted from grey (MinIsBlack), RGB or YCbCr`,
    );
  // libvips widens 1-, 2- and 4-bit samples to 8 bits (0 and 255 for 1 bit): other values.
  if (![8, 16, 32, 64].includes(tags.bitsPerSample ?? 1))
    reject(
      `the TIFF's samples are ${describeSamples(tags)}; slides are converted from 8-, 16-, 32- or 64-bit samples`,
    );
  const micronsPerPixel = slidePixelSize(tags);

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
  const { width, height } = info;
  const channels = info.channels ?? 1;
  const common = { width, height, channels, tileSize: TILE_SIZE, micronsPerPixel };

  if (isPhotographic(tags, info)) {
    let content: Buffer;
    try {
      let pipeline = input();
      // sharp widens grey to sRGB unless told to keep it.
      if (channels === 1) pipeline = pipeline.toColourspace('b-w');
      content = await pipeline.tiff(jpegPyramidOptions(micronsPerPixel)).toBuffer();
    } catch (err) {
      reject(`the TIFF is damaged: ${(err as Error).message}`);
    }
    return {
      content,
      metadata: {
        ...common,
        sampleType: 'uint8',
        compression: 'jpeg',
        lossy: true,
        jpegQuality: SLIDE_JPEG_QUALITY,
        levels: pyramidLevels(width, height),
      },
    };
  }

  const sampleType = SAMPLE_TYPE_OF_DEPTH[info.depth ?? ''];
  if (!sampleType || (info.depth === 'ushort' && tags.sampleFormat === 2))
    reject(
      `the TIFF's samples are ${describeSamples(tags)}; slides are converted from unsigned 8-, 16- or 32-bit, signed 8- or 32-bit, or floating-point samples`,
    );
  if (channels > limits.maxComponents)
    reject(`the TIFF has ${channels} samples per pixel, more than the limit of ${limits.maxComponents}`);
  const bytes = width * height * channels * SAMPLE_TYPES[sampleType].bytes;
  if (bytes > limits.maxImageBytes)
    reject(`the TIFF's pixels take ${bytes} bytes, more than the limit of ${limits.maxImageBytes}`);
  let pixels: Buffer;
  try {
    pixels = await rawSamples(input, info, channels);
  } catch (err) {
    reject(`the TIFF is damaged: ${(err as Error).message}`);
  }
  // Anything but every sample once, in its own type, would be a changed image.
  if (pixels.length !== bytes) reject(`the TIFF's ${describeSamples(tags)} samples cannot be read unchanged`);
  const content = await writeLosslessPyramid({
    width,
    height,
    samplesPerPixel: channels,
    sampleType,
    photometric: info.space === 'srgb' || info.space === 'rgb16' ? 2 : 1,
    pixels,
    micronsPerPixel,
    tileSize: TILE_SIZE,
  });
  return {
    content,
    metadata: {
      ...common,
      sampleType,
      compression: 'deflate',
      lossy: false,
      levels: pyramidLevels(width, height),
    },
  };
}

/**
 * 8-bit RGB or YCbCr, or 8-bit grey that its scanner already stored as JPEG: pictures of tissue,
 * which JPEG tiles serve as they are served everywhere. Grey stored losslessly may be a mask.
 */
function isPhotographic(tags: TiffTags, info: Sharp.Metadata): boolean {
  if (info.depth !== 'uchar' || (tags.sampleFormat ?? 1) !== 1) return false;
  if (info.channels === 3) return tags.photometric === 2 || tags.photometric === 6;
  return info.channels === 1 && tags.photometric === 1 && (tags.compression === 6 || tags.compression === 7);
}

/**
 * Every sample in its own type: sharp turns grey into sRGB and keeps only the first band of a grey
 * image's raw output, so grey images are read band by band in their own colour space.
 */
async function rawSamples(input: () => Sharp.Sharp, info: Sharp.Metadata, channels: number): Promise<Buffer> {
  const space = info.space as keyof Sharp.ColourspaceEnum;
  const depth = info.depth as NonNullable<Sharp.RawOptions['depth']>;
  if (space !== 'b-w' && space !== 'grey16') return input().toColourspace(space).raw({ depth }).toBuffer();
  const bands: Buffer[] = [];
  for (let c = 0; c < channels; c++) {
    let pipeline = input().toColourspace(space);
    if (channels > 1) pipeline = pipeline.extractChannel(c as 0 | 1 | 2 | 3).toColourspace(space);
    bands.push(await pipeline.raw({ depth }).toBuffer());
  }
  if (channels === 1) return bands[0];
  const sampleBytes = bands[0].length / (info.width! * info.height!);
  const out = Buffer.alloc(bands[0].length * channels);
  for (let p = 0, pixels = info.width! * info.height!; p < pixels; p++)
    for (let c = 0; c < channels; c++)
      bands[c].copy(out, (p * channels + c) * sampleBytes, p * sampleBytes, (p + 1) * sampleBytes);
  return out;
}

function describeSamples(tags: TiffTags): string {
  const kind =
    { 1: 'unsigned', 2: 'signed', 3: 'floating-point' }[tags.sampleFormat ?? 1] ??
    `format ${tags.sampleFormat}`;
  return `${kind} ${tags.bitsPerSample ?? '?'}-bit`;
}

/** Levels of the pyramid: halving (rounding down) until a level fits in one tile. */
function pyramidLevels(width: number, height: number): number {
  let levels = 1;
  for (let w = width, h = height; w > TILE_SIZE || h > TILE_SIZE; levels++) {
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
  }
  return levels;
}
