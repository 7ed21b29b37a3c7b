import { LoadingVolume } from './open-volume';
import { WINDOW_PRESETS, WindowLevel } from './view-state';

/** Values sampled for the histogram: plenty for percentiles, few enough to sort in tens of ms. */
const SAMPLES = 1 << 20;

/**
 * A window from the histogram of the voxels arrived so far: from the 1st to the 99th percentile,
 * as MR and other images without fixed units need (sampled evenly over at most a million voxels).
 */
export function autoWindow(volume: LoadingVolume): WindowLevel {
  const voxels = volume.voxels;
  // Voxels arrive x fastest, then y, z and time: the first `arrived` of that order are present.
  const arrived = Math.floor(volume.loadedBytes() / voxels.BYTES_PER_ELEMENT);
  if (arrived === 0) return { width: 1, level: 0 };
  const [sx, sy, sz] = volume.geometry.size;
  const { x: xs, y: ys, z: zs, timeStride } = volume.layout;
  const step = Math.max(1, Math.floor(arrived / SAMPLES));
  const samples = new Float64Array(Math.ceil(arrived / step));
  for (let i = 0, s = 0; i < arrived; i += step, s++) {
    const x = i % sx;
    const y = Math.floor(i / sx) % sy;
    const z = Math.floor(i / (sx * sy)) % sz;
    const t = Math.floor(i / (sx * sy * sz));
    samples[s] = Number(voxels[xs[x] + ys[y] + zs[z] + t * timeStride]);
  }
  samples.sort();
  const low = samples[Math.floor(0.01 * (samples.length - 1))];
  const high = samples[Math.ceil(0.99 * (samples.length - 1))];
  const integer = !(voxels instanceof Float32Array || voxels instanceof Float64Array);
  const width = Math.max(high - low, integer ? 1 : Number.EPSILON * Math.max(1, Math.abs(low)));
  return { width, level: (low + high) / 2 };
}

/**
 * The window a view opens with: the header's own (its first WindowCenter and WindowWidth), else
 * soft tissue for a CT, else `autoWindow`.
 */
export function defaultWindow(volume: LoadingVolume): WindowLevel {
  const first = (value: string | undefined) => Number((value ?? '').replace(/^\[/, '').split(',')[0]);
  const level = first(volume.header.WindowCenter);
  const width = first(volume.header.WindowWidth);
  if (Number.isFinite(level) && width > 0) return { width, level };
  if (volume.geometry.units === 'HU') return WINDOW_PRESETS.find((p) => p.name === 'soft tissue')!.window;
  return autoWindow(volume);
}
