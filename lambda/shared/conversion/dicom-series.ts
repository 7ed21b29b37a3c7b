import { ConversionLimits } from './conversion-limits';
import { DicomSlice } from './dicom-slice';
import { Rejection } from './rejection';
import { COMPONENT_TYPES, ComponentType, Volume } from './volume';
import { expectedDataBytes } from './volume-checks';

export interface AssembledSeries {
  readonly volumes: { readonly sources: readonly string[]; readonly volume: Volume }[];
  readonly rejected: { readonly filename: string; readonly reason: string }[];
}

const cross = (a: readonly number[], b: readonly number[]) => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * Groups slices into volumes: by SeriesInstanceUID and, where they differ within a series, by
 * orientation and size; orders each group by position along the slice normal (not by file name
 * or instance number); and refuses a group, naming where, whose slices leave gaps, repeat a
 * position, or are unevenly spaced. Stored values are rescaled (slope and intercept).
 */
export function assembleSeries(slices: readonly DicomSlice[], limits: ConversionLimits): AssembledSeries {
  const groups = new Map<string, DicomSlice[]>();
  for (const slice of slices) {
    const key = [
      slice.seriesUid,
      slice.orientation.map((v) => v.toFixed(4)).join(','),
      slice.rows,
      slice.columns,
    ].join('|');
    groups.set(key, [...(groups.get(key) ?? []), slice]);
  }
  const volumes: AssembledSeries['volumes'][number][] = [];
  const rejected: AssembledSeries['rejected'][number][] = [];
  for (const group of groups.values()) {
    try {
      volumes.push(assemble(group, limits));
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      for (const slice of group) rejected.push({ filename: slice.file, reason: err.message });
    }
  }
  return { volumes, rejected };
}

function assemble(group: readonly DicomSlice[], limits: ConversionLimits) {
  const first = group[0];
  const rowDirection = first.orientation.slice(0, 3);
  const columnDirection = first.orientation.slice(3, 6);
  const normal = cross(rowDirection, columnDirection);
  const sorted = [...group].sort((a, b) => dot(a.position, normal) - dot(b.position, normal));
  const series = `series ${first.seriesUid}`;
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
  const timePoints = counts[0];
  if (counts.some((c) => c !== timePoints)) {
    const uneven = positions.find((p) => p.length !== timePoints)!;
    throw new Rejection(
      `${series} has ${Math.min(...counts)} to ${Math.max(...counts)} slices per position (${uneven.length} at ${at(dot(uneven[0].position, normal))}); a 4D series needs the same number at every position`,
    );
  }
  for (const position of positions) position.sort((a, b) => a.timeOrder - b.timeOrder);
  // Voxel order: x, then y, then position, then time.
  const ordered = Array.from({ length: timePoints }, (_, t) => positions.map((p) => p[t])).flat();
  const along = positions.map((p) => dot(p[0].position, normal));
  const steps = along.slice(1).map((v, i) => v - along[i]);

  let step = first.spacing[0];
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
  const perSlice = first.columns * first.rows * first.samples;
  if (ordered.some((s) => s.bitsAllocated !== first.bitsAllocated || s.samples !== first.samples)) {
    throw new Rejection(`${series} mixes pixel formats between its slices`);
  }
  // Typed views over each slice's stored values (copied when the element is not 2-byte aligned).
  const stored = ordered.map((slice) => {
    const bytes = slice.pixels.byteOffset % 2 === 0 ? slice.pixels : Buffer.from(slice.pixels);
    if (slice.bitsAllocated === 8) {
      return slice.signed
        ? new Int8Array(bytes.buffer, bytes.byteOffset, perSlice)
        : new Uint8Array(bytes.buffer, bytes.byteOffset, perSlice);
    }
    return slice.signed
      ? new Int16Array(bytes.buffer, bytes.byteOffset, perSlice)
      : new Uint16Array(bytes.buffer, bytes.byteOffset, perSlice);
  });
  // The narrowest type that holds every rescaled value exactly, as GDCM chooses.
  const integral = ordered.every((s) => Number.isInteger(s.slope) && Number.isInteger(s.intercept));
  let low = Infinity;
  let high = -Infinity;
  ordered.forEach((slice, k) => {
    const values = stored[k];
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < perSlice; i++) {
      const v = values[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const [a, b] = [min * slice.slope + slice.intercept, max * slice.slope + slice.intercept];
    low = Math.min(low, a, b);
    high = Math.max(high, a, b);
  });
  const componentType: ComponentType =
    first.samples === 3
      ? 'uint8' // colour carries no rescale
      : !integral
        ? 'float32'
        : low >= 0 && high <= 255 && first.bitsAllocated === 8
          ? 'uint8'
          : low >= -32768 && high <= 32767
            ? 'int16'
            : low >= 0 && high <= 65535
              ? 'uint16'
              : 'int32';
  expectedDataBytes(size, componentType, first.samples, limits);
  const width = COMPONENT_TYPES[componentType].bytes;
  const data = Buffer.alloc(perSlice * ordered.length * width);
  const Output = {
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    float32: Float32Array,
  }[componentType as 'uint8' | 'int16' | 'uint16' | 'int32' | 'float32'];
  const out = new Output(data.buffer, data.byteOffset, perSlice * ordered.length);
  ordered.forEach((slice, k) => {
    const values = stored[k];
    const base = k * perSlice;
    if (slice.samples === 3) {
      out.set(values, base);
    } else if (slice.slope === 1) {
      for (let i = 0; i < perSlice; i++) out[base + i] = values[i] + slice.intercept;
    } else {
      for (let i = 0; i < perSlice; i++) out[base + i] = values[i] * slice.slope + slice.intercept;
    }
  });
  const spatialAxes = [rowDirection, columnDirection, normal];
  const volume: Volume = {
    size,
    spacing: [first.spacing[0], first.spacing[1], step, ...(timePoints > 1 ? [1] : [])],
    origin: [...positions[0][0].position, ...(timePoints > 1 ? [0] : [])],
    axes: timePoints > 1 ? [...spatialAxes.map((axis) => [...axis, 0]), [0, 0, 0, 1]] : spatialAxes,
    componentType,
    components: first.samples,
    data,
    metadata: first.metadata,
  };
  return { sources: ordered.map((s) => s.file), volume };
}
