import * as dicomParser from 'dicom-parser';
import { ConversionLimits } from './conversion-limits';
import { transferSyntaxOf } from './dicom-dataset';
import { DicomFileHeader, readDicomFileHeader } from './dicom-file-header';
import { checkTransferSyntax, isEncapsulated } from './dicom-frame-decoder';
import { FUNCTIONAL_GROUP, frameAttributes, hasFunctionalGroups } from './dicom-functional-groups';
import { reject } from './rejection';
import type { InputFile } from './convert-image-files';
import { ByteRange, frameRanges } from './dicom-pixel-data';
import type { ReusedBuffer } from './disk-file';

export { isDicom } from './dicom-dataset';

const RLE = '1.2.840.10008.1.2.5';
const DICOMDIR = '1.2.840.10008.1.3.10';

/**
 * One image slice of a DICOM file (the file itself, or one frame of a multi-frame file), with
 * what grouping, ordering and conversion need. Pixels are not held: they are read from the file
 * again when the slice is written into its volume, so an upload set is never in memory at once.
 */
export interface DicomSlice {
  readonly file: string;
  /** Loads the whole file again (into `reuse`'s buffer where given, as `InputFile.load`). */
  readonly load: (reuse?: ReusedBuffer) => Buffer;
  /** Reads one range of the file (as `InputFile.readRange`). */
  readonly readRange: (range: ByteRange, reuse?: ReusedBuffer) => Buffer;
  /** Index of the frame in its file; 0 for single-frame files. */
  readonly frame: number;
  /**
   * Where the frame's stored bytes lie in its file (in its inflated data set, for a deflated
   * one): one range, or the fragments of a compressed frame in order.
   */
  readonly pixels: readonly ByteRange[];
  /** Colour stored plane by plane (PlanarConfiguration 1), interleaved when read. */
  readonly planar: boolean;
  readonly transferSyntax: string;
  /** SOPInstanceUID: the same in two files means the same instance uploaded twice. */
  readonly instanceUid: string | undefined;
  readonly sopClass: string | undefined;
  /**
   * The instance this frame was converted from, where an enhanced file says so (its Conversion
   * Source Attributes functional group): a volume made of slices names each slice.
   */
  readonly sourceInstanceUid: string | undefined;
  readonly seriesUid: string;
  /**
   * StackID and FrameOfReferenceUID, where the file gives both at its top: the series of one stack,
   * one per time point as some scanners write them, become one 4D image.
   */
  readonly stack: string | undefined;
  readonly rows: number;
  readonly columns: number;
  /** Spacing between columns (x) and between rows (y), in mm. */
  readonly spacing: readonly [number, number];
  /** Directions of a row and of a column (ImageOrientationPatient). */
  readonly orientation: readonly number[];
  readonly position: readonly number[];
  readonly signed: boolean;
  readonly bitsAllocated: 8 | 16;
  /** Bits of each sample that hold its value, the lowest ones; the others are ignored. */
  readonly bitsStored: number;
  /** 1 for grey, 3 for RGB. */
  readonly samples: number;
  /** Grey where the lowest value is white (MONOCHROME1): inverted when its volume is written. */
  readonly monochrome1: boolean;
  /** YBR_FULL colour is stored as luma and chroma, turned into RGB when read. */
  readonly ybrFull: boolean;
  readonly slope: number;
  readonly intercept: number;
  /** ContentTime and Exposure, which a 4D image lists per time point, as panimg does. */
  readonly contentTime: string | undefined;
  readonly exposure: string | undefined;
  /** Non-identifying keys kept in the output header. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * No ImagePositionPatient nor ImageOrientationPatient (projection radiographs, secondary
   * captures, cine loops): the file is an image of its own at the origin, its frames 1 apart (a
   * cine loop's FrameTime apart), as GDCM reads it; never stacked with other files.
   */
  readonly placeless: boolean;
  /**
   * Orders the slices of one position in a 4D series: TemporalPositionIndex, else
   * TemporalPositionIdentifier, else instance or frame order.
   */
  readonly timeOrder: number;
}

/**
 * Reads the slices of one DICOM Part 10 file from its header: one for a single-frame file, one per
 * frame for a multi-frame file (geometry from its functional groups when enhanced, else stepped
 * along the slice normal by SpacingBetweenSlices; at the origin for a file with no place in the
 * patient). Refuses with the reason what it cannot convert (a transfer syntax by name, a pixel
 * format) or what is broken (truncated pixel data, missing geometry). Patient and study
 * identifiers are never read.
 */
export function readDicomSlices(
  input: InputFile,
  limits: ConversionLimits,
  reuse?: ReusedBuffer,
  header: DicomFileHeader = readDicomFileHeader(input, limits, reuse),
): DicomSlice[] {
  const { name: file, load } = input;
  const readRange = (range: ByteRange, into?: ReusedBuffer) =>
    input.readRange
      ? input.readRange(range, into)
      : input.load(into).subarray(range.offset, range.offset + range.length);
  const { data, pixelData, fileBytes } = header;
  const transferSyntax = transferSyntaxOf(data);
  checkTransferSyntax(transferSyntax);
  if (data.string('x00020002') === DICOMDIR) {
    reject('a DICOMDIR, the index of a DICOM medium, holds no image (the images are the files it lists)');
  }
  if (!pixelData) reject('the DICOM file has no pixel data');
  const frames = data.intString('x00280008') ?? 1;
  if (!Number.isInteger(frames) || frames < 1 || frames > limits.maxAxisLength) {
    reject(`NumberOfFrames ${frames} is not valid`);
  }
  const samples = data.uint16('x00280002') ?? 1;
  const bitsAllocated = data.uint16('x00280100');
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    reject(`${bitsAllocated ?? 'unknown'} bits allocated; 8- and 16-bit DICOM is converted`);
  }
  if (samples !== 1 && !(samples === 3 && bitsAllocated === 8)) {
    reject(`${samples} samples per pixel of ${bitsAllocated} bits; grey, and 8-bit RGB, are converted`);
  }
  const photometric = data.string('x00280004') ?? (samples === 3 ? 'RGB' : 'MONOCHROME2');
  // Values that are not grey levels or RGB as stored: colour the decoder does not turn into RGB
  // (JPEG, JPEG-LS and JPEG 2000 codecs undo their own colour transforms), and palette indexes.
  const decoderMakesRgb = isEncapsulated(transferSyntax) && transferSyntax !== RLE;
  if (samples === 3 && !decoderMakesRgb && photometric !== 'RGB' && photometric !== 'YBR_FULL') {
    reject(`colour in the ${photometric} photometric interpretation is not converted; RGB and YBR_FULL are`);
  }
  if (samples === 1 && !/^MONOCHROME[12]$/.test(photometric)) {
    reject(`${photometric} images are not converted; grey (MONOCHROME1/2) and colour are`);
  }
  const bitsStored = data.uint16('x00280101') ?? bitsAllocated;
  const highBit = data.uint16('x00280102') ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit !== bitsStored - 1) {
    reject(
      `${bitsStored} bits stored with high bit ${highBit} in ${bitsAllocated} allocated; values in the lowest bits are converted`,
    );
  }
  const rows = data.uint16('x00280010') ?? 0;
  const columns = data.uint16('x00280011') ?? 0;
  if (rows < 1 || columns < 1 || rows > limits.maxAxisLength || columns > limits.maxAxisLength) {
    reject(`image size ${columns} x ${rows} is not valid`);
  }
  const ranges = frameRanges(
    fileBytes,
    pixelData,
    isEncapsulated(transferSyntax),
    frames,
    rows * columns * samples * (bitsAllocated / 8),
  );
  const planar = samples === 3 && data.uint16('x00280006') === 1;
  const seriesUid = data.string('x0020000e');
  if (!seriesUid) reject('the DICOM file has no SeriesInstanceUID');

  const attributes = frameAttributes(data, frames);
  const enhanced = hasFunctionalGroups(data);
  const classicMultiFrame = frames > 1 && !enhanced;
  const numbers = (holder: dicomParser.DataSet, tag: string, count: number, what: string) => {
    const values = Array.from({ length: count }, (_, i) => holder.floatString(tag, i));
    if (values.some((v) => v === undefined || !Number.isFinite(v))) {
      reject(`the DICOM file has no valid ${what}${frames > 1 ? ' for every frame' : ''}`);
    }
    return values as number[];
  };
  // Nuclear medicine keeps the first frame's geometry in its Detector Information Sequence.
  const detector = data.elements.x00540022?.items?.[0]?.dataSet;
  const plane = classicMultiFrame && !data.elements.x00200032 && detector ? detector : undefined;
  // Projection radiographs, secondary captures and cine loops have no place in the patient.
  const placeless = !enhanced && !plane && !data.elements.x00200032 && !data.elements.x00200037;
  let step = placeless ? placelessFrameStep(data) : 0;
  if (classicMultiFrame && !placeless) {
    step = data.floatString('x00180088') ?? NaN;
    if (!Number.isFinite(step) || step <= 0) {
      reject(
        `a multi-frame file of ${frames} frames with neither per-frame positions nor SpacingBetweenSlices`,
      );
    }
  }
  return attributes.map((at, frame) => {
    const orientation = placeless
      ? [1, 0, 0, 0, 1, 0]
      : numbers(plane ?? at(FUNCTIONAL_GROUP.planeOrientation), 'x00200037', 6, 'ImageOrientationPatient');
    let position = placeless
      ? [0, 0, 0]
      : numbers(plane ?? at(FUNCTIONAL_GROUP.planePosition), 'x00200032', 3, 'ImagePositionPatient');
    if (classicMultiFrame) {
      const [r, c] = [orientation.slice(0, 3), orientation.slice(3, 6)];
      const normal = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
      position = position.map((v, i) => v + frame * step * normal[i]);
    }
    const measures = at(FUNCTIONAL_GROUP.pixelMeasures);
    const [rowSpacing, columnSpacing] = placeless
      ? placelessSpacing(data)
      : numbers(measures, 'x00280030', 2, 'PixelSpacing');
    const transformation = at(FUNCTIONAL_GROUP.pixelValueTransformation);
    const window = at(FUNCTIONAL_GROUP.frameVoiLut);
    const content = at(FUNCTIONAL_GROUP.frameContent);
    const conversionSource = at(FUNCTIONAL_GROUP.conversionSource);
    const kept: Record<string, string | undefined> = {
      Modality: data.string('x00080060'),
      WindowCenter: window.string('x00281050', 0),
      WindowWidth: window.string('x00281051', 0),
      SliceThickness: measures.string('x00180050'),
    };
    return {
      file,
      load,
      readRange,
      frame,
      pixels: ranges[frame],
      planar,
      transferSyntax,
      instanceUid: data.string('x00080018'),
      sopClass: data.string('x00080016'),
      contentTime: data.string('x00080033'),
      exposure: data.string('x00181152'),
      sourceInstanceUid: conversionSource === data ? undefined : conversionSource.string('x00081155'),
      seriesUid,
      stack: stackOf(data),
      timeOrder: enhanced
        ? (content.uint32('x00209128') ?? frame)
        : frames > 1
          ? frame
          : (topUint32(data, 'x00209128') ?? data.intString('x00200100') ?? data.intString('x00200013') ?? 0),
      placeless,
      rows,
      columns,
      spacing: [columnSpacing, rowSpacing],
      orientation,
      position,
      signed: (data.uint16('x00280103') ?? 0) === 1,
      bitsAllocated,
      bitsStored,
      samples,
      monochrome1: samples === 1 && photometric === 'MONOCHROME1',
      ybrFull: samples === 3 && photometric === 'YBR_FULL' && !decoderMakesRgb,
      slope: transformation.floatString('x00281053') ?? 1,
      intercept: transformation.floatString('x00281052') ?? 0,
      metadata: Object.fromEntries(
        Object.entries(kept).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
      ),
    };
  });
}

/**
 * The stack a file's own top level names, in its frame of reference (the study is not read); an
 * enhanced file's StackIDs are per frame and not read here.
 */
function stackOf(data: dicomParser.DataSet): string | undefined {
  const [stackId, frameOfReference] = [data.string('x00209056'), data.string('x00200052')];
  return stackId && frameOfReference ? `${frameOfReference}|${stackId}` : undefined;
}

/** An unsigned 32-bit value at the top level, where it holds one. */
function topUint32(data: dicomParser.DataSet, tag: string): number | undefined {
  return data.elements[tag]?.length === 4 ? data.uint32(tag) : undefined;
}

/**
 * How far apart the frames of an image with no place in the patient lie: a cine loop's
 * FrameTime, in ms, when its FrameIncrementPointer names it, else 1, as GDCM reads them.
 */
function placelessFrameStep(data: dicomParser.DataSet): number {
  const frameTime = data.floatString('x00181063');
  const byTime = data.elements.x00280009 && data.attributeTag('x00280009') === 'x00181063';
  return byTime && frameTime !== undefined && Number.isFinite(frameTime) && frameTime > 0 ? frameTime : 1;
}

/**
 * Row and column spacing of an image with no place in the patient, in the patient where the file
 * says so. PixelSpacing first: in projection radiographs it is present only once calibrated to the
 * patient (PS3.3, DX Detector module), and it is what panimg reads. Else ImagerPixelSpacing, at the
 * detector, divided by EstimatedRadiographicMagnificationFactor where given, which brings it to the
 * patient (PS3.3, DX Positioning module). 1 mm where neither is given, as panimg and GDCM read it.
 */
function placelessSpacing(data: dicomParser.DataSet): [number, number] {
  const pair = (tag: string) => {
    const values = [data.floatString(tag, 0), data.floatString(tag, 1)];
    return values.every((v) => v !== undefined && Number.isFinite(v) && v > 0)
      ? (values as [number, number])
      : undefined;
  };
  const pixel = pair('x00280030');
  if (pixel) return pixel;
  const imager = pair('x00181164');
  if (!imager) return [1, 1];
  const magnification = data.floatString('x00181114');
  return magnification !== undefined && Number.isFinite(magnification) && magnification > 0
    ? [imager[0] / magnification, imager[1] / magnification]
    : imager;
}
