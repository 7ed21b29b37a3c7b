/**
 * The viewer's volume engine: reads an `.mha` as it downloads, renders views of it and measures
 * on it. The viewer server calls only what is exported here; `view-mapping.ts`,
 * `label-colours.ts` and `view-state.ts` hold no Node code, so the browser client bundles them
 * too (to draw measurement handles where the server measures, and a legend of label colours).
 */
export { autoWindow, defaultWindow } from './auto-window';
export { encodeFrame, INTERACTIVE_JPEG_QUALITY, type EncodedFrame, type FrameQuality } from './encode-frame';
export { LABEL_COLOURS, labelColour } from './label-colours';
export { measureLength, measureRegion } from './measurements';
export { VolumeReadError, type VoxelType } from './metaimage-header';
export { openVolume, type LoadingVolume, type OpenVolumeOptions, type VoxelArray } from './open-volume';
export { slabSlices } from './plane-values';
export { probe } from './probe';
export { renderView, sameGrid } from './render-view';
export { checkView } from './view-checks';
export {
  canvasDistanceMm,
  canvasToVoxel,
  insideVolume,
  patientToVoxel,
  planeLayout,
  PLANE_AXES,
  sliceThrough,
  voxelToCanvas,
  voxelToPatient,
  type PlaneAxes,
  type PlaneLayout,
} from './view-mapping';
export * from './view-state';
export { type VoxelLayout } from './voxel-layout';
