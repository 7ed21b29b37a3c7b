import { ConversionLimits } from './conversion-limits';
import { DicomFrameReader } from './dicom-frame-reader';
import { DicomSlice } from './dicom-slice';
import { groupSlices, SliceGroup } from './dicom-slice-groups';
import { PieceDeflater } from './parallel-deflate';
import { Rejection } from './rejection';
import { COMPONENT_TYPES, ComponentType, Volume } from './volume';
import { expectedDataBytes } from './volume-checks';

/** One outcome of a group of slices: its volume, or the refusal of all its files. */
export type SeriesOutcome =
  | { readonly sources: readonly string[]; readonly volume: Volume }
  | { readonly rejected: readonly string[]; readonly reason: string };

const cross = (a: readonly number[], b: readonly number[]) => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * Makes the volumes of an upload's slices, grouped as dicom-slice-groups.ts groups them (copies of
 * an instance refused, naming the file kept); orders each group by position along the slice normal
 * (not by file name or instance number); and refuses a group, naming where, whose slices leave
 * gaps, repeat a position, or are unevenly spaced. Stored values are rescaled (slope and
 * intercept). Yields the groups one by one, each as its volume or as the refusal of its files.
 */
export async function* assembleSeries(
  slices: readonly DicomSlice[],
  limits: ConversionLimits,
): AsyncGenerator<SeriesOutcome> {
  const { groups, duplicates } = groupSlices(slices);
  for (const { file, reason } of duplicates) yield { rejected: [file], reason };
  // One volume at a time: the caller writes each before the next is read.
  const reader = new DicomFrameReader(limits);
  for (const group of groups) {
    try {
      yield await assemble(group, reader, limits);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      yield { rejected: [...new Set(group.slices.map((s) => s.file))], reason: err.message };
    }
  }
}

async function assemble(
  { label: series, slices: group }: SliceGroup,
  reader: DicomFrameReader,
  limits: ConversionLimits,
) {
  const first = group[0];
  const rowDirection = first.orientation.slice(0, 3);
  const columnDirection = first.orientation.slice(3, 6);
  const normal = cross(rowDirection, columnDirection);
  const sorted = [...group].sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
  const at = (v: number) => `${Number(v.toFixed(3))} mm`;

  // Slices at one position are the time points of a 4D series; every position needs as many.
  const positions: DicomSlice[][] = [];
  for (const slice of sorted) {
    const last = positions.at(-1);
    if (last && Math.abs(dot(slice.position, normal) - dot(last[0].position, normal)) < 1e-3)
      last.push(slice);
    else positions.push([slice]);
  }
  const counts = positions.map((p) => p.length);
  const timePoints = mostCommon(counts);
  if (counts.some((c) => c !== timePoints)) {
    const uneven = positions.find((p) => p.length !== timePoints)!;
    const files = uneven.map((s) => (s.frame > 0 ? `${s.file} frame ${s.frame + 1}` : s.file));
    const named =
      files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
    throw new Rejection(
      `${series} has ${uneven.length} slices at ${at(dot(uneven[0].position, normal))} (${named}) where the other positions have ${timePoints}: ` +
        `neither copies of one instance (those are read once) nor the time points of a 4D series, which has the same number at every position`,
    );
  }
  for (const position of positions) {
    position.sort((a, b) => a.timeOrder - b.timeOrder);
    // Two slices at one time point of one position: which comes first would be a guess.
    const tie = position.findIndex((s, i) => i > 0 && s.timeOrder === position[i - 1].timeOrder);
    if (tie > 0) {
      const [a, b] = [position[tie - 1], position[tie]].map((s) =>
        s.frame > 0 ? `${s.file} frame ${s.frame + 1}` : s.file,
      );
      throw new Rejection(
        `${series} has two slices at ${at(dot(position[0].position, normal))} (${a}, ${b}) at the same time point ${position[tie].timeOrder} (TemporalPositionIndex, else TemporalPositionIdentifier, else InstanceNumber): their order in time is not known`,
      );
    }
  }
  // Voxel order: x, then y, then position, then time.
  const ordered = Array.from({ length: timePoints }, (_, t) => positions.map((p) => p[t])).flat();
  const along = positions.map((p) => dot(p[0].position, normal));
  const steps = along.slice(1).map((v, i) => v - along[i]);

  let step = 1; // a single slice is 1 apart from the next, as GDCM reads it
  if (steps.length > 0) {
    step = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)];
    const gaps = steps.map((s, i) => ({ s, i })).filter(({ s }) => s > step * 1.5);
    if (gaps.length > 0) {
      const missing = gaps.map(({ s, i }) => `${Math.round(s / step) - 1} after ${at(along[i])}`);
      throw new Rejection(
        `${series} has missing slices: ${missing.join(', ')} along the slice normal (step ${at(step)})`,
      );
    }
    const uneven = steps.find((s) => Math.abs(s - step) > step * 0.01);
    if (uneven !== undefined) {
      throw new Rejection(
        `${series} has inconsistent slice spacing: ${at(uneven)} where the others are ${at(step)}`,
      );
    }
  }
  const mismatched = ordered.find(
    (s) =>
      Math.abs(s.spacing[0] - first.spacing[0]) > 1e-4 || Math.abs(s.spacing[1] - first.spacing[1]) > 1e-4,
  );
  if (mismatched) throw new Rejection(`${series} has inconsistent pixel spacing (${mismatched.file})`);

  const size = [first.columns, first.rows, positions.length, ...(timePoints > 1 ? [timePoints] : [])];
  if (
    ordered.some(
      (s) =>
        s.bitsAllocated !== first.bitsAllocated ||
        s.samples !== first.samples ||
        s.monochrome1 !== first.monochrome1,
    )
  ) {
    throw new Rejection(`${series} mixes pixel formats between its slices`);
  }
  const spatialAxes = [rowDirection, columnDirection, normal];
  const { componentType, data, voxelStream, inversion } = await writeVoxels(ordered, size, reader, limits);
  const volume: Volume = {
    size,
    spacing: [first.spacing[0], first.spacing[1], step, ...(timePoints > 1 ? [1] : [])],
    origin: [...positions[0][0].position, ...(timePoints > 1 ? [0] : [])],
    axes: timePoints > 1 ? [...spatialAxes.map((axis) => [...axis, 0]), [0, 0, 0, 1]] : spatialAxes,
    componentType,
    components: first.samples,
    data,
    metadata: {
      ...(inversion === undefined ? first.metadata : invertedWindow(first.metadata, inversion)),
      ...(timePoints > 1 && perTimePoint(positions[0])),
    },
    voxelStream,
  };
  return { sources: [...new Set(ordered.map((s) => s.file))], volume };
}

/**
 * ContentTimes and Exposures of a 4D image, one per time point in time order, as panimg lists
 * them: each where every time point gives one, from files of their own (the frames of one file
 * share its top-level values, which say nothing of each time point).
 */
function perTimePoint(atFirstPosition: readonly DicomSlice[]): Record<string, string> {
  const listed: Record<string, string> = {};
  if (new Set(atFirstPosition.map((s) => s.file)).size < atFirstPosition.length) return listed;
  const contentTimes = atFirstPosition.map((s) => s.contentTime);
  const exposures = atFirstPosition.map((s) => s.exposure);
  if (contentTimes.every((v) => v)) listed.ContentTimes = contentTimes.join(' ');
  if (exposures.every((v) => v)) listed.Exposures = exposures.join(' ');
  return listed;
}

/** The count most positions have (the greater, where two are as common). */
function mostCommon(counts: readonly number[]): number {
  const tally = new Map<number, number>();
  for (const c of counts) tally.set(c, (tally.get(c) ?? 0) + 1);
  return [...tally].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0][0];
}

type Stored = Int8Array | Uint8Array | Int16Array | Uint16Array;
type Writable = InstanceType<(typeof ARRAYS)[keyof typeof ARRAYS]>;
type Integral = 'uint8' | 'int16' | 'uint16' | 'int32';
const ARRAYS = {
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
};

/** The narrowest type that holds every rescaled value exactly, as GDCM chooses. */
function narrowest(low: number, high: number, eightBit: boolean): Integral {
  if (low >= 0 && high <= 255 && eightBit) return 'uint8';
  if (low >= -32768 && high <= 32767) return 'int16';
  if (low >= 0 && high <= 65535) return 'uint16';
  return 'int32';
}

/**
 * Reads each slice's stored values from its file and writes them, rescaled, straight into one
 * volume, so only the volume and one slice are in memory. The voxel type is the narrowest that
 * holds the values seen so far: when a slice needs another, what is written is copied over.
 * The output's zlib stream is started as the slices are written, so compression overlaps reading.
 */
async function writeVoxels(
  ordered: readonly DicomSlice[],
  size: readonly number[],
  reader: DicomFrameReader,
  limits: ConversionLimits,
): Promise<{ componentType: ComponentType; data: Buffer; voxelStream: PieceDeflater; inversion?: number }> {
  const first = ordered[0];
  const perSlice = first.columns * first.rows * first.samples;
  const integral = ordered.every((s) => Number.isInteger(s.slope) && Number.isInteger(s.intercept));
  const eightBit = first.bitsAllocated === 8;
  // When every value the slices can store rescales into one type, the values decide nothing.
  const certain = integral ? typeOfEveryValue(ordered, eightBit) : undefined;
  let componentType: ComponentType | undefined =
    first.samples === 3 ? 'uint8' : integral ? certain : 'float32'; // colour carries no rescale
  let data = Buffer.alloc(0);
  let out: Writable = new Uint8Array(0);
  let voxelStream: PieceDeflater | undefined;
  const allocate = (type: ComponentType, written: number) => {
    expectedDataBytes(size, type, first.samples, limits);
    const width = COMPONENT_TYPES[type].bytes;
    // Every voxel is written, so the buffer need not be zeroed first.
    const next = Buffer.allocUnsafeSlow(perSlice * ordered.length * width);
    const view = new ARRAYS[type as keyof typeof ARRAYS](
      next.buffer,
      next.byteOffset,
      perSlice * ordered.length,
    );
    view.set(out.subarray(0, written));
    [componentType, data, out] = [type, next, view];
    if (voxelStream) voxelStream.restart(next);
    else voxelStream = new PieceDeflater(next);
  };
  // A first guess for integral values, corrected by the first slice if it needs another type.
  allocate(componentType ?? (eightBit ? 'uint8' : 'int16'), 0);
  let low = Infinity;
  let high = -Infinity;
  try {
    for (let k = 0; k < ordered.length; k++) {
      const slice = ordered[k];
      const base = k * perSlice;
      const values = storedValues(await reader.read(slice), slice, perSlice);
      if (slice.samples === 3) out.set(values, base);
      else {
        const [min, max] = rescaleInto(out, base, values, slice.slope, slice.intercept, !certain);
        if (integral && !certain) {
          low = Math.min(low, min);
          high = Math.max(high, max);
          const needed = narrowest(low, high, eightBit);
          if (needed !== componentType) {
            allocate(needed, base);
            rescaleInto(out, base, values, slice.slope, slice.intercept);
          }
        }
      }
      // MONOCHROME1 is compressed once inverted, which needs every value first.
      if (!first.monochrome1) voxelStream!.advance((base + perSlice) * out.BYTES_PER_ELEMENT);
    }
  } finally {
    reader.release();
  }
  const inversion = first.monochrome1 ? invert(out) : undefined;
  if (inversion !== undefined) voxelStream!.advance(out.length * out.BYTES_PER_ELEMENT);
  return { componentType: componentType!, data, voxelStream: voxelStream!, inversion };
}

/**
 * Turns MONOCHROME1 values (the lowest white) into MONOCHROME2 ones in place, as panimg does:
 * each value becomes least + greatest - value, so the values keep their range and type. Returns
 * that sum, by which the window centre is inverted too.
 */
function invert(out: Writable): number {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  const sum = low + high;
  for (let i = 0; i < out.length; i++) out[i] = sum - out[i];
  return sum;
}

/** The header's window for inverted values: the centre mirrored as the values are, the width kept. */
function invertedWindow(metadata: Readonly<Record<string, string>>, sum: number): Record<string, string> {
  const center = Number(metadata.WindowCenter);
  if (metadata.WindowCenter === undefined || !Number.isFinite(center)) return { ...metadata };
  return { ...metadata, WindowCenter: String(Number((sum - center).toPrecision(10))) };
}

/**
 * The type of the volume when it does not depend on the values: every value each slice can store
 * (its bits stored, signed or not), rescaled, falls where `narrowest` gives one answer whatever
 * the values are: int16 for 16-bit slices, uint8 for 8-bit ones.
 */
function typeOfEveryValue(ordered: readonly DicomSlice[], eightBit: boolean): Integral | undefined {
  const fits = ordered.every((slice) => {
    const low = slice.signed ? -(2 ** (slice.bitsStored - 1)) : 0;
    const high = slice.signed ? 2 ** (slice.bitsStored - 1) - 1 : 2 ** slice.bitsStored - 1;
    const ends = [low * slice.slope + slice.intercept, high * slice.slope + slice.intercept];
    const [least, greatest] = [Math.min(...ends), Math.max(...ends)];
    return eightBit ? least >= 0 && greatest <= 255 : least >= -32768 && greatest <= 32767;
  });
  return fits ? (eightBit ? 'uint8' : 'int16') : undefined;
}

/**
 * Writes one slice's rescaled values from `base` on, returning their least and greatest, which
 * are looked for only when `measure` is set.
 */
function rescaleInto(
  out: Writable,
  base: number,
  values: Stored,
  slope: number,
  intercept: number,
  measure = true,
): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; measure && i < values.length; i++) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  // Stored values as they are, the common case, are copied natively; else one loop per rescale kind.
  if (slope === 1 && intercept === 0) out.set(values, base);
  else if (slope === 1) for (let i = 0; i < values.length; i++) out[base + i] = values[i] + intercept;
  else for (let i = 0; i < values.length; i++) out[base + i] = values[i] * slope + intercept;
  const ends = [low * slope + intercept, high * slope + intercept];
  return slope < 0 ? [ends[1], ends[0]] : [ends[0], ends[1]];
}

/**
 * A typed view over a slice's stored values (copied when not aligned to their width). Where
 * fewer bits are stored than allocated, the bits above are ignored and signed values are
 * sign-extended from the highest stored bit, as GDCM reads them.
 */
function storedValues(bytes: Buffer, slice: DicomSlice, count: number): Stored {
  const aligned = slice.bitsAllocated === 8 || bytes.byteOffset % 2 === 0 ? bytes : Buffer.from(bytes);
  const Type =
    slice.bitsAllocated === 8
      ? slice.signed
        ? Int8Array
        : Uint8Array
      : slice.signed
        ? Int16Array
        : Uint16Array;
  const values = new Type(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
  if (slice.bitsStored === slice.bitsAllocated) return values;
  // In place: the bytes are the slice's own, read or decoded for this write only.
  if (slice.signed) {
    const shift = 32 - slice.bitsStored;
    for (let i = 0; i < count; i++) values[i] = (values[i] << shift) >> shift;
  } else {
    const mask = (1 << slice.bitsStored) - 1;
    for (let i = 0; i < count; i++) values[i] = values[i] & mask;
  }
  return values;
}
