import { writeMetaImage } from '../../packages/image-io/src/metaimage-writer';
import { ComponentType, COMPONENT_TYPES, identityAxes, Volume } from '../../packages/image-io/src/volume';
import { LoadingVolume, openVolume } from '../../containers/viewer/server/volume';
import { ViewState } from '../../containers/viewer/server/volume/view-state';

export interface SyntheticVolume {
  /** Voxels along each axis: 2, 3 or 4 of them (the 4th is time). */
  readonly size: readonly number[];
  readonly spacing?: readonly number[];
  readonly origin?: readonly number[];
  readonly axes?: readonly (readonly number[])[];
  readonly type?: ComponentType;
  readonly metadata?: Record<string, string>;
  /** The value of each voxel from its index (x, y, z, t). */
  readonly value: (x: number, y: number, z: number, t: number) => number;
}

/** The voxels of a synthetic volume, little endian, x fastest. */
export function voxelBytes(spec: SyntheticVolume): Buffer {
  const [sx, sy, sz = 1, st = 1] = spec.size;
  const type = spec.type ?? 'int16';
  const width = COMPONENT_TYPES[type].bytes;
  const data = Buffer.alloc(sx * sy * sz * st * width);
  let o = 0;
  for (let t = 0; t < st; t++)
    for (let z = 0; z < sz; z++)
      for (let y = 0; y < sy; y++)
        for (let x = 0; x < sx; x++, o += width) writeValue(data, o, type, spec.value(x, y, z, t));
  return data;
}

function writeValue(data: Buffer, offset: number, type: ComponentType, value: number): void {
  if (type === 'uint8') data.writeUInt8(value, offset);
  else if (type === 'int8') data.writeInt8(value, offset);
  else if (type === 'uint16') data.writeUInt16LE(value, offset);
  else if (type === 'int16') data.writeInt16LE(value, offset);
  else if (type === 'uint32') data.writeUInt32LE(value, offset);
  else if (type === 'int32') data.writeInt32LE(value, offset);
  else if (type === 'uint64') data.writeBigUInt64LE(BigInt(value), offset);
  else if (type === 'int64') data.writeBigInt64LE(BigInt(value), offset);
  else if (type === 'float32') data.writeFloatLE(value, offset);
  else data.writeDoubleLE(value, offset);
}

/** The `.mha` the converter would write for the volume: zlib-compressed, through image-io's writer. */
export function syntheticMha(spec: SyntheticVolume): Promise<Buffer> {
  const dims = spec.size.length;
  const volume: Volume = {
    size: spec.size,
    spacing: spec.spacing ?? new Array(dims).fill(1),
    origin: spec.origin ?? new Array(dims).fill(0),
    axes: spec.axes ?? identityAxes(dims),
    componentType: spec.type ?? 'int16',
    components: 1,
    data: voxelBytes(spec),
    metadata: spec.metadata ?? {},
  };
  return writeMetaImage(volume);
}

/** The file as a download delivers it: in chunks of `bytes`. */
export async function* chunked(file: Buffer, bytes = 1000): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < file.length; offset += bytes) {
    yield file.subarray(offset, offset + bytes);
  }
}

/** Opens a whole file, fed in chunks of 1000 bytes, and waits for every voxel. */
export async function loaded(file: Buffer): Promise<LoadingVolume> {
  const volume = await openVolume(chunked(file));
  await volume.done;
  return volume;
}

export function view(overrides: Partial<ViewState> = {}): ViewState {
  return {
    plane: 'axial',
    position: [0, 0, 0],
    timepoint: 0,
    window: { width: 256, level: 128 },
    zoom: 1,
    pan: [0, 0],
    overlayOpacity: 0,
    viewport: { width: 64, height: 64 },
    ...overrides,
  };
}

/** The grey at a canvas pixel of a rendered frame (its red channel; grey pixels have all three equal). */
export function pixel(
  frame: { width: number; rgb: Uint8Array },
  x: number,
  y: number,
): [number, number, number] {
  const o = (y * frame.width + x) * 3;
  return [frame.rgb[o], frame.rgb[o + 1], frame.rgb[o + 2]];
}

/** Whether every voxel of the volume holds the value the spec gives it; the first that does not, else undefined. */
export function firstWrongVoxel(volume: LoadingVolume, spec: SyntheticVolume): string | undefined {
  const [sx, sy, sz = 1, st = 1] = spec.size;
  for (let t = 0; t < st; t++)
    for (let z = 0; z < sz; z++)
      for (let y = 0; y < sy; y++)
        for (let x = 0; x < sx; x++) {
          const expected = spec.value(x, y, z, t);
          const actual = volume.value([x, y, z], t);
          if (actual !== expected) return `(${x}, ${y}, ${z}, ${t}) holds ${actual}, not ${expected}`;
        }
  return undefined;
}
