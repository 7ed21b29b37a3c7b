import { LoadingVolume } from './open-volume';
import { canvasToVoxel, insideVolume, voxelToPatient } from './view-mapping';
import { CanvasPoint, Probe, Vec3, ViewState } from './view-state';

/**
 * What lies under a canvas point: the voxel of the slice shown (the crosshair's, whatever slab is
 * drawn) at the view's time point, its value, and the point's patient position.
 */
export function probe(volume: LoadingVolume, view: ViewState, point: CanvasPoint): Probe {
  const geometry = volume.geometry;
  const index = canvasToVoxel(geometry, view, point);
  const voxel: Vec3 = [Math.round(index[0]), Math.round(index[1]), Math.round(index[2])];
  const patient = voxelToPatient(geometry, index);
  if (!insideVolume(geometry, voxel)) return { patient, units: geometry.units };
  const timepoint = Math.min(Math.max(0, Math.trunc(view.timepoint)), geometry.timepoints - 1);
  return { voxel, patient, value: volume.value(voxel, timepoint), units: geometry.units };
}
