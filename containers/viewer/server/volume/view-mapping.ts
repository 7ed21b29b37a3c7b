import { CanvasPoint, Plane, Vec3, ViewState, VolumeGeometry } from './view-state';

/**
 * The one mapping between the canvas and the volume, used by rendering, probing and measuring,
 * and by the client to draw measurement handles (this file needs nothing but arithmetic, so it
 * bundles for the browser too).
 *
 * Planes are shown in voxel index order, whatever the direction matrix (which only places voxels
 * in patient space): axial has x to the right and y down; coronal x to the right and z up;
 * sagittal y to the right and z up. A canvas point is continuous: pixel (i, j) covers
 * [i, i + 1) x [j, j + 1) and is rendered from the voxel under its centre (nearest voxel).
 *
 * At zoom 1 the whole plane (voxel edges included) fits the viewport, its aspect kept from the
 * spacing; the plane's centre sits at the viewport's centre, moved by `pan` millimetres.
 */

/** Voxel axes (0 x, 1 y, 2 z) of a plane: across the canvas, down it, and through it. */
export interface PlaneAxes {
  readonly across: 0 | 1 | 2;
  readonly down: 0 | 1 | 2;
  readonly through: 0 | 1 | 2;
  /** Whether the index along `down` grows down the canvas (axial) or up it (coronal, sagittal). */
  readonly downGrows: boolean;
}

export const PLANE_AXES: Readonly<Record<Plane, PlaneAxes>> = {
  axial: { across: 0, down: 1, through: 2, downGrows: true },
  coronal: { across: 0, down: 2, through: 1, downGrows: false },
  sagittal: { across: 1, down: 2, through: 0, downGrows: false },
};

/** Where a plane lies on the canvas: canvas x = centre + (index - indexCentre) * pixels per voxel. */
export interface PlaneLayout {
  readonly axes: PlaneAxes;
  /** Canvas pixels per millimetre. */
  readonly pixelsPerMm: number;
  /** Canvas pixels per voxel across and down (signed down: negative where the index grows up). */
  readonly pixelsPerVoxel: readonly [number, number];
  /** The canvas point of voxel index 0 across and 0 down. */
  readonly originOnCanvas: CanvasPoint;
  /** The slice shown: the crosshair's, rounded and kept inside the volume. */
  readonly slice: number;
}

export function planeLayout(geometry: VolumeGeometry, view: ViewState): PlaneLayout {
  const axes = PLANE_AXES[view.plane];
  const { size, spacing } = geometry;
  const { width, height } = view.viewport;
  if (!(width > 0 && height > 0)) throw new Error(`the viewport ${width}x${height} has no pixels`);
  if (!(view.zoom > 0) || !Number.isFinite(view.zoom)) throw new Error(`zoom ${view.zoom} is not positive`);
  const acrossMm = size[axes.across] * spacing[axes.across];
  const downMm = size[axes.down] * spacing[axes.down];
  const pixelsPerMm = Math.min(width / acrossMm, height / downMm) * view.zoom;
  const acrossPx = pixelsPerMm * spacing[axes.across];
  const downPx = pixelsPerMm * spacing[axes.down] * (axes.downGrows ? 1 : -1);
  // The plane's centre (index (size - 1) / 2) lies at the viewport's centre less the pan.
  const centreX = width / 2 - view.pan[0] * pixelsPerMm;
  const centreY = height / 2 - view.pan[1] * pixelsPerMm;
  const originOnCanvas: CanvasPoint = [
    centreX - ((size[axes.across] - 1) / 2) * acrossPx,
    centreY - ((size[axes.down] - 1) / 2) * downPx,
  ];
  return {
    axes,
    pixelsPerMm,
    pixelsPerVoxel: [acrossPx, downPx],
    originOnCanvas,
    slice: sliceThrough(geometry, view.plane, view.position),
  };
}

/** The slice of `plane` through a position: rounded, inside the volume. */
export function sliceThrough(geometry: VolumeGeometry, plane: Plane, position: Vec3): number {
  const through = PLANE_AXES[plane].through;
  return clamp(Math.round(position[through]), 0, geometry.size[through] - 1);
}

/** The continuous voxel index under a canvas point, on the slice shown; it may lie outside the volume. */
export function canvasToVoxel(geometry: VolumeGeometry, view: ViewState, point: CanvasPoint): Vec3 {
  const layout = planeLayout(geometry, view);
  const { axes, pixelsPerVoxel, originOnCanvas } = layout;
  const index = [0, 0, 0];
  index[axes.across] = (point[0] - originOnCanvas[0]) / pixelsPerVoxel[0];
  index[axes.down] = (point[1] - originOnCanvas[1]) / pixelsPerVoxel[1];
  index[axes.through] = layout.slice;
  return [index[0], index[1], index[2]];
}

/** The canvas point of a (continuous) voxel index, in the plane shown; its `through` part is ignored. */
export function voxelToCanvas(geometry: VolumeGeometry, view: ViewState, voxel: Vec3): CanvasPoint {
  const { axes, pixelsPerVoxel, originOnCanvas } = planeLayout(geometry, view);
  return [
    originOnCanvas[0] + voxel[axes.across] * pixelsPerVoxel[0],
    originOnCanvas[1] + voxel[axes.down] * pixelsPerVoxel[1],
  ];
}

/** Millimetres between two canvas points on the plane shown (what `measureLength` reports). */
export function canvasDistanceMm(
  geometry: VolumeGeometry,
  view: ViewState,
  a: CanvasPoint,
  b: CanvasPoint,
): number {
  const from = canvasToVoxel(geometry, view, a);
  const to = canvasToVoxel(geometry, view, b);
  return Math.hypot(...from.map((v, k) => (to[k] - v) * geometry.spacing[k]));
}

/** Patient (LPS, mm) position of a continuous voxel index: origin + sum_k index[k] spacing[k] direction[k]. */
export function voxelToPatient(geometry: VolumeGeometry, voxel: Vec3): Vec3 {
  const { origin, spacing, direction } = geometry;
  const patient = [origin[0], origin[1], origin[2]];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 3; i++) patient[i] += voxel[k] * spacing[k] * direction[k][i];
  }
  return [patient[0], patient[1], patient[2]];
}

/** The continuous voxel index of a patient position (the inverse of `voxelToPatient`). */
export function patientToVoxel(geometry: VolumeGeometry, patient: Vec3): Vec3 {
  const { origin, spacing, direction } = geometry;
  const d: Vec3 = [patient[0] - origin[0], patient[1] - origin[1], patient[2] - origin[2]];
  // Solve sum_k a[k] direction[k] = d for a, then index = a / spacing (Cramer's rule).
  const [r0, r1, r2] = direction;
  const det = determinant(r0, r1, r2);
  if (Math.abs(det) < 1e-12) throw new Error('the direction matrix is singular');
  const a = [determinant(d, r1, r2) / det, determinant(r0, d, r2) / det, determinant(r0, r1, d) / det];
  return [a[0] / spacing[0], a[1] / spacing[1], a[2] / spacing[2]];
}

/** Whether a whole voxel index lies inside the volume. */
export function insideVolume(geometry: VolumeGeometry, voxel: Vec3): boolean {
  return voxel.every((v, k) => v >= 0 && v < geometry.size[k]);
}

/** det of the matrix with rows a, b, c. */
function determinant(a: Vec3, b: Vec3, c: Vec3): number {
  return (
    a[0] * (b[1] * c[2] - b[2] * c[1]) -
    a[1] * (b[0] * c[2] - b[2] * c[0]) +
    a[2] * (b[0] * c[1] - b[1] * c[0])
  );
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
