import { Vec3 } from './view-state';

/**
 * Where each voxel lies in a volume's array. Voxels are kept in bricks of 8 x 8 x 8 rather than
 * x fastest, so that a sagittal or coronal plane reads a few megabytes of neighbouring memory
 * rather than one cache line and one page per voxel across the whole volume (in x-fastest order
 * a sagittal plane of a 512 x 512 x 500 CT touches 64,000 pages: several times slower than axial).
 *
 * The offset of voxel (x, y, z) at time t is `x[x] + y[y] + z[z] + t * timeStride`: the brick
 * index and the place inside the brick both split by axis, so rendering adds three table entries.
 * An axis is bricked only when padding it to a multiple of 8 costs at most 1/16 of its size
 * (always for sizes that are multiples of 8), so padding adds under 20% in the worst case and
 * nothing for the usual 512 x 512 slices; other axes keep bricks 1 voxel thick along them.
 */
export interface VoxelLayout {
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly z: Int32Array;
  readonly timeStride: number;
  /** Elements of the array: every time point, padding included. */
  readonly elements: number;
  /** Whether the layout is plain x-fastest order (no axis bricked), so voxels arrive in place. */
  readonly linear: boolean;
}

const BRICK = 8;

export function voxelLayout(size: Vec3, timepoints: number): VoxelLayout {
  const edge = size.map((n) => {
    const padding = (BRICK - (n % BRICK)) % BRICK;
    return padding * 16 <= n ? BRICK : 1;
  });
  const padded = size.map((n, k) => Math.ceil(n / edge[k]) * edge[k]);
  const brickVoxels = edge[0] * edge[1] * edge[2];
  const bricks = padded.map((n, k) => n / edge[k]);
  // Per axis: the stride between bricks along it, and between voxels inside a brick.
  const brickStride = [brickVoxels, brickVoxels * bricks[0], brickVoxels * bricks[0] * bricks[1]];
  const voxelStride = [1, edge[0], edge[0] * edge[1]];
  const table = (k: number) =>
    Int32Array.from(
      { length: size[k] },
      (_, i) => Math.floor(i / edge[k]) * brickStride[k] + (i % edge[k]) * voxelStride[k],
    );
  const timeStride = padded[0] * padded[1] * padded[2];
  return {
    x: table(0),
    y: table(1),
    z: table(2),
    timeStride,
    elements: timeStride * timepoints,
    linear: edge.every((e) => e === 1),
  };
}
