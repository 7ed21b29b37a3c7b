import type Sharp from 'sharp';
import { ConversionLimits } from './conversion-limits';
import type { InputFile } from './convert-image-files';
import { checkTransferSyntax, decodeFrame, isEncapsulated } from './dicom-frame-decoder';
import type { DicomFileHeader } from './dicom-file-header';
import { FUNCTIONAL_GROUP, frameAttributes } from './dicom-functional-groups';
import { ByteRange, frameRanges } from './dicom-pixel-data';
import { reject } from './rejection';
import { ConvertedSlide, jpegPyramidOptions, TILE_SIZE } from './slide-converter';

/** VL Whole Slide Microscopy Image Storage: tiles of a slide, placed on the slide, not in the patient. */
export const WHOLE_SLIDE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.77.1.6';

const RLE = '1.2.840.10008.1.2.5';

/** One file of a DICOM whole-slide image: one level of its pyramid, or a label, overview or thumbnail. */
export interface WholeSlideFile {
  readonly input: InputFile;
  readonly seriesUid: string;
  /** VOLUME for the levels of the pyramid; LABEL, OVERVIEW or THUMBNAIL otherwise (ImageType). */
  readonly flavor: string;
  /** TotalPixelMatrixColumns and TotalPixelMatrixRows. */
  readonly width: number;
  readonly height: number;
  readonly tileColumns: number;
  readonly tileRows: number;
  readonly samples: 1 | 3;
  readonly transferSyntax: string;
  /** Where each tile of the first focal plane and optical path lies, and its bytes in the file. */
  readonly tiles: readonly { readonly x: number; readonly y: number; readonly bytes: readonly ByteRange[] }[];
  readonly micronsPerPixel?: number;
}

export function isWholeSlide(header: DicomFileHeader): boolean {
  return (header.data.string('x00080016') ?? header.data.string('x00020002')) === WHOLE_SLIDE_SOP_CLASS;
}

/**
 * Reads one whole-slide file's header: its size, its tiles (TILED_FULL, in row-major order, or
 * placed one by one in their per-frame functional groups) and its pixel spacing. 8-bit grey or
 * colour tiles, native or compressed as DICOM series are, are converted.
 */
export function readWholeSlideFile(
  input: InputFile,
  header: DicomFileHeader,
  limits: ConversionLimits,
): WholeSlideFile {
  const { data, pixelData, fileBytes } = header;
  const transferSyntax = data.string('x00020010') ?? '1.2.840.10008.1.2';
  checkTransferSyntax(transferSyntax);
  if (!pixelData) reject('the DICOM whole-slide file has no pixel data');
  const seriesUid = data.string('x0020000e');
  if (!seriesUid) reject('the DICOM whole-slide file has no SeriesInstanceUID');
  const width = data.uint32('x00480006') ?? 0;
  const height = data.uint32('x00480007') ?? 0;
  const tileRows = data.uint16('x00280010') ?? 0;
  const tileColumns = data.uint16('x00280011') ?? 0;
  if (width < 1 || height < 1 || tileRows < 1 || tileColumns < 1) {
    reject('a DICOM whole-slide file needs TotalPixelMatrixColumns and Rows and a tile size (Columns, Rows)');
  }
  const samples = data.uint16('x00280002') ?? 1;
  if (data.uint16('x00280100') !== 8 || (samples !== 1 && samples !== 3)) {
    reject('DICOM whole-slide tiles of 8-bit grey or colour are converted');
  }
  const photometric = data.string('x00280004') ?? '';
  const decoderMakesRgb = isEncapsulated(transferSyntax) && transferSyntax !== RLE;
  if (!decoderMakesRgb && !['RGB', 'MONOCHROME2'].includes(photometric)) {
    reject(
      `DICOM whole-slide tiles in ${photometric || 'no'} photometric interpretation, stored so, are not converted`,
    );
  }
  const frames = data.intString('x00280008') ?? 1;
  if (!Number.isInteger(frames) || frames < 1 || frames > limits.maxAxisLength ** 2) {
    reject(`NumberOfFrames ${frames} is not valid`);
  }
  const ranges = frameRanges(
    fileBytes,
    pixelData,
    isEncapsulated(transferSyntax),
    frames,
    tileRows * tileColumns * samples,
  );
  const across = Math.ceil(width / tileColumns);
  const down = Math.ceil(height / tileRows);
  const sparse = data.string('x00209311') === 'TILED_SPARSE';
  const attributes = frameAttributes(data, frames);
  let tiles: WholeSlideFile['tiles'];
  if (sparse) {
    // Each frame's place in the total pixel matrix (1-based); only the first focal plane and path.
    tiles = ranges.flatMap((bytes, frame) => {
      const place = attributes[frame]('x0048021a');
      const x = (place.int32('x0048021e') ?? NaN) - 1;
      const y = (place.int32('x0048021f') ?? NaN) - 1;
      if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
        reject(
          `frame ${frame + 1} of a TILED_SPARSE whole-slide file has no place in its total pixel matrix`,
        );
      }
      return [{ x, y, bytes }];
    });
  } else {
    if (frames < across * down) {
      reject(`a TILED_FULL whole-slide file of ${across} x ${down} tiles has ${frames} frames`);
    }
    tiles = ranges
      .slice(0, across * down)
      .map((bytes, i) => ({ x: (i % across) * tileColumns, y: Math.floor(i / across) * tileRows, bytes }));
  }
  const spacing = attributes[0](FUNCTIONAL_GROUP.pixelMeasures).floatString('x00280030', 0);
  return {
    input,
    seriesUid,
    flavor: data.string('x00080008', 2) ?? 'VOLUME',
    width,
    height,
    tileColumns,
    tileRows,
    samples: samples as 1 | 3,
    transferSyntax,
    tiles,
    ...(spacing !== undefined &&
      Number.isFinite(spacing) &&
      spacing > 0 && { micronsPerPixel: spacing * 1000 }),
  };
}

/**
 * Turns the files of one DICOM whole-slide image into the tiled pyramidal BigTIFF the slide
 * converter writes (256 px tiles, JPEG, each level half the one above, the pixel size as its
 * resolution), from its full-resolution level: the largest VOLUME file. Its tiles are decoded into
 * the whole image, within the image size limit, and written again by libvips. Areas no tile
 * covers (a sparse slide) are white, as a slide's background is.
 */
export async function convertWholeSlide(
  files: readonly WholeSlideFile[],
  limits: ConversionLimits,
  sharp: typeof Sharp,
): Promise<ConvertedSlide> {
  const volumes = files.filter((f) => f.flavor === 'VOLUME');
  if (volumes.length === 0)
    reject('the DICOM whole-slide image has no VOLUME level, only labels and overviews');
  const level = volumes.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const { width, height, samples, tileColumns, tileRows } = level;
  if (width * height * samples > limits.maxImageBytes) {
    reject(
      `the DICOM whole slide is ${width} x ${height} pixels, more than the image size limit of ${limits.maxImageBytes} bytes`,
    );
  }
  const image = Buffer.alloc(width * height * samples, 255);
  const format = { rows: tileRows, columns: tileColumns, samples, bitsAllocated: 8 as const };
  const readRange = (range: ByteRange) =>
    level.input.readRange
      ? level.input.readRange(range)
      : level.input.load().subarray(range.offset, range.offset + range.length);
  for (const tile of level.tiles) {
    const stored = Buffer.concat(tile.bytes.map(readRange));
    const pixels = isEncapsulated(level.transferSyntax)
      ? await decodeFrame(level.transferSyntax, stored, format)
      : stored;
    if (pixels.length < tileColumns * tileRows * samples) reject('a whole-slide tile is truncated');
    // Tiles at the right and bottom edges reach past the image: only what lies inside is kept.
    const across = Math.min(tileColumns, width - tile.x);
    for (let row = 0; row < tileRows && tile.y + row < height; row++) {
      const from = row * tileColumns * samples;
      pixels.copy(image, ((tile.y + row) * width + tile.x) * samples, from, from + across * samples);
    }
  }
  const microns = level.micronsPerPixel;
  let content: Buffer;
  try {
    content = await sharp(image, { raw: { width, height, channels: samples } })
      .tiff(jpegPyramidOptions(microns))
      .toBuffer();
  } catch (err) {
    reject(`the whole slide cannot be written: ${(err as Error).message}`);
  }
  let levels = 1;
  for (let w = width, h = height; w > TILE_SIZE || h > TILE_SIZE; levels++) {
    [w, h] = [Math.floor(w / 2), Math.floor(h / 2)];
  }
  return {
    content,
    metadata: {
      width,
      height,
      channels: samples,
      tileSize: TILE_SIZE,
      compression: 'jpeg',
      levels,
      ...(microns && { micronsPerPixel: microns }),
    },
  };
}
