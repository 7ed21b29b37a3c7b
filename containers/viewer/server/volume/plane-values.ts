import { LoadingVolume } from './open-volume';
import { reduceSlab, slabKernels } from './simd-slab';
import { PLANE_AXES, sliceThrough } from './view-mapping';
import { Plane, Slab, Vec3, VolumeGeometry } from './view-state';

/** Arrays of numbers that rendering reads directly (64-bit integers are first turned into these). */
export type NumberArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/**
 * The values of a plane: the value at (across a, down d) is `values[base + across[a] + down[d]]`,
 * the tables giving each index's offset (a volume's bricks, or a plain row-by-row plane).
 */
export interface PlaneValues {
  readonly values: NumberArray;
  readonly base: number;
  readonly across: Int32Array;
  readonly down: Int32Array;
  /** Where values are sums of a slab's slices, their count: the value shown is the sum over it. */
  readonly divisor?: number;
}

/**
 * The slices a slab covers: round(thickness / spacing) of them (one at least), centred on the
 * crosshair's slice (one more after it than before when even), kept inside the volume.
 */
export function slabSlices(
  geometry: VolumeGeometry,
  plane: Plane,
  position: Vec3,
  slab?: Slab,
): [number, number] {
  const through = PLANE_AXES[plane].through;
  const slice = sliceThrough(geometry, plane, position);
  const count = slab ? Math.max(1, Math.round(slab.thicknessMm / geometry.spacing[through])) : 1;
  const first = slice - Math.floor((count - 1) / 2);
  return [Math.max(0, first), Math.min(geometry.size[through] - 1, first + count - 1)];
}

/** Voxel indices across and down a plane that a view samples, each ascending and without repeats. */
export interface PlaneSamples {
  readonly across: Int32Array;
  readonly down: Int32Array;
}

/**
 * A plane of the volume at a time point: a view into the voxels for one slice, or the slab's
 * maximum, minimum or mean along the plane's normal in a new array (the voxel type for maximum
 * and minimum, so windowing keeps its lookup table; float for the mean and for 64-bit voxels).
 *
 * With `samples`, a slab is reduced only at the voxels a view reads (at zoom 1 a 512-pixel canvas
 * samples 367 of a sagittal plane's 512 columns; zoomed in, far fewer); the others are not
 * computed, and their entries in `across` and `down` point at an arbitrary computed value.
 */
export function planeValues(
  volume: LoadingVolume,
  plane: Plane,
  position: Vec3,
  timepoint: number,
  slab?: Slab,
  samples?: PlaneSamples,
): PlaneValues {
  const { layout } = volume;
  const axes = PLANE_AXES[plane];
  const tables = [layout.x, layout.y, layout.z];
  const across = tables[axes.across];
  const down = tables[axes.down];
  const through = tables[axes.through];
  const timeBase = timepoint * layout.timeStride;
  const [first, last] = slabSlices(volume.geometry, plane, position, slab);
  const voxels = volume.voxels;
  const wide = voxels instanceof BigInt64Array || voxels instanceof BigUint64Array;
  if (first === last && !wide) {
    return { values: voxels as NumberArray, base: timeBase + through[first], across, down };
  }
  const kernels = wide ? undefined : slabKernels(voxels.buffer);
  const mode = slab && first !== last ? slab.mode : 'mip';
  if (kernels) {
    const a0 = samples ? samples.across[0] : 0;
    const a1 = samples ? samples.across[samples.across.length - 1] : across.length - 1;
    const d0 = samples ? samples.down[0] : 0;
    const d1 = samples ? samples.down[samples.down.length - 1] : down.length - 1;
    if (a1 >= a0 && d1 >= d0) {
      const range = { a0, a1, d0, d1, first, last };
      const reduced = reduceSlab(kernels, layout, axes, range, timeBase, mode);
      const { values, across, down } = reduced;
      return { values, base: 0, across, down, ...(mode === 'average' ? { divisor: last - first + 1 } : {}) };
    }
  }
  const wantedAcross = samples?.across ?? Int32Array.from({ length: across.length }, (_, a) => a);
  const wantedDown = samples?.down ?? Int32Array.from({ length: down.length }, (_, d) => d);
  const nAcross = wantedAcross.length;
  const nDown = wantedDown.length;
  const out: NumberArray =
    mode === 'average' || wide
      ? new Float64Array(nAcross * nDown)
      : new (voxels.constructor as new (length: number) => NumberArray)(nAcross * nDown);
  const slices = through.subarray(first, last + 1).map((offset) => offset + timeBase);
  const acrossOffsets = wantedAcross.map((a) => across[a]);
  const downOffsets = wantedDown.map((d) => down[d]);
  if (wide) reduceWide(voxels, out, acrossOffsets, downOffsets, slices, mode);
  else if (mode === 'mip') maxOfSlices(voxels as NumberArray, out, acrossOffsets, downOffsets, slices);
  else if (mode === 'minip') minOfSlices(voxels as NumberArray, out, acrossOffsets, downOffsets, slices);
  else meanOfSlices(voxels as NumberArray, out, acrossOffsets, downOffsets, slices);
  return {
    values: out,
    base: 0,
    across: placesOf(wantedAcross, across.length, 1),
    down: placesOf(wantedDown, down.length, nAcross),
  };
}

/** For each voxel index, the offset of its value in the reduced plane (0 for indices not sampled). */
function placesOf(wanted: Int32Array, length: number, stride: number): Int32Array {
  const places = new Int32Array(length);
  for (let j = 0; j < wanted.length; j++) places[wanted[j]] = j * stride;
  return places;
}

/*
 * The slab reduced row by row of the plane: each output row stays in the first level of cache
 * while the slab's slices are read into it, four at a time (half the time of one at a time).
 * One function per mode, so that each loop stays simple for the JIT.
 */

function maxOfSlices(
  voxels: NumberArray,
  out: NumberArray,
  across: Int32Array,
  down: Int32Array,
  slices: Int32Array,
): void {
  const n = across.length;
  for (let d = 0; d < down.length; d++) {
    const o = d * n;
    const row = down[d];
    const r0 = row + slices[0];
    for (let a = 0; a < n; a++) out[o + a] = voxels[r0 + across[a]];
    let k = 1;
    for (; k + 3 < slices.length; k += 4) {
      const [r1, r2, r3, r4] = [
        row + slices[k],
        row + slices[k + 1],
        row + slices[k + 2],
        row + slices[k + 3],
      ];
      for (let a = 0; a < n; a++) {
        const c = across[a];
        let m = out[o + a];
        const v1 = voxels[r1 + c];
        if (v1 > m) m = v1;
        const v2 = voxels[r2 + c];
        if (v2 > m) m = v2;
        const v3 = voxels[r3 + c];
        if (v3 > m) m = v3;
        const v4 = voxels[r4 + c];
        if (v4 > m) m = v4;
        out[o + a] = m;
      }
    }
    for (; k < slices.length; k++) {
      const r = row + slices[k];
      for (let a = 0; a < n; a++) {
        const v = voxels[r + across[a]];
        if (v > out[o + a]) out[o + a] = v;
      }
    }
  }
}

function minOfSlices(
  voxels: NumberArray,
  out: NumberArray,
  across: Int32Array,
  down: Int32Array,
  slices: Int32Array,
): void {
  const n = across.length;
  for (let d = 0; d < down.length; d++) {
    const o = d * n;
    const row = down[d];
    const r0 = row + slices[0];
    for (let a = 0; a < n; a++) out[o + a] = voxels[r0 + across[a]];
    let k = 1;
    for (; k + 3 < slices.length; k += 4) {
      const [r1, r2, r3, r4] = [
        row + slices[k],
        row + slices[k + 1],
        row + slices[k + 2],
        row + slices[k + 3],
      ];
      for (let a = 0; a < n; a++) {
        const c = across[a];
        let m = out[o + a];
        const v1 = voxels[r1 + c];
        if (v1 < m) m = v1;
        const v2 = voxels[r2 + c];
        if (v2 < m) m = v2;
        const v3 = voxels[r3 + c];
        if (v3 < m) m = v3;
        const v4 = voxels[r4 + c];
        if (v4 < m) m = v4;
        out[o + a] = m;
      }
    }
    for (; k < slices.length; k++) {
      const r = row + slices[k];
      for (let a = 0; a < n; a++) {
        const v = voxels[r + across[a]];
        if (v < out[o + a]) out[o + a] = v;
      }
    }
  }
}

function meanOfSlices(
  voxels: NumberArray,
  out: NumberArray,
  across: Int32Array,
  down: Int32Array,
  slices: Int32Array,
): void {
  const n = across.length;
  const count = slices.length;
  for (let d = 0; d < down.length; d++) {
    const o = d * n;
    const row = down[d];
    const r0 = row + slices[0];
    for (let a = 0; a < n; a++) out[o + a] = voxels[r0 + across[a]];
    let k = 1;
    for (; k + 3 < count; k += 4) {
      const [r1, r2, r3, r4] = [
        row + slices[k],
        row + slices[k + 1],
        row + slices[k + 2],
        row + slices[k + 3],
      ];
      for (let a = 0; a < n; a++) {
        const c = across[a];
        out[o + a] += voxels[r1 + c] + voxels[r2 + c] + voxels[r3 + c] + voxels[r4 + c];
      }
    }
    for (; k < count; k++) {
      const r = row + slices[k];
      for (let a = 0; a < n; a++) out[o + a] += voxels[r + across[a]];
    }
    for (let a = 0; a < n; a++) out[o + a] /= count;
  }
}

/** The same for 64-bit integers, read as numbers (exact up to 2^53): rare, so written plainly. */
function reduceWide(
  voxels: BigInt64Array | BigUint64Array,
  out: NumberArray,
  across: Int32Array,
  down: Int32Array,
  slices: Int32Array,
  mode: Slab['mode'],
): void {
  for (let d = 0; d < down.length; d++) {
    for (let a = 0; a < across.length; a++) {
      const start = down[d] + across[a];
      let acc = Number(voxels[start + slices[0]]);
      for (let k = 1; k < slices.length; k++) {
        const v = Number(voxels[start + slices[k]]);
        acc = mode === 'mip' ? Math.max(acc, v) : mode === 'minip' ? Math.min(acc, v) : acc + v;
      }
      out[d * across.length + a] = mode === 'average' ? acc / slices.length : acc;
    }
  }
}
