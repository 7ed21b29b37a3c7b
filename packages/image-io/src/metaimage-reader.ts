import { ConversionLimits } from './conversion-limits';
import { reject } from './rejection';
import { COMPONENT_TYPES, ComponentType, identityAxes, swappedBytes, Volume } from './volume';
import { checkGeometry, expectedDataBytes, inflateExactly } from './volume-checks';

const BY_META_TYPE: Record<string, ComponentType> = {
  ...Object.fromEntries(
    Object.entries(COMPONENT_TYPES).map(([type, { metaType }]) => [metaType, type as ComponentType]),
  ),
  // MetaIO's MET_LONG and MET_ULONG are 4 bytes wide, whatever C's long is.
  MET_LONG: 'int32',
  MET_ULONG: 'uint32',
};

const NUMBER = String.raw`[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?`;
/** A number, or a list of them in brackets, as grand-challenge accepts window settings. */
const NUMBER_OR_LIST = new RegExp(String.raw`^(?:${NUMBER}|\[(?:${NUMBER},\s?)*${NUMBER}\])$`);

/**
 * Header keys copied to the output when present: display hints, never identifying fields, each
 * with the form its value must have (grand-challenge's for those it keeps); a value of another
 * form refuses the file, naming the key, rather than carry markup or noise into the image.
 */
const KEPT_KEYS: Readonly<Record<string, RegExp>> = {
  Modality: /^[A-Z0-9 _]{1,16}$/,
  WindowCenter: NUMBER_OR_LIST,
  WindowWidth: NUMBER_OR_LIST,
  SliceThickness: new RegExp(`^${NUMBER}$`),
};

/**
 * Reads a MetaImage: `.mha` with its data inline (ElementDataFile = LOCAL) or `.mhd` whose data
 * lives in a file named by the header. That file is looked up only among the upload's own files
 * (`siblings`), by plain name: a header naming a path, `..` or a file outside the upload is refused.
 */
export function readMetaImage(
  file: Buffer,
  siblings: ReadonlyMap<string, () => Buffer>,
  limits: ConversionLimits,
): Volume {
  const header = readMetaImageHeader(file, limits);
  const { fields, dataOffset, size, spacing, origin, axes, componentType, components, bytes, dataFile } =
    header;
  let raw: Buffer;
  if (dataFile === 'LOCAL') {
    raw = file.subarray(dataOffset);
  } else {
    const load = siblings.get(dataFile);
    if (!load) reject(`the header names the data file "${dataFile}", which is not part of this upload`);
    raw = load();
  }

  let data: Buffer;
  if (header.compressed) {
    data = inflateExactly(raw, bytes, 'zlib');
  } else {
    if (raw.length < bytes)
      reject(`the file is truncated: ${raw.length} bytes of voxel data, ${bytes} expected`);
    data = raw.subarray(0, bytes);
  }
  const msb = /^true$/i.test(fields.BinaryDataByteOrderMSB ?? fields.ElementByteOrderMSB ?? 'False');
  if (msb) data = swappedBytes(data, COMPONENT_TYPES[componentType].bytes);

  return { size, spacing, origin, axes, componentType, components, data, metadata: keptFields(fields) };
}

/** The display hints of a header, each checked against its form; window centres and widths in pairs. */
function keptFields(fields: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, form] of Object.entries(KEPT_KEYS)) {
    const value = fields[key];
    if (value === undefined) continue;
    if (!form.test(value)) reject(`${key} = ${value.slice(0, 60)} is not ${describeForm(key)}`);
    kept[key] = value;
  }
  const { WindowCenter: center, WindowWidth: width } = kept;
  const count = (value: string) => (value.startsWith('[') ? value.split(',').length : 1);
  if ((center === undefined) !== (width === undefined)) {
    reject(`the header has ${center === undefined ? 'WindowWidth' : 'WindowCenter'} without its pair`);
  }
  if (center !== undefined && width !== undefined && count(center) !== count(width)) {
    reject(`WindowCenter has ${count(center)} values and WindowWidth ${count(width)}; they come in pairs`);
  }
  return kept;
}

function describeForm(key: string): string {
  if (key === 'Modality') return 'a DICOM modality (up to 16 capital letters, digits, spaces or _)';
  if (key === 'SliceThickness') return 'a number';
  return 'a number or a list of numbers in brackets';
}

/** What a MetaImage header says of its volume, checked against the limits before any data is read. */
export interface MetaImageHeader {
  readonly fields: Readonly<Record<string, string>>;
  /** Where the data starts in a file that holds it (ElementDataFile = LOCAL). */
  readonly dataOffset: number;
  readonly size: number[];
  readonly spacing: number[];
  readonly origin: number[];
  readonly axes: number[][];
  readonly componentType: ComponentType;
  readonly components: number;
  /** Bytes of voxel data, uncompressed. */
  readonly bytes: number;
  /** `LOCAL`, or the plain name of the file that holds the data. */
  readonly dataFile: string;
  readonly compressed: boolean;
}

/** Reads and checks a MetaImage header; `file` needs to hold only the header. */
export function readMetaImageHeader(file: Buffer, limits: ConversionLimits): MetaImageHeader {
  const { fields, dataOffset } = parseHeader(file, limits);
  const dims = integer(fields, 'NDims');
  const size = numbers(fields, 'DimSize', dims);
  const elementType = required(fields, 'ElementType');
  const componentType = BY_META_TYPE[elementType];
  if (!componentType) reject(`ElementType ${elementType} is not supported`);
  const components = fields.ElementNumberOfChannels ? integer(fields, 'ElementNumberOfChannels') : 1;
  const bytes = expectedDataBytes(size, componentType, components, limits);

  // As ITK reads MetaImage: the element size stands in for a spacing the header does not give.
  const spacingKey = ['ElementSpacing', 'ElementSize'].find((k) => fields[k] !== undefined);
  const spacing = spacingKey ? numbers(fields, spacingKey, dims) : new Array(dims).fill(1);
  const originKey = ['Offset', 'Origin', 'Position'].find((k) => fields[k] !== undefined);
  const origin = originKey ? numbers(fields, originKey, dims) : new Array(dims).fill(0);
  const matrixKey = ['TransformMatrix', 'Rotation', 'Orientation'].find((k) => fields[k] !== undefined);
  const matrix = matrixKey ? numbers(fields, matrixKey, dims * dims) : undefined;
  const axes = matrix
    ? Array.from({ length: dims }, (_, i) => matrix.slice(i * dims, i * dims + dims))
    : identityAxes(dims);
  checkGeometry(spacing, origin, axes);

  const dataFile = required(fields, 'ElementDataFile');
  if (dataFile !== 'LOCAL' && (!/^[^/\\]+$/.test(dataFile) || dataFile === '..' || dataFile === '.')) {
    reject(`the header names the data file "${dataFile}", which is not a plain file name of this upload`);
  }
  const compressed = /^true$/i.test(fields.CompressedData ?? 'False');
  return {
    fields,
    dataOffset,
    size,
    spacing,
    origin,
    axes,
    componentType,
    components,
    bytes,
    dataFile,
    compressed,
  };
}

/**
 * Key = value lines up to and including ElementDataFile; the data follows that line. Keys are
 * whatever precedes `=` (ITK skips those it does not know, spaces and all); a line without `=`
 * is refused, as ITK cannot read the header after it.
 */
function parseHeader(
  file: Buffer,
  limits: ConversionLimits,
): { fields: Record<string, string>; dataOffset: number } {
  const fields: Record<string, string> = {};
  let offset = 0;
  while (offset < file.length) {
    if (offset > limits.maxHeaderBytes) reject(`the header is longer than ${limits.maxHeaderBytes} bytes`);
    const end = file.indexOf(0x0a, offset);
    const lineEnd = end === -1 ? file.length : end;
    const line = file.subarray(offset, lineEnd).toString('latin1').replace(/\r$/, '');
    offset = lineEnd + 1;
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    const key = line.slice(0, equals).trim();
    if (equals === -1 || key === '') reject(`the header line "${line.slice(0, 60)}" is not "Key = Value"`);
    fields[key] = line.slice(equals + 1).trim();
    if (key === 'ElementDataFile') return { fields, dataOffset: offset };
  }
  reject('the header has no ElementDataFile line');
}

function required(fields: Record<string, string>, key: string): string {
  const value = fields[key];
  if (value === undefined || value === '') reject(`the header has no ${key}`);
  return value;
}

function integer(fields: Record<string, string>, key: string): number {
  const value = Number(required(fields, key));
  if (!Number.isInteger(value)) reject(`${key} = ${fields[key]} is not a whole number`);
  return value;
}

function numbers(fields: Record<string, string>, key: string, count: number): number[] {
  const values = required(fields, key).split(/\s+/).map(Number);
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) {
    reject(`${key} = ${fields[key]} should be ${count} numbers`);
  }
  return values;
}
