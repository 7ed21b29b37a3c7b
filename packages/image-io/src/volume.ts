import { PieceDeflater } from './parallel-deflate';

/**
 * An image in memory as the converter passes it between readers and writers: voxels in x-fastest
 * order, little endian, and geometry in LPS (DICOM's and ITK's patient space): voxel index i
 * lies at `origin + sum_k index[k] * spacing[k] * axes[k]`.
 */
export const COMPONENT_TYPES = {
  uint8: { bytes: 1, metaType: 'MET_UCHAR' },
  int8: { bytes: 1, metaType: 'MET_CHAR' },
  uint16: { bytes: 2, metaType: 'MET_USHORT' },
  int16: { bytes: 2, metaType: 'MET_SHORT' },
  uint32: { bytes: 4, metaType: 'MET_UINT' },
  int32: { bytes: 4, metaType: 'MET_INT' },
  // numpy's default integer: label maps are often written with it.
  uint64: { bytes: 8, metaType: 'MET_ULONG_LONG' },
  int64: { bytes: 8, metaType: 'MET_LONG_LONG' },
  float32: { bytes: 4, metaType: 'MET_FLOAT' },
  float64: { bytes: 8, metaType: 'MET_DOUBLE' },
} as const;

export type ComponentType = keyof typeof COMPONENT_TYPES;

export interface Volume {
  /** Voxels along each axis, x first. */
  readonly size: readonly number[];
  /** Millimetres between voxel centres along each axis. */
  readonly spacing: readonly number[];
  /** Position of the first voxel's centre. */
  readonly origin: readonly number[];
  /** Unit direction of each index axis: `axes[k]` has one entry per dimension. */
  readonly axes: readonly (readonly number[])[];
  readonly componentType: ComponentType;
  /** Values per voxel: 1 for grey, 3 for RGB, 4 for RGBA. */
  readonly components: number;
  /** Voxel bytes, little endian, components interleaved. */
  readonly data: Buffer;
  /** Whitelisted, non-identifying keys to carry into the output header. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The zlib stream of `data`, where a reader started it while filling `data` (a DICOM series
   * slice by slice), so compression overlaps reading; the writer makes it otherwise.
   */
  readonly voxelStream?: PieceDeflater;
}

export function voxelCount(size: readonly number[]): number {
  return size.reduce((a, b) => a * b, 1);
}

export function identityAxes(dimensions: number): number[][] {
  return Array.from({ length: dimensions }, (_, i) =>
    Array.from({ length: dimensions }, (_, j) => (i === j ? 1 : 0)),
  );
}

/**
 * A copy with the byte order of every component reversed (for big-endian sources); the source,
 * often a view of the uploaded file, is left as it is.
 */
export function swappedBytes(data: Buffer, componentBytes: number): Buffer {
  const copy = Buffer.from(data);
  if (componentBytes === 2) copy.swap16();
  else if (componentBytes === 4) copy.swap32();
  else if (componentBytes === 8) copy.swap64();
  return copy;
}
