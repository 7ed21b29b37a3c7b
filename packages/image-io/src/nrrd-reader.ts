import { ConversionLimits } from './conversion-limits';
import { reject } from './rejection';
import { COMPONENT_TYPES, ComponentType, identityAxes, swappedBytes, Volume } from './volume';
import { checkGeometry, expectedDataBytes, inflateExactly } from './volume-checks';

const TYPES: Record<string, ComponentType> = {
  'signed char': 'int8',
  int8: 'int8',
  int8_t: 'int8',
  uchar: 'uint8',
  'unsigned char': 'uint8',
  uint8: 'uint8',
  uint8_t: 'uint8',
  short: 'int16',
  'short int': 'int16',
  'signed short': 'int16',
  'signed short int': 'int16',
  int16: 'int16',
  int16_t: 'int16',
  ushort: 'uint16',
  'unsigned short': 'uint16',
  'unsigned short int': 'uint16',
  uint16: 'uint16',
  uint16_t: 'uint16',
  int: 'int32',
  'signed int': 'int32',
  int32: 'int32',
  int32_t: 'int32',
  uint: 'uint32',
  'unsigned int': 'uint32',
  uint32: 'uint32',
  uint32_t: 'uint32',
  longlong: 'int64',
  'long long': 'int64',
  'long long int': 'int64',
  'signed long long': 'int64',
  'signed long long int': 'int64',
  int64: 'int64',
  int64_t: 'int64',
  ulonglong: 'uint64',
  'unsigned long long': 'uint64',
  'unsigned long long int': 'uint64',
  uint64: 'uint64',
  uint64_t: 'uint64',
  float: 'float32',
  double: 'float64',
};

/** Axis kinds that hold the values of one voxel rather than a spatial axis. */
const COMPONENT_KINDS = new Set([
  'vector',
  'covariant-vector',
  'rgb-color',
  'rgba-color',
  '3-color',
  '4-color',
  'list',
  'point',
  'normal',
]);

/**
 * Reads an NRRD file with its header attached (`.nrrd`): raw or gzip encoding, either byte order,
 * geometry from `space directions` and `space origin` in LPS or RAS (turned into LPS), or from
 * `spacings`. A first axis of a component kind (RGB, vector) becomes the voxel's channels.
 * Detached data files are refused: their names would point outside the upload.
 */
export function readNrrd(file: Buffer, limits: ConversionLimits): Volume {
  if (!file.subarray(0, 8).toString('latin1').startsWith('NRRD000'))
    reject('the file does not start with an NRRD magic line');
  const end = file.indexOf('\n\n');
  if (end === -1 || end > limits.maxHeaderBytes)
    reject('the NRRD header does not end with a blank line within the limit');
  const fields: Record<string, string> = {};
  for (const line of file.subarray(0, end).toString('latin1').split('\n').slice(1)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = line.match(/^([^:]+):=?\s*(.*?)\s*$/);
    if (!match) reject(`the header line "${line.slice(0, 60)}" is not "field: value"`);
    fields[match[1].trim().toLowerCase()] = match[2];
  }
  if (fields['data file'] || fields.datafile)
    reject('NRRD with a detached data file is not supported; use a .nrrd with attached data');

  const componentType = TYPES[(fields.type ?? '').toLowerCase()];
  if (!componentType) reject(`NRRD type "${fields.type ?? ''}" is not supported`);
  const allSizes = (fields.sizes ?? '').split(/\s+/).map(Number);
  const kinds = (fields.kinds ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const hasComponents = kinds.length === allSizes.length && COMPONENT_KINDS.has(kinds[0]);
  const components = hasComponents ? allSizes[0] : 1;
  const size = hasComponents ? allSizes.slice(1) : allSizes;
  const bytes = expectedDataBytes(size, componentType, components, limits);
  const dims = size.length;

  const space = (fields.space ?? '').toLowerCase();
  const flip = space === 'right-anterior-superior' || space === 'ras' ? [-1, -1, 1] : [1, 1, 1];
  if (space && !['left-posterior-superior', 'lps', 'right-anterior-superior', 'ras'].includes(space)) {
    reject(`NRRD space "${fields.space}" is not supported; LPS and RAS are`);
  }
  let spacing: number[];
  let axes: number[][];
  let origin: number[];
  if (fields['space directions']) {
    const vectors = [...fields['space directions'].matchAll(/\(([^)]*)\)|none/g)]
      .map((m) => (m[1] === undefined ? undefined : m[1].split(',').map(Number)))
      .filter((v): v is number[] => v !== undefined);
    if (vectors.length !== dims || vectors.some((v) => v.length !== dims)) {
      reject(`space directions should hold ${dims} vectors of ${dims} numbers`);
    }
    spacing = vectors.map((v) => Math.hypot(...v));
    axes = vectors.map((v, i) => v.map((x, j) => (x / spacing[i]) * (flip[j] ?? 1)));
    const originMatch = fields['space origin']?.match(/\(([^)]*)\)/);
    origin = originMatch
      ? originMatch[1].split(',').map((x, j) => Number(x) * (flip[j] ?? 1))
      : new Array(dims).fill(0);
  } else {
    spacing = fields.spacings
      ? fields.spacings
          .split(/\s+/)
          .map(Number)
          .slice(hasComponents ? 1 : 0)
      : new Array(dims).fill(1);
    axes = identityAxes(dims);
    origin = new Array(dims).fill(0);
  }
  if (origin.length !== dims) reject(`space origin should hold ${dims} numbers`);
  checkGeometry(spacing, origin, axes);

  const raw = file.subarray(end + 2);
  const encoding = (fields.encoding ?? '').toLowerCase();
  let data: Buffer;
  if (encoding === 'raw') {
    if (raw.length < bytes)
      reject(`the file is truncated: ${raw.length} bytes of voxel data, ${bytes} expected`);
    data = raw.subarray(0, bytes);
  } else if (encoding === 'gzip' || encoding === 'gz') {
    data = inflateExactly(raw, bytes, 'gzip');
  } else {
    reject(`NRRD encoding "${fields.encoding ?? ''}" is not supported; raw and gzip are`);
  }
  if ((fields.endian ?? 'little').toLowerCase() === 'big')
    data = swappedBytes(data, COMPONENT_TYPES[componentType].bytes);
  return { size, spacing, origin, axes, componentType, components, data, metadata: {} };
}
