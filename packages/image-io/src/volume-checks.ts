import * as zlib from 'node:zlib';
import { ConversionLimits } from './conversion-limits';
import { reject, thrownText } from './rejection';
import { COMPONENT_TYPES, ComponentType, voxelCount } from './volume';

/** Bytes the voxel data must have; refuses sizes, channels and totals beyond the limits. */
export function expectedDataBytes(
  size: readonly number[],
  componentType: ComponentType,
  components: number,
  limits: ConversionLimits,
): number {
  if (size.length < 2 || size.length > 4) reject(`${size.length} dimensions; 2 to 4 are supported`);
  for (const length of size) {
    if (!Number.isInteger(length) || length < 1)
      reject(`image size ${size.join(' x ')} has an axis without voxels`);
    if (length > limits.maxAxisLength) {
      reject(`image size ${size.join(' x ')} exceeds ${limits.maxAxisLength} voxels along an axis`);
    }
  }
  if (!Number.isInteger(components) || components < 1)
    reject(`${components} channels per voxel is not valid`);
  if (components > limits.maxComponents)
    reject(`too many channels: ${components}, at most ${limits.maxComponents}`);
  const bytes = voxelCount(size) * components * COMPONENT_TYPES[componentType].bytes;
  if (bytes > limits.maxImageBytes) {
    reject(
      `the image would take ${bytes} bytes uncompressed, more than the limit of ${limits.maxImageBytes}`,
    );
  }
  return bytes;
}

/** Decompresses zlib or gzip data, refusing anything that does not come to exactly `expected` bytes. */
export function inflateExactly(compressed: Buffer, expected: number, format: 'zlib' | 'gzip'): Buffer {
  let data: Buffer;
  try {
    const options = { maxOutputLength: Math.max(expected, 1) };
    data = format === 'gzip' ? zlib.gunzipSync(compressed, options) : zlib.inflateSync(compressed, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      reject(`the compressed data expands beyond the ${expected} bytes its header declares`);
    }
    reject(`the compressed data is corrupt or truncated (${thrownText(err)})`);
  }
  if (data.length !== expected) {
    reject(`the compressed data expands to ${data.length} bytes, but the header declares ${expected}`);
  }
  return data;
}

/** Checks geometry numbers: finite, positive spacing, unit-length and non-degenerate axes. */
export function checkGeometry(
  spacing: readonly number[],
  origin: readonly number[],
  axes: readonly (readonly number[])[],
): void {
  if (spacing.some((s) => !Number.isFinite(s) || s <= 0))
    reject(`voxel spacing ${spacing.join(' ')} must be positive`);
  if (origin.some((o) => !Number.isFinite(o))) reject(`origin ${origin.join(' ')} is not a position`);
  for (const axis of axes) {
    const length = Math.hypot(...axis);
    if (!Number.isFinite(length) || Math.abs(length - 1) > 1e-3) {
      reject(`the axis direction ${axis.join(' ')} is not a unit vector`);
    }
  }
}
