import { LoadingVolume } from './open-volume';
import { PLANE_AXES, sliceThrough } from './view-mapping';
import { Plane, Slab, Vec3, VolumeGeometry } from './view-state';

/** Arrays of numbers that rendering reads directly (64-bit integers are first turned into these). */
export type NumberArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** The values of a plane: value at (across a, down d) is `values[base + a * across + d * down]`. */
export interface PlaneValues {
  readonly values: NumberArray;
  readonly base: number;
  readonly across: number;
  readonly down: number;
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

/**
 * A plane of the volume at a time point: a view into the voxels for one slice, or the slab's
 * maximum, minimum or mean along the plane's normal in a new array (the voxel type for maximum
 * and minimum, so windowing keeps its lookup table; float for the mean and for 64-bit voxels).
 */
export function planeValues(
  volume: LoadingVolume,
  plane: Plane,
  position: Vec3,
  timepoint: number,
  slab?: Slab,
): PlaneValues {
  const { size } = volume.geometry;
  const axes = PLANE_AXES[plane];
  const strides = [1, size[0], size[0] * size[1]];
  const timeBase = timepoint * size[0] * size[1] * size[2];
  const [first, last] = slabSlices(volume.geometry, plane, position, slab);
  const voxels = volume.voxels;
  const wide = voxels instanceof BigInt64Array || voxels instanceof BigUint64Array;
  if (first === last && !wide) {
    return {
      values: voxels as NumberArray,
      base: timeBase + first * strides[axes.through],
      across: strides[axes.across],
      down: strides[axes.down],
    };
  }
  const nAcross = size[axes.across];
  const nDown = size[axes.down];
  const mode = slab && first !== last ? slab.mode : 'mip';
  const out: NumberArray =
    mode === 'average' || wide
      ? new Float64Array(nAcross * nDown)
      : new (voxels.constructor as new (length: number) => NumberArray)(nAcross * nDown);
  const layout: SlabLayout = {
    base: timeBase,
    across: strides[axes.across],
    down: strides[axes.down],
    through: strides[axes.through],
    nAcross,
    nDown,
    first,
    last,
  };
  if (wide) reduceWide(voxels, out, layout, mode);
  else reduce(voxels as NumberArray, out, layout, mode);
  return { values: out, base: 0, across: 1, down: nAcross };
}

interface SlabLayout {
  readonly base: number;
  readonly across: number;
  readonly down: number;
  readonly through: number;
  readonly nAcross: number;
  readonly nDown: number;
  readonly first: number;
  readonly last: number;
}

/** The slab reduced; loops run along memory (slice by slice, or along x innermost for sagittal). */
function reduce(voxels: NumberArray, out: NumberArray, l: SlabLayout, mode: Slab['mode']): void {
  const count = l.last - l.first + 1;
  if (l.through === 1) {
    // Sagittal: the slab's slices are neighbours in memory, so each output value reads a run.
    for (let d = 0; d < l.nDown; d++) {
      for (let a = 0; a < l.nAcross; a++) {
        const start = l.base + d * l.down + a * l.across + l.first;
        let acc = voxels[start];
        if (mode === 'mip') for (let k = 1; k < count; k++) acc = Math.max(acc, voxels[start + k]);
        else if (mode === 'minip') for (let k = 1; k < count; k++) acc = Math.min(acc, voxels[start + k]);
        else {
          for (let k = 1; k < count; k++) acc += voxels[start + k];
          acc /= count;
        }
        out[d * l.nAcross + a] = acc;
      }
    }
    return;
  }
  // Axial and coronal: x runs along memory, across the plane; each slice updates the whole plane.
  for (let k = l.first; k <= l.last; k++) {
    for (let d = 0; d < l.nDown; d++) {
      const row = l.base + k * l.through + d * l.down;
      const o = d * l.nAcross;
      if (k === l.first) for (let a = 0; a < l.nAcross; a++) out[o + a] = voxels[row + a * l.across];
      else if (mode === 'mip') {
        for (let a = 0; a < l.nAcross; a++) {
          const v = voxels[row + a * l.across];
          if (v > out[o + a]) out[o + a] = v;
        }
      } else if (mode === 'minip') {
        for (let a = 0; a < l.nAcross; a++) {
          const v = voxels[row + a * l.across];
          if (v < out[o + a]) out[o + a] = v;
        }
      } else for (let a = 0; a < l.nAcross; a++) out[o + a] += voxels[row + a * l.across];
    }
  }
  if (mode === 'average') for (let i = 0; i < out.length; i++) out[i] /= count;
}

/** The same for 64-bit integers, read as numbers (exact up to 2^53): rare, so written plainly. */
function reduceWide(
  voxels: BigInt64Array | BigUint64Array,
  out: NumberArray,
  l: SlabLayout,
  mode: Slab['mode'],
): void {
  const count = l.last - l.first + 1;
  for (let d = 0; d < l.nDown; d++) {
    for (let a = 0; a < l.nAcross; a++) {
      const start = l.base + d * l.down + a * l.across;
      let acc = Number(voxels[start + l.first * l.through]);
      for (let k = l.first + 1; k <= l.last; k++) {
        const v = Number(voxels[start + k * l.through]);
        acc = mode === 'mip' ? Math.max(acc, v) : mode === 'minip' ? Math.min(acc, v) : acc + v;
      }
      out[d * l.nAcross + a] = mode === 'average' ? acc / count : acc;
    }
  }
}
