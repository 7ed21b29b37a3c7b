import { LoadingVolume } from './open-volume';
import { planeValues } from './plane-values';
import { canvasDistanceMm, canvasToVoxel, planeLayout } from './view-mapping';
import { CanvasPoint, RegionShape, RegionStatistics, ViewState } from './view-state';

/** Millimetres between two canvas points of a view, each voxel axis scaled by its spacing. */
export function measureLength(
  volume: LoadingVolume,
  view: ViewState,
  a: CanvasPoint,
  b: CanvasPoint,
): number {
  return canvasDistanceMm(volume.geometry, view, a, b);
}

/**
 * Statistics of the values shown (the slab's, where one is drawn) over the voxels whose centres
 * fall inside a rectangle or an ellipse drawn on the canvas. The SD is the population's (divided
 * by the count); the area is the shape's own in the plane. With no voxel inside, the mean, SD,
 * minimum and maximum are NaN.
 */
export function measureRegion(volume: LoadingVolume, view: ViewState, shape: RegionShape): RegionStatistics {
  if (shape.kind !== 'ellipse' && shape.kind !== 'rectangle') {
    throw new Error(`the region kind ${String(shape.kind)} is not ellipse or rectangle`);
  }
  const geometry = volume.geometry;
  const layout = planeLayout(geometry, view);
  const { axes } = layout;
  const from = canvasToVoxel(geometry, view, shape.from);
  const to = canvasToVoxel(geometry, view, shape.to);
  // The shape in voxel indices across and down: the mapping is linear along each, so it stays a box or an ellipse.
  const [a0, a1] = [from[axes.across], to[axes.across]].sort((x, y) => x - y);
  const [d0, d1] = [from[axes.down], to[axes.down]].sort((x, y) => x - y);
  const centre = [(a0 + a1) / 2, (d0 + d1) / 2];
  const radius = [(a1 - a0) / 2, (d1 - d0) / 2];
  const plane = planeValues(volume, view.plane, view.position, view.timepoint, view.slab);
  const divisor = plane.divisor ?? 1;
  const nAcross = geometry.size[axes.across];
  const nDown = geometry.size[axes.down];
  let count = 0;
  let mean = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let d = Math.max(0, Math.ceil(d0)); d <= Math.min(nDown - 1, Math.floor(d1)); d++) {
    for (let a = Math.max(0, Math.ceil(a0)); a <= Math.min(nAcross - 1, Math.floor(a1)); a++) {
      if (shape.kind === 'ellipse') {
        const u = radius[0] > 0 ? (a - centre[0]) / radius[0] : 0;
        const v = radius[1] > 0 ? (d - centre[1]) / radius[1] : 0;
        if (u * u + v * v > 1) continue;
      }
      const value = plane.values[plane.base + plane.across[a] + plane.down[d]] / divisor;
      // Welford's running mean and sum of squares: stable for large CT values.
      count++;
      const delta = value - mean;
      mean += delta / count;
      squares += delta * (value - mean);
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const widthMm = Math.abs(shape.to[0] - shape.from[0]) / layout.pixelsPerMm;
  const heightMm = Math.abs(shape.to[1] - shape.from[1]) / layout.pixelsPerMm;
  const areaMm2 = shape.kind === 'ellipse' ? (Math.PI / 4) * widthMm * heightMm : widthMm * heightMm;
  if (count === 0) return { mean: NaN, sd: NaN, min: NaN, max: NaN, areaMm2, voxels: 0 };
  return { mean, sd: Math.sqrt(squares / count), min, max, areaMm2, voxels: count };
}
