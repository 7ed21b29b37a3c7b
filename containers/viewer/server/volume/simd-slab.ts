import { Slab } from './view-state';
import { VoxelLayout } from './voxel-layout';

/**
 * Slabs of 16-bit volumes reduced with WebAssembly SIMD, eight voxels an instruction: a 20 mm
 * slab of a 512 x 512 CT reads 5 to 7 million voxels, which plain JavaScript takes 20 to 30 ms to
 * reduce (about 2 ns a voxel) and SIMD a few. The voxels must lie in the module's memory, so such
 * a volume is allocated in one (`voxelBuffer`), with scratch space after its voxels.
 *
 * Only volumes bricked along all three axes take this path: then every brick is 8 x 8 x 8 voxels
 * with x fastest, so 8 voxels along x are one 128-bit vector. An axial or coronal slab reduces
 * whole vectors slice by slice; a sagittal slab reduces the lanes of each vector (x lies across
 * its slices), the lanes outside the slab masked away. Results are written brick by brick: 64
 * values a brick, across fastest (`tiledTable`).
 */

/** The little of the WebAssembly API used here (this project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What a volume allocated in a module's memory can reduce. */
export interface SlabKernels {
  readonly memory: WasmMemory;
  /** Byte offset of the scratch space after the voxels. */
  readonly scratch: number;
  readonly signed: boolean;
  readonly exports: Record<string, (...args: number[]) => void>;
}

const kernelsByBuffer = new WeakMap<ArrayBufferLike, SlabKernels>();

/** A wasm32 memory holds at most 4 GiB; larger volumes stay in plain arrays. */
const MAX_MEMORY_BYTES = 4 * 1024 ** 3 - 65536;
const PAGE = 65536;

/**
 * The buffer for a volume's voxels: in a module's memory where this path applies (16-bit voxels,
 * every axis bricked, WebAssembly SIMD available), else a plain `ArrayBuffer`.
 */
export function voxelBuffer(
  bytes: number,
  voxelType: string,
  layout: VoxelLayout,
  size: readonly number[],
): ArrayBuffer {
  const signed = voxelType === 'int16';
  if (!(signed || voxelType === 'uint16') || !fullyBricked(layout) || !kernelModule)
    return new ArrayBuffer(bytes);
  const scratch = Math.ceil(bytes / 16) * 16;
  const total = scratch + scratchLayout(size).bytes;
  if (total > MAX_MEMORY_BYTES) return new ArrayBuffer(bytes);
  let memory: WasmMemory;
  try {
    memory = new wasm.Memory({ initial: Math.ceil(total / PAGE) });
  } catch {
    // No address space for a module's memory (a process limit, say): plain JavaScript then.
    return new ArrayBuffer(bytes);
  }
  const instance = new wasm.Instance(kernelModule, { env: { memory } });
  const exports = instance.exports as SlabKernels['exports'];
  kernelsByBuffer.set(memory.buffer, { memory, scratch, signed, exports });
  return memory.buffer;
}

export function slabKernels(buffer: ArrayBufferLike): SlabKernels | undefined {
  return kernelsByBuffer.get(buffer);
}

/**
 * Scratch space, in bytes from its start: slice offsets (4 bytes a slice), lane masks (16 bytes a
 * brick), then a plane of results, brick by brick (64 values of 4 bytes a brick at most).
 */
function scratchLayout(size: readonly number[]): { masks: number; out: number; bytes: number } {
  const bricks = size.map((n) => Math.ceil(n / 8));
  const planeBricks = Math.max(bricks[0] * bricks[1], bricks[0] * bricks[2], bricks[1] * bricks[2]);
  const masks = Math.ceil((Math.max(...size) * 4) / 16) * 16;
  const out = masks + Math.max(...bricks) * 16;
  return { masks, out, bytes: out + planeBricks * 64 * 4 };
}

/** Whether every axis is kept in bricks of 8 voxels (`voxel-layout.ts`). */
function fullyBricked(layout: VoxelLayout): boolean {
  return layout.x[1] === 1 && layout.y[1] === 8 && layout.z[1] === 64;
}

/**
 * Offsets into results written brick by brick, for the indices `from` to `to` of an axis: bricks
 * `brickStride` apart, neighbouring voxels in a brick `innerStride` apart (0 outside the range).
 */
function tiledTable(
  length: number,
  from: number,
  to: number,
  brickStride: number,
  innerStride: number,
): Int32Array {
  const table = new Int32Array(length);
  for (let i = from; i <= to; i++) table[i] = ((i >> 3) - (from >> 3)) * brickStride + (i & 7) * innerStride;
  return table;
}

/**
 * Reduces the slab of slices `first` to `last` along `through` (0 x, 1 y, 2 z) over the bricks
 * that hold across indices `a0..a1` and down indices `d0..d1`, at time offset `timeBase`
 * (elements). Returns the values (16-bit, or 32-bit sums for the mean) with their tables; the
 * values lie in the volume's scratch space, so they hold until its next slab is reduced.
 */
export function reduceSlab(
  kernels: SlabKernels,
  layout: VoxelLayout,
  axes: { across: 0 | 1 | 2; down: 0 | 1 | 2; through: 0 | 1 | 2 },
  range: { a0: number; a1: number; d0: number; d1: number; first: number; last: number },
  timeBase: number,
  mode: Slab['mode'],
): { values: Int16Array | Uint16Array | Int32Array; across: Int32Array; down: Int32Array } {
  const { memory, scratch, signed, exports } = kernels;
  const tables = [layout.x, layout.y, layout.z];
  // Byte stride between neighbouring bricks along an axis (0 where the axis has one brick).
  const brickStride = (k: number) => (tables[k].length > 8 ? tables[k][8] * 2 : 0);
  const { a0, a1, d0, d1, first, last } = range;
  const bA0 = a0 >> 3;
  const bD0 = d0 >> 3;
  const nBa = (a1 >> 3) - bA0 + 1;
  const nBd = (d1 >> 3) - bD0 + 1;
  const strideA = brickStride(axes.across);
  const strideD = brickStride(axes.down);
  const src = (timeBase + tables[axes.across][bA0 * 8] + tables[axes.down][bD0 * 8]) * 2;
  const places = scratchLayout([layout.x.length, layout.y.length, layout.z.length]);
  const slicesAt = scratch;
  const masksAt = scratch + places.masks;
  const out = scratch + places.out;
  const op = mode === 'mip' ? 'max' : mode === 'minip' ? 'min' : 'sum';
  const kind = signed ? 's' : 'u';
  if (axes.through !== 0) {
    const slices = new Int32Array(memory.buffer, slicesAt, last - first + 1);
    const through = tables[axes.through];
    for (let k = first; k <= last; k++) slices[k - first] = through[k] * 2;
    const shape = axes.through === 2 ? 'axial' : 'coronal';
    exports[`${shape}_${op}_${kind}`](out, src, nBa, strideA, nBd, strideD, slicesAt, last - first + 1);
  } else {
    // Sagittal: x-bricks of the slab, each with the lanes (x inside the brick) the slab covers.
    const bx0 = first >> 3;
    const nBx = (last >> 3) - bx0 + 1;
    const masks = new Uint16Array(memory.buffer, masksAt, nBx * 8);
    for (let b = 0; b < nBx; b++) {
      for (let lane = 0; lane < 8; lane++) {
        const x = (bx0 + b) * 8 + lane;
        masks[b * 8 + lane] = x >= first && x <= last ? 0xffff : 0;
      }
    }
    exports[`sagittal_${op}_${kind}`](
      out,
      src + layout.x[bx0 * 8] * 2,
      nBa,
      strideA,
      nBd,
      strideD,
      masksAt,
      nBx,
      brickStride(0),
    );
  }
  const count = nBa * nBd * 64;
  const values =
    op === 'sum'
      ? new Int32Array(memory.buffer, out, count)
      : signed
        ? new Int16Array(memory.buffer, out, count)
        : new Uint16Array(memory.buffer, out, count);
  return {
    values,
    across: tiledTable(tables[axes.across].length, a0, a1, 64, 1),
    down: tiledTable(tables[axes.down].length, d0, d1, 64 * nBa, 8),
  };
}

/* ---------------------------------------------------------------------------------------------
 * The module, assembled here from its instructions (no toolchain is needed to build it).
 */

const I32 = 0x7f;
const V128 = 0x7b;

function leb(value: number, signed = false): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value = signed ? value >> 7 : value >>> 7;
    const done = signed ? (value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40) : value === 0;
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const name = (text: string) => vec([...text].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const i32 = (v: number) => [0x41, ...leb(v, true)];
const add = [0x6a];
const mul = [0x6c];
const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
const load = (offset: number) => simd(0x00, 0, ...leb(offset));
const store = (offset: number) => simd(0x0b, 0, ...leb(offset));
const load32 = (offset: number) => [0x28, 2, ...leb(offset)];
const store16 = (offset: number) => [0x3b, 1, ...leb(offset)];
const store32 = (offset: number) => [0x36, 2, ...leb(offset)];
const shuffle = (lanes: number[]) => simd(0x0d, ...lanes);
const splat16 = (v: number) => [...i32(v), ...simd(0x10)];
/** Loops while the condition left on the stack holds; `body` runs at least once. */
const doWhile = (body: number[], condition: number[]) => [0x03, 0x40, ...body, ...condition, 0x0d, 0, 0x0b];
const increment = (i: number, by: number[] = i32(1)) => [...get(i), ...by, ...add, ...set(i)];
const below = (i: number, limit: number) => [...get(i), ...get(limit), 0x48];

const OPS = {
  max_s: simd(0x98),
  max_u: simd(0x99),
  min_s: simd(0x96),
  min_u: simd(0x97),
};
const IDENTITY = { max_s: -32768, max_u: 0, min_s: 32767, min_u: 0xffff };
const EXTEND = { s: [simd(0xa7), simd(0xa8)], u: [simd(0xa9), simd(0xaa)] };
const ADD32 = simd(0xae);

/**
 * Axial and coronal: for each brick of the plane, its 8 rows of 8 voxels (`rowStride` bytes apart
 * in a brick) reduced over the slices. Parameters: out, src, nBa, strideA, nBd, strideD, slices,
 * nSlices; locals: d 8, bd 9, ba 10, tile 11, p 12, k 13.
 */
function tileKernel(rowStride: number, op: keyof typeof OPS | 'sum_s' | 'sum_u'): number[] {
  const sum = op.startsWith('sum');
  const tileBytes = sum ? 256 : 128;
  const slice = (k: number[]) => [
    ...get(11),
    ...get(6),
    ...k,
    ...i32(4),
    ...mul,
    ...add,
    ...load32(0),
    ...add,
    ...set(12),
  ];
  const rows = (firstSlice: boolean) => {
    const code: number[] = [];
    for (let r = 0; r < 8; r++) {
      if (sum) {
        const [low, high] = EXTEND[op === 'sum_s' ? 's' : 'u'];
        for (const [half, extend] of [
          [0, low],
          [16, high],
        ] as const) {
          code.push(...get(8));
          if (!firstSlice) code.push(...get(8), ...load(r * 32 + half));
          code.push(...get(12), ...load(r * rowStride), ...extend);
          if (!firstSlice) code.push(...ADD32);
          code.push(...store(r * 32 + half));
        }
      } else {
        code.push(...get(8));
        if (!firstSlice) code.push(...get(8), ...load(r * 16));
        code.push(...get(12), ...load(r * rowStride));
        if (!firstSlice) code.push(...OPS[op as keyof typeof OPS]);
        code.push(...store(r * 16));
      }
    }
    return code;
  };
  const perTile = [
    // tile = src + ba * strideA + bd * strideD
    ...get(1),
    ...get(10),
    ...get(3),
    ...mul,
    ...add,
    ...get(9),
    ...get(5),
    ...mul,
    ...add,
    ...set(11),
    ...slice(i32(0)),
    ...rows(true),
    ...i32(1),
    ...set(13),
    0x02,
    0x40,
    ...get(13),
    ...get(7),
    0x4e,
    0x0d,
    0,
    ...doWhile([...slice(get(13)), ...rows(false), ...increment(13)], below(13, 7)),
    0x0b,
    ...increment(8, i32(tileBytes)),
    ...increment(10),
  ];
  return [
    ...get(0),
    ...set(8),
    ...i32(0),
    ...set(9),
    ...doWhile([...i32(0), ...set(10), ...doWhile(perTile, below(10, 2)), ...increment(9)], below(9, 4)),
  ];
}

/**
 * Sagittal: for each brick of the plane, each of its 64 vectors (8 x lanes) reduced over the
 * slab's x-bricks, lanes outside the slab masked to the identity, then across its lanes.
 * Parameters: out, src, nBa, strideA, nBd, strideD, masks, nBx, strideX; locals: d 9, bd 10,
 * ba 11, tile 12, v 13, b 14, p 15 (i32); acc 16, high 17, x 18 (v128).
 */
function laneKernel(op: keyof typeof OPS | 'sum_s' | 'sum_u'): number[] {
  const sum = op.startsWith('sum');
  const tileBytes = sum ? 256 : 128;
  const address = [...get(12), ...get(14), ...get(8), ...mul, ...add, ...get(13), ...i32(16), ...mul, ...add];
  const mask = [...get(6), ...get(14), ...i32(16), ...mul, ...add, ...load(0)];
  let perBrick: number[];
  let init: number[];
  let finish: number[];
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const quarter = [4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15];
  const lane1 = [2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const outAt = [...get(9), ...get(13), ...i32(sum ? 4 : 2), ...mul, ...add];
  if (sum) {
    const [low, hi] = EXTEND[op === 'sum_s' ? 's' : 'u'];
    init = [...simd(0x0c, ...new Array(16).fill(0)), 0x22, ...leb(16), ...set(17)];
    perBrick = [
      ...address,
      ...load(0),
      ...mask,
      ...simd(0x4e),
      0x22,
      ...leb(18),
      ...low,
      ...get(16),
      ...ADD32,
      ...set(16),
      ...get(18),
      ...hi,
      ...get(17),
      ...ADD32,
      ...set(17),
    ];
    finish = [
      ...outAt,
      ...get(16),
      ...get(17),
      ...ADD32,
      0x22,
      ...leb(18),
      ...get(18),
      ...get(18),
      ...shuffle(high),
      ...ADD32,
      0x22,
      ...leb(18),
      ...get(18),
      ...get(18),
      ...shuffle([4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]),
      ...ADD32,
      ...simd(0x1b, 0),
      ...store32(0),
    ];
  } else {
    const combine = OPS[op as keyof typeof OPS];
    init = [...splat16(IDENTITY[op as keyof typeof OPS]), ...set(16)];
    perBrick = [
      ...address,
      ...load(0),
      ...splat16(IDENTITY[op as keyof typeof OPS]),
      ...mask,
      ...simd(0x52),
      ...get(16),
      ...combine,
      ...set(16),
    ];
    const fold = (lanes: number[]) => [
      0x22,
      ...leb(18),
      ...get(18),
      ...get(18),
      ...shuffle(lanes),
      ...combine,
    ];
    finish = [
      ...outAt,
      ...get(16),
      ...fold(high),
      ...fold(quarter),
      ...fold(lane1),
      ...simd(op.endsWith('_s') ? 0x18 : 0x19, 0),
      ...store16(0),
    ];
  }
  const perVector = [
    ...init,
    ...i32(0),
    ...set(14),
    ...doWhile([...perBrick, ...increment(14)], below(14, 7)),
    ...finish,
    ...increment(13),
  ];
  const perTile = [
    ...get(1),
    ...get(11),
    ...get(3),
    ...mul,
    ...add,
    ...get(10),
    ...get(5),
    ...mul,
    ...add,
    ...set(12),
    ...i32(0),
    ...set(13),
    ...doWhile(perVector, [...get(13), ...i32(64), 0x48]),
    ...increment(9, i32(tileBytes)),
    ...increment(11),
  ];
  return [
    ...get(0),
    ...set(9),
    ...i32(0),
    ...set(10),
    ...doWhile([...i32(0), ...set(11), ...doWhile(perTile, below(11, 2)), ...increment(10)], below(10, 4)),
  ];
}

function assemble(): object | undefined {
  const functions: { name: string; type: number; locals: number[][]; code: number[] }[] = [];
  for (const op of ['max_s', 'max_u', 'min_s', 'min_u', 'sum_s', 'sum_u'] as const) {
    const kind = op.slice(-1);
    const mode = op.slice(0, 3);
    functions.push({ name: `axial_${mode}_${kind}`, type: 0, locals: [[6, I32]], code: tileKernel(16, op) });
    functions.push({
      name: `coronal_${mode}_${kind}`,
      type: 0,
      locals: [[6, I32]],
      code: tileKernel(128, op),
    });
    functions.push({
      name: `sagittal_${mode}_${kind}`,
      type: 1,
      locals: [
        [7, I32],
        [3, V128],
      ],
      code: laneKernel(op),
    });
  }
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, ...vec(new Array(8).fill([I32])), 0],
        [0x60, ...vec(new Array(9).fill([I32])), 0],
      ]),
    ),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec(functions.map((f) => leb(f.type)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...leb(i)]))),
    ...section(
      10,
      vec(
        functions.map((f) => {
          const body = [...vec(f.locals.map(([n, t]) => [...leb(n), t])), ...f.code, 0x0b];
          return [...leb(body.length), ...body];
        }),
      ),
    ),
  ];
  const binary = new Uint8Array(bytes);
  try {
    return new wasm.Module(binary);
  } catch {
    // A runtime without SIMD: slabs are reduced in JavaScript.
    return undefined;
  }
}

const kernelModule = assemble();
