import type { Plane, Vec3, VolumeGeometry } from '../volume/view-state';

/**
 * Which voxel axes a plane shows: across the canvas, down it, and through it (the one the wheel
 * scrolls). Axial shows x across and y down; coronal x and z; sagittal y and z.
 */
export const PLANE_AXES: Readonly<Record<Plane, { across: 0 | 1 | 2; down: 0 | 1 | 2; through: 0 | 1 | 2 }>> =
  {
    axial: { across: 0, down: 1, through: 2 },
    coronal: { across: 0, down: 2, through: 1 },
    sagittal: { across: 1, down: 2, through: 0 },
  };

/** The crosshair at the volume's centre voxel. */
export function centre(geometry: VolumeGeometry): Vec3 {
  return geometry.size.map((n) => Math.floor((n - 1) / 2)) as unknown as Vec3;
}

/** Device pixels per millimetre of a plane at zoom 1: the plane fits the viewport, aspect kept. */
export function fitScale(
  geometry: VolumeGeometry,
  plane: Plane,
  viewport: { width: number; height: number },
): number {
  const { across, down } = PLANE_AXES[plane];
  const widthMm = geometry.size[across] * geometry.spacing[across];
  const heightMm = geometry.size[down] * geometry.spacing[down];
  return Math.min(viewport.width / widthMm, viewport.height / heightMm);
}
