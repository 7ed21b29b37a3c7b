import * as dicomParser from 'dicom-parser';
import * as zlib from 'node:zlib';
import { ConversionLimits } from './conversion-limits';
import { checkTransferSyntax, decodeFrame, isEncapsulated } from './dicom-frame-decoder';
import { reject } from './rejection';

/** One image slice of a DICOM file, with what grouping, ordering and conversion need. */
export interface DicomSlice {
  readonly file: string;
  readonly seriesUid: string;
  readonly rows: number;
  readonly columns: number;
  /** Spacing between columns (x) and between rows (y), in mm. */
  readonly spacing: readonly [number, number];
  /** Directions of a row and of a column (ImageOrientationPatient). */
  readonly orientation: readonly number[];
  readonly position: readonly number[];
  readonly signed: boolean;
  readonly bitsAllocated: 8 | 16;
  /** 1 for grey, 3 for RGB. */
  readonly samples: number;
  readonly slope: number;
  readonly intercept: number;
  /** Stored values: 8-bit, or 16-bit little endian; RGB interleaved. */
  readonly pixels: Buffer;
  /** Non-identifying keys kept in the output header. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Orders the slices of one position in a 4D series: TemporalPositionIdentifier, else InstanceNumber. */
  readonly timeOrder: number;
}

export function isDicom(bytes: Buffer): boolean {
  return bytes.length > 132 && bytes.toString('latin1', 128, 132) === 'DICM';
}

/**
 * Parses one DICOM Part 10 file into a slice, refusing with the reason what it cannot convert
 * yet (a transfer syntax by name, colour, multi-frame) or what is broken (truncated pixel data,
 * missing geometry). Patient and study identifiers are never read.
 */
export async function parseDicomSlice(
  file: string,
  bytes: Buffer,
  limits: ConversionLimits,
): Promise<DicomSlice> {
  if (!isDicom(bytes)) reject('not a DICOM Part 10 file (no DICM marker at byte 128)');
  let data: dicomParser.DataSet;
  try {
    data = dicomParser.parseDicom(bytes, {
      inflater: (array: Uint8Array, position: number) => {
        const inflated = zlib.inflateRawSync(Buffer.from(array.buffer, array.byteOffset + position), {
          maxOutputLength: limits.maxImageBytes,
        });
        return Buffer.concat([Buffer.from(array.subarray(0, position)), inflated]);
      },
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    reject(`the DICOM file cannot be parsed: ${describe(err)}`);
  }
  const transferSyntax = data.string('x00020010') ?? '1.2.840.10008.1.2';
  checkTransferSyntax(transferSyntax);
  const pixelData = data.elements.x7fe00010;
  if (!pixelData) reject('the DICOM file has no pixel data');
  const frames = data.intString('x00280008') ?? 1;
  if (frames > 1) reject(`multi-frame DICOM (${frames} frames) is not converted yet`);
  const samples = data.uint16('x00280002') ?? 1;
  const bitsAllocated = data.uint16('x00280100');
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    reject(`${bitsAllocated ?? 'unknown'} bits allocated; 8- and 16-bit DICOM is converted`);
  }
  if (samples !== 1 && !(samples === 3 && bitsAllocated === 8)) {
    reject(`${samples} samples per pixel of ${bitsAllocated} bits; grey, and 8-bit RGB, are converted`);
  }
  const rows = data.uint16('x00280010') ?? 0;
  const columns = data.uint16('x00280011') ?? 0;
  if (rows < 1 || columns < 1 || rows > limits.maxAxisLength || columns > limits.maxAxisLength) {
    reject(`image size ${columns} x ${rows} is not valid`);
  }
  const expected = rows * columns * samples * (bitsAllocated / 8);
  let pixels: Buffer;
  if (isEncapsulated(transferSyntax)) {
    if (!pixelData.encapsulatedPixelData || !pixelData.fragments?.length) {
      reject('the compressed pixel data is not encapsulated');
    }
    const frame = Buffer.concat(
      pixelData.fragments.map((f) => {
        if (f.position + f.length > data.byteArray.length) reject('a pixel data fragment is truncated');
        return Buffer.from(data.byteArray.buffer, data.byteArray.byteOffset + f.position, f.length);
      }),
    );
    pixels = await decodeFrame(transferSyntax, frame, { rows, columns, samples, bitsAllocated });
  } else {
    if (pixelData.length < expected || pixelData.dataOffset + expected > data.byteArray.length) {
      reject(
        `the pixel data is truncated: ${Math.min(pixelData.length, data.byteArray.length - pixelData.dataOffset)} bytes, ${expected} expected`,
      );
    }
    const stored = data.byteArray.subarray(pixelData.dataOffset, pixelData.dataOffset + expected);
    // Colour stored plane by plane (PlanarConfiguration 1) is interleaved, as the output keeps it.
    // Otherwise copied, so the file's bytes are not held for as long as the slice is.
    pixels =
      samples === 3 && data.uint16('x00280006') === 1
        ? interleave(stored, rows * columns)
        : Buffer.from(stored);
  }
  const numbers = (tag: string, count: number, what: string) => {
    const values = Array.from({ length: count }, (_, i) => data.floatString(tag, i));
    if (values.some((v) => v === undefined || !Number.isFinite(v)))
      reject(`the DICOM file has no valid ${what}`);
    return values as number[];
  };
  const position = numbers('x00200032', 3, 'ImagePositionPatient');
  const orientation = numbers('x00200037', 6, 'ImageOrientationPatient');
  const [rowSpacing, columnSpacing] = numbers('x00280030', 2, 'PixelSpacing');
  const seriesUid = data.string('x0020000e');
  if (!seriesUid) reject('the DICOM file has no SeriesInstanceUID');

  const kept: Record<string, string | undefined> = {
    Modality: data.string('x00080060'),
    WindowCenter: data.string('x00281050', 0),
    WindowWidth: data.string('x00281051', 0),
    SliceThickness: data.string('x00180050'),
  };
  return {
    file,
    seriesUid,
    timeOrder: data.intString('x00200100') ?? data.intString('x00200013') ?? 0,
    rows,
    columns,
    spacing: [columnSpacing, rowSpacing],
    orientation,
    position,
    signed: (data.uint16('x00280103') ?? 0) === 1,
    bitsAllocated,
    samples,
    slope: data.floatString('x00281053') ?? 1,
    intercept: data.floatString('x00281052') ?? 0,
    pixels,
    metadata: Object.fromEntries(
      Object.entries(kept).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
    ),
  };
}

function interleave(planes: Uint8Array, pixels: number): Buffer {
  const out = Buffer.alloc(planes.length);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planes[i];
    out[3 * i + 1] = planes[pixels + i];
    out[3 * i + 2] = planes[2 * pixels + i];
  }
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
