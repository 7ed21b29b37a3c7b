import { ConversionLimits } from './conversion-limits';
import * as zlib from 'node:zlib';
import { reject, Rejection } from './rejection';
import { COMPONENT_TYPES, ComponentType, swappedBytes, Volume } from './volume';
import { checkGeometry, expectedDataBytes } from './volume-checks';

/** NIfTI-1 datatype codes the converter reads, with the component type and channels each means. */
const DATATYPES: Record<number, { type: ComponentType; components: number }> = {
  2: { type: 'uint8', components: 1 },
  4: { type: 'int16', components: 1 },
  8: { type: 'int32', components: 1 },
  16: { type: 'float32', components: 1 },
  64: { type: 'float64', components: 1 },
  128: { type: 'uint8', components: 3 },
  256: { type: 'int8', components: 1 },
  512: { type: 'uint16', components: 1 },
  768: { type: 'uint32', components: 1 },
  1024: { type: 'int64', components: 1 },
  1280: { type: 'uint64', components: 1 },
  2304: { type: 'uint8', components: 4 },
};

const HEADER_BYTES = 348;

/**
 * Reads a NIfTI-1 file (`.nii`, or `.nii.gz` already recognised by its gzip magic). Geometry
 * follows ITK: the sform when its code is set, else the qform, else the pixel dimensions; then
 * from NIfTI's RAS to LPS by negating x and y. Scaled data (scl_slope) becomes float32.
 */
export async function readNifti(file: Buffer, limits: ConversionLimits): Promise<Volume> {
  const gzipped = file[0] === 0x1f && file[1] === 0x8b;
  const content = gzipped ? await gunzipNifti(file, limits) : file;
  const header = content;
  if (header.length < HEADER_BYTES) reject('the file is too short for a NIfTI-1 header');
  let little = true;
  if (header.readInt32LE(0) !== HEADER_BYTES) {
    if (header.readInt32BE(0) !== HEADER_BYTES) reject('the file is not NIfTI-1 (sizeof_hdr is not 348)');
    little = false;
  }
  const magic = header.subarray(344, 348).toString('latin1');
  if (magic !== 'n+1\0')
    reject(`NIfTI magic "${magic.replace(/\0/g, '')}" is not a single-file NIfTI-1 ("n+1")`);
  const i16 = (at: number) => (little ? header.readInt16LE(at) : header.readInt16BE(at));
  const f32 = (at: number) => (little ? header.readFloatLE(at) : header.readFloatBE(at));

  const { voxOffset, bytes } = declaredLayout(header, limits);
  const dims = i16(40);
  const size = Array.from({ length: dims }, (_, i) => i16(42 + 2 * i));
  const kind = DATATYPES[i16(70)];

  const pixdim = Array.from({ length: dims }, (_, i) => Math.abs(f32(80 + 4 * i)) || 1);
  const spatial = Math.min(dims, 3);
  const { axes3, spacing3, origin3 } = geometry(header, little, pixdim, spatial);
  const axes = Array.from({ length: dims }, (_, i) =>
    Array.from({ length: dims }, (_, j) => (i < 3 && j < 3 ? (axes3[i]?.[j] ?? 0) : i === j ? 1 : 0)),
  );
  const spacing = Array.from({ length: dims }, (_, i) => (i < 3 ? spacing3[i] : pixdim[i]));
  const origin = Array.from({ length: dims }, (_, i) => (i < 3 ? origin3[i] : 0));
  checkGeometry(spacing, origin, axes);

  const body = content.subarray(voxOffset);
  if (body.length < bytes)
    reject(`the file is truncated: ${body.length} bytes of voxel data, ${bytes} expected`);
  let data: Buffer = body.subarray(0, bytes);
  if (!little) data = swappedBytes(data, COMPONENT_TYPES[kind.type].bytes);

  let componentType = kind.type;
  const slope = f32(112);
  const intercept = f32(116);
  if (
    Number.isFinite(slope) &&
    slope !== 0 &&
    (slope !== 1 || (Number.isFinite(intercept) && intercept !== 0))
  ) {
    data = rescaleToFloat32(data, kind.type, slope, Number.isFinite(intercept) ? intercept : 0);
    componentType = 'float32';
  }
  return { size, spacing, origin, axes, componentType, components: kind.components, data, metadata: {} };
}

/** Where the voxels start and how many bytes they take, from a header alone. */
function declaredLayout(header: Buffer, limits: ConversionLimits): { voxOffset: number; bytes: number } {
  const little = header.readInt32LE(0) === HEADER_BYTES;
  if (!little && header.readInt32BE(0) !== HEADER_BYTES)
    reject('the file is not NIfTI-1 (sizeof_hdr is not 348)');
  const i16 = (at: number) => (little ? header.readInt16LE(at) : header.readInt16BE(at));
  const dims = i16(40);
  if (dims < 2 || dims > 4) reject(`${dims} dimensions; 2 to 4 are supported`);
  const kind = DATATYPES[i16(70)];
  if (!kind) reject(`NIfTI datatype ${i16(70)} is not supported`);
  const size = Array.from({ length: dims }, (_, i) => i16(42 + 2 * i));
  const voxOffset = Math.floor(little ? header.readFloatLE(108) : header.readFloatBE(108));
  if (voxOffset < HEADER_BYTES || voxOffset > HEADER_BYTES + limits.maxHeaderBytes) {
    reject(`vox_offset ${voxOffset} is outside the header and its extensions`);
  }
  return { voxOffset, bytes: expectedDataBytes(size, kind.type, kind.components, limits) };
}

function geometry(header: Buffer, little: boolean, pixdim: number[], spatial: number) {
  const i16 = (at: number) => (little ? header.readInt16LE(at) : header.readInt16BE(at));
  const f32 = (at: number) => (little ? header.readFloatLE(at) : header.readFloatBE(at));
  const qformCode = i16(252);
  const sformCode = i16(254);
  // Columns of the 3x3 index-to-RAS matrix (direction times spacing) and the RAS offset.
  let columns: number[][];
  let offset: number[];
  if (sformCode > 0) {
    const rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c)));
    columns = [0, 1, 2].map((c) => rows.map((row) => row[c]));
    offset = rows.map((row) => row[3]);
  } else if (qformCode > 0) {
    const [b, c, d] = [f32(256), f32(260), f32(264)];
    const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
    const qfac = f32(76) < 0 ? -1 : 1;
    const rotation = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    const scale = [pixdim[0], pixdim[1] ?? 1, (pixdim[2] ?? 1) * qfac];
    columns = [0, 1, 2].map((col) => rotation.map((row) => row[col] * scale[col]));
    offset = [f32(268), f32(272), f32(276)];
  } else {
    columns = [0, 1, 2].map((col) => [0, 1, 2].map((row) => (row === col ? (pixdim[col] ?? 1) : 0)));
    offset = [0, 0, 0];
  }
  const toLps = (v: number[]) => [-v[0], -v[1], v[2]];
  const spacing3 = columns.map((col) => Math.hypot(...col));
  const axes3 = columns.map((col, i) => toLps(col.map((v) => v / (spacing3[i] || 1)))).slice(0, spatial);
  // A 2D image keeps the first two components of its axes and origin.
  return {
    axes3: axes3.map((axis) => axis.slice(0, spatial)),
    spacing3: spacing3.slice(0, spatial),
    origin3: toLps(offset).slice(0, spatial),
  };
}

function rescaleToFloat32(data: Buffer, type: ComponentType, slope: number, intercept: number): Buffer {
  const read: Record<ComponentType, (at: number) => number> = {
    uint8: (at) => data.readUInt8(at),
    int8: (at) => data.readInt8(at),
    uint16: (at) => data.readUInt16LE(at),
    int16: (at) => data.readInt16LE(at),
    uint32: (at) => data.readUInt32LE(at),
    int32: (at) => data.readInt32LE(at),
    // Scaled to float32 anyway, where 64-bit integers lose their exactness.
    uint64: (at) => Number(data.readBigUInt64LE(at)),
    int64: (at) => Number(data.readBigInt64LE(at)),
    float32: (at) => data.readFloatLE(at),
    float64: (at) => data.readDoubleLE(at),
  };
  const width = COMPONENT_TYPES[type].bytes;
  const count = data.length / width;
  const out = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) out.writeFloatLE(read[type](i * width) * slope + intercept, i * 4);
  return out;
}

/**
 * Gunzips a `.nii.gz` as a stream and stops as soon as the output passes what its own header
 * declares (vox_offset plus the voxel bytes): a decompression bomb costs at most the size that a
 * genuine file of that header would take.
 */
async function gunzipNifti(file: Buffer, limits: ConversionLimits): Promise<Buffer> {
  // Chunks gather until the header is in; then one buffer of the declared size takes the rest,
  // so the volume is held once, not once in chunks and again joined.
  let chunks: Buffer[] = [];
  let target: Buffer | undefined;
  let total = 0;
  let allowed = HEADER_BYTES + limits.maxHeaderBytes;
  const gunzip = zlib.createGunzip();
  const done = new Promise<void>((resolve, rejectStream) => {
    const fail = (err: unknown) => {
      gunzip.destroy();
      rejectStream(err);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (total + chunk.length > allowed) {
        return fail(
          new Rejection(`the gzip data expands beyond the ${allowed} bytes its NIfTI header declares`),
        );
      }
      if (target) {
        chunk.copy(target, total);
        total += chunk.length;
        return;
      }
      chunks.push(chunk);
      total += chunk.length;
      if (total >= HEADER_BYTES) {
        const head = Buffer.concat(chunks);
        try {
          const { voxOffset, bytes } = declaredLayout(head, limits);
          allowed = voxOffset + bytes;
        } catch (err) {
          return fail(err);
        }
        if (total > allowed) {
          return fail(
            new Rejection(`the gzip data expands beyond the ${allowed} bytes its NIfTI header declares`),
          );
        }
        target = Buffer.allocUnsafe(allowed);
        head.copy(target, 0);
        chunks = [];
      }
    });
    gunzip.on('end', () => resolve());
    gunzip.on('error', (err) =>
      rejectStream(new Rejection(`the gzip data is corrupt or truncated (${err.message})`)),
    );
  });
  gunzip.end(file);
  await done;
  return target ? target.subarray(0, total) : Buffer.concat(chunks);
}
