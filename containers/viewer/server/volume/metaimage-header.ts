import { Vec3, VolumeGeometry } from './view-state';

/** Voxel types as the converter writes them (image-io's COMPONENT_TYPES), by MetaImage ElementType. */
const ELEMENT_TYPES = {
  MET_UCHAR: 'uint8',
  MET_CHAR: 'int8',
  MET_USHORT: 'uint16',
  MET_SHORT: 'int16',
  MET_UINT: 'uint32',
  MET_INT: 'int32',
  // MetaIO's MET_LONG and MET_ULONG are 4 bytes wide, whatever C's long is.
  MET_ULONG: 'uint32',
  MET_LONG: 'int32',
  MET_ULONG_LONG: 'uint64',
  MET_LONG_LONG: 'int64',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
} as const;

export type VoxelType = (typeof ELEMENT_TYPES)[keyof typeof ELEMENT_TYPES];

export const VOXEL_BYTES: Readonly<Record<VoxelType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  int64: 8,
  float32: 4,
  float64: 8,
};

/** A header longer than this is not one the converter wrote. */
export const MAX_HEADER_BYTES = 64 * 1024;

export interface MetaImageHeader {
  readonly geometry: VolumeGeometry;
  readonly voxelType: VoxelType;
  readonly compressed: boolean;
  /** Whether voxel bytes are big endian (the converter writes little endian). */
  readonly bigEndian: boolean;
  /** Bytes of voxel data, uncompressed: every time point. */
  readonly dataBytes: number;
  /** Where the voxel data starts in the file. */
  readonly dataOffset: number;
  /** Header keys and values as written (Modality, WindowCenter, WindowWidth among them). */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Reads the header of an `.mha` from its first bytes, or returns undefined while the bytes end
 * before the ElementDataFile line that closes it. The volume is always held as 3D (a 2D image has
 * one slice) with an optional 4th axis of time; the direction matrix's spatial part is kept.
 */
export function readMetaImageHeader(head: Buffer): MetaImageHeader | undefined {
  const fields: Record<string, string> = {};
  let offset = 0;
  for (;;) {
    const end = head.indexOf(0x0a, offset);
    if (end === -1) {
      if (head.length > MAX_HEADER_BYTES) fail(`the header is longer than ${MAX_HEADER_BYTES} bytes`);
      return undefined;
    }
    const line = head.subarray(offset, end).toString('latin1').replace(/\r$/, '');
    offset = end + 1;
    if (offset > MAX_HEADER_BYTES) fail(`the header is longer than ${MAX_HEADER_BYTES} bytes`);
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    const key = line.slice(0, equals).trim();
    if (equals === -1 || key === '') fail(`the header line "${line.slice(0, 60)}" is not "Key = Value"`);
    fields[key] = line.slice(equals + 1).trim();
    if (key === 'ElementDataFile') return headerOf(fields, offset);
  }
}

function headerOf(fields: Record<string, string>, dataOffset: number): MetaImageHeader {
  if (fields.ObjectType !== undefined && fields.ObjectType !== 'Image') {
    fail(`ObjectType = ${fields.ObjectType} is not Image`);
  }
  if (fields.ElementDataFile !== 'LOCAL') {
    fail(`the voxel data is in the file "${fields.ElementDataFile}"; only .mha with its data inline is read`);
  }
  const dims = wholeNumber(fields, 'NDims');
  if (dims < 2 || dims > 4) fail(`NDims = ${dims}; images of 2, 3 or 4 dimensions are read`);
  const size = numbers(fields, 'DimSize', dims);
  if (size.some((n) => !Number.isInteger(n) || n < 1))
    fail(`DimSize = ${fields.DimSize} is not whole positive numbers`);
  const elementType = required(fields, 'ElementType');
  const voxelType = ELEMENT_TYPES[elementType as keyof typeof ELEMENT_TYPES];
  if (!voxelType) fail(`ElementType ${elementType} is not supported`);
  const channels = fields.ElementNumberOfChannels ? wholeNumber(fields, 'ElementNumberOfChannels') : 1;
  if (channels !== 1)
    fail(`ElementNumberOfChannels = ${channels}; only images of one value per voxel are viewed`);

  const spacingKey = ['ElementSpacing', 'ElementSize'].find((k) => fields[k] !== undefined);
  const spacing = spacingKey ? numbers(fields, spacingKey, dims) : new Array<number>(dims).fill(1);
  if (spacing.some((s) => !(s > 0))) fail(`${spacingKey} = ${fields[spacingKey!]} is not positive`);
  const originKey = ['Offset', 'Origin', 'Position'].find((k) => fields[k] !== undefined);
  const origin = originKey ? numbers(fields, originKey, dims) : new Array<number>(dims).fill(0);
  const matrixKey = ['TransformMatrix', 'Rotation', 'Orientation'].find((k) => fields[k] !== undefined);
  const matrix = matrixKey ? numbers(fields, matrixKey, dims * dims) : undefined;
  // Row k of the matrix is the direction of index axis k; a 2D image's third axis is the normal.
  const row = (k: number): Vec3 => {
    if (k >= dims || k === 3) return k === 2 ? [0, 0, 1] : [0, 0, 0];
    const values = matrix
      ? matrix.slice(k * dims, k * dims + dims)
      : [0, 1, 2, 3].map((i) => (i === k ? 1 : 0));
    return [values[0], values[1], dims > 2 ? values[2] : 0];
  };
  const pad = (values: number[], fill: number): Vec3 => [values[0], values[1], dims > 2 ? values[2] : fill];

  const voxels = size.reduce((a, b) => a * b, 1);
  const dataBytes = voxels * VOXEL_BYTES[voxelType];
  if (!(voxels <= MAX_VOXELS)) {
    fail(`DimSize = ${fields.DimSize} is ${voxels} voxels, more than the ${MAX_VOXELS} one volume may hold`);
  }
  const modality = (fields.Modality ?? '').trim().toUpperCase();
  return {
    geometry: {
      size: pad(size, 1),
      spacing: pad(spacing, 1),
      origin: pad(origin, 0),
      direction: [row(0), row(1), row(2)],
      timepoints: dims === 4 ? size[3] : 1,
      units: modality === 'CT' ? 'HU' : 'image units',
    },
    voxelType,
    compressed: /^true$/i.test(fields.CompressedData ?? 'False'),
    bigEndian: /^true$/i.test(fields.BinaryDataByteOrderMSB ?? fields.ElementByteOrderMSB ?? 'False'),
    dataBytes,
    dataOffset,
    fields,
  };
}

/** Voxels of one volume: its array, padded into bricks, still has 32-bit offsets (`voxel-layout.ts`). */
const MAX_VOXELS = 2 ** 30;

/** An `.mha` the viewer cannot read: the message says what is wrong with it. */
export class VolumeReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeReadError';
  }
}

function fail(reason: string): never {
  throw new VolumeReadError(`cannot read the image: ${reason}`);
}

function required(fields: Record<string, string>, key: string): string {
  const value = fields[key];
  if (value === undefined || value === '') fail(`the header has no ${key}`);
  return value;
}

function wholeNumber(fields: Record<string, string>, key: string): number {
  const value = Number(required(fields, key));
  if (!Number.isInteger(value)) fail(`${key} = ${fields[key]} is not a whole number`);
  return value;
}

function numbers(fields: Record<string, string>, key: string, count: number): number[] {
  const values = required(fields, key).split(/\s+/).map(Number);
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    fail(`${key} = ${fields[key]} should be ${count} numbers`);
  }
  return values;
}
