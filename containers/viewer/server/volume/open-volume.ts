import { once } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import {
  MetaImageHeader,
  readMetaImageHeader,
  VolumeReadError,
  VOXEL_BYTES,
  VoxelType,
} from './metaimage-header';
import { voxelBuffer } from './simd-slab';
import { Vec3, VolumeGeometry } from './view-state';
import { VoxelLayout, voxelLayout } from './voxel-layout';

/** Voxels in the file's own type, in bricks (`voxel-layout.ts`): a voxel is found through `layout`. */
export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** A volume whose voxels may still be arriving: what has not arrived reads as zero. */
export interface LoadingVolume {
  readonly geometry: VolumeGeometry;
  readonly voxelType: VoxelType;
  /** Every voxel of every time point, in one array of the file's type, placed as `layout` says. */
  readonly voxels: VoxelArray;
  readonly layout: VoxelLayout;
  /** The header's keys and values (Modality, WindowCenter and WindowWidth among them). */
  readonly header: Readonly<Record<string, string>>;
  /** Axial slices of time point 0 whose every voxel has arrived. */
  loadedSlices(): number;
  /** Voxel bytes arrived, of `totalBytes`. */
  loadedBytes(): number;
  readonly totalBytes: number;
  /** Resolves once every voxel has arrived; rejects (a `VolumeReadError`) on truncated or corrupt data. */
  readonly done: Promise<void>;
  /** The value of a whole voxel index at a time point. */
  value(voxel: Vec3, timepoint?: number): number;
  /** Where a whole voxel index lies in `voxels`. */
  offset(voxel: Vec3, timepoint?: number): number;
  /** Stops reading the body (ending it, where it is a stream); `done` then rejects, unless it had resolved. */
  close(): void;
}

export interface OpenVolumeOptions {
  /** Called as voxels arrive, with the voxel bytes decoded and the volume's voxel bytes. */
  onProgress?(loadedBytes: number, totalBytes: number): void;
}

/** Output of inflating at a time: large enough that each callback copies plenty. */
const INFLATE_CHUNK_BYTES = 256 * 1024;
/** Voxel bytes placed at a time before the event loop may run (about a millisecond's work at most). */
const PLACE_STEP_BYTES = 128 * 1024;

/**
 * Reads an `.mha` as it arrives: resolves once its header is read, then fills one array of the
 * file's own voxel type in the background, inflating the zlib stream (the converter's pieces are
 * sync-flushed blocks of one stream, which one inflater reads) as its bytes come, and placing
 * each voxel in its brick. Memory is the volume's voxels (and any brick padding) plus about a
 * megabyte of inflater output in flight.
 */
export async function openVolume(
  body: AsyncIterable<Uint8Array>,
  options: OpenVolumeOptions = {},
): Promise<LoadingVolume> {
  const chunks = body[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let header: MetaImageHeader | undefined;
  try {
    while (!header) {
      const next = await chunks.next();
      if (next.done) {
        throw new VolumeReadError(
          head.length === 0
            ? 'cannot read the image: it is empty'
            : 'cannot read the image: it ends inside the header, before its ElementDataFile line',
        );
      }
      head = Buffer.concat([head, next.value]);
      header = readMetaImageHeader(head);
    }
  } catch (err) {
    await chunks.return?.();
    throw err instanceof VolumeReadError ? err : new VolumeReadError(`cannot read the image: ${String(err)}`);
  }
  return new StreamedVolume(header, head.subarray(header.dataOffset), body, chunks, options);
}

class StreamedVolume implements LoadingVolume {
  readonly geometry: VolumeGeometry;
  readonly voxelType: VoxelType;
  readonly voxels: VoxelArray;
  readonly layout: VoxelLayout;
  readonly header: Readonly<Record<string, string>>;
  readonly totalBytes: number;
  readonly done: Promise<void>;
  private readonly sliceBytes: number;
  private readonly placer: VoxelPlacer;
  private written = 0;
  private closed = false;
  /** Rejects when the volume is closed, ending whatever wait for bytes is under way. */
  private readonly stopped: Promise<never>;
  private stop!: (reason: Error) => void;

  constructor(
    private readonly meta: MetaImageHeader,
    first: Buffer,
    private readonly body: AsyncIterable<Uint8Array>,
    private readonly chunks: AsyncIterator<Uint8Array>,
    private readonly options: OpenVolumeOptions,
  ) {
    this.geometry = meta.geometry;
    this.voxelType = meta.voxelType;
    this.header = meta.fields;
    this.totalBytes = meta.dataBytes;
    this.layout = voxelLayout(meta.geometry.size, meta.geometry.timepoints);
    const width = VOXEL_BYTES[meta.voxelType];
    const buffer = voxelBuffer(this.layout.elements * width, meta.voxelType, this.layout, meta.geometry.size);
    this.voxels = typedArray(meta.voxelType, buffer);
    this.placer = new VoxelPlacer(buffer, width, meta.geometry.size, this.layout, meta.bigEndian);
    const [x, y] = meta.geometry.size;
    this.sliceBytes = x * y * VOXEL_BYTES[meta.voxelType];
    this.stopped = new Promise<never>((_, reject) => (this.stop = reject));
    this.stopped.catch(() => undefined);
    this.done = this.load(first).catch(async (err: unknown) => {
      if (this.closed) throw new VolumeReadError('cannot read the image: reading was stopped');
      await this.chunks.return?.().catch(() => undefined);
      throw err instanceof VolumeReadError
        ? err
        : new VolumeReadError(`cannot read the image: ${describe(err)}`);
    });
    // The caller may never wait for `done`; a failure must not end the process as unhandled.
    this.done.catch(() => undefined);
  }

  loadedSlices(): number {
    return Math.min(this.geometry.size[2], Math.floor(this.written / this.sliceBytes));
  }

  loadedBytes(): number {
    return this.written;
  }

  value(voxel: Vec3, timepoint = 0): number {
    return Number(this.voxels[this.offset(voxel, timepoint)]);
  }

  offset(voxel: Vec3, timepoint = 0): number {
    const { x, y, z, timeStride } = this.layout;
    return x[voxel[0]] + y[voxel[1]] + z[voxel[2]] + timepoint * timeStride;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop(new VolumeReadError('cannot read the image: reading was stopped'));
    // Ends the download: a stream is destroyed at once (its iterator's return would wait for
    // the read under way); any other iterable is asked to return.
    const stream = this.body as { destroy?: () => void };
    if (typeof stream.destroy === 'function') stream.destroy();
    else this.chunks.return?.().catch(() => undefined);
  }

  private async load(first: Buffer): Promise<void> {
    if (this.meta.compressed) await this.inflate(first);
    else {
      await this.storeInSteps(first);
      for (let next = await this.nextChunk(); next; next = await this.nextChunk())
        await this.storeInSteps(next);
    }
    if (this.written < this.totalBytes) {
      throw new VolumeReadError(
        `cannot read the image: it is truncated, ${this.written} of ${this.totalBytes} voxel bytes arrived`,
      );
    }
  }

  /**
   * Inflates as the body arrives: one loop feeds the inflater (waiting while its output waits to
   * be placed), the other places its output a step at a time, so frames render in between.
   */
  private async inflate(first: Buffer): Promise<void> {
    const inflater = zlib.createInflate({ chunkSize: INFLATE_CHUNK_BYTES });
    // A failed download or a stop ends the inflater with its error, which ends the placing loop.
    // (Nothing waits for the feeder: a stalled download must not hold `done` once the inflater
    // has ended; the feeder stops at its next chunk.)
    void this.feed(inflater, first).catch((err: Error) => inflater.destroy(err));
    try {
      for await (const chunk of inflater) await this.storeInSteps(chunk as Buffer);
    } catch (err) {
      // A download that failed, a stop, or too many bytes says so itself; what is left is zlib's to say.
      if (this.closed || err instanceof VolumeReadError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'Z_BUF_ERROR') {
        throw new VolumeReadError(
          `cannot read the image: it is truncated, its compressed voxel data ends after ${this.written} of ${this.totalBytes} bytes`,
        );
      }
      throw new VolumeReadError(
        `cannot read the image: its compressed voxel data is corrupt (${describe(err)})`,
      );
    } finally {
      inflater.destroy();
    }
  }

  /** Writes the body into the inflater, as fast as its output is placed, until either ends. */
  private async feed(inflater: zlib.Inflate, first: Buffer): Promise<void> {
    const written = async (chunk: Uint8Array) => {
      if (!inflater.write(chunk)) await Promise.race([once(inflater, 'drain'), this.stopped]);
    };
    if (first.length > 0) await written(first);
    for (let next = await this.nextChunk(); next; next = await this.nextChunk()) {
      if (inflater.destroyed || inflater.readableEnded) return;
      await written(next);
    }
    if (!inflater.destroyed) inflater.end();
  }

  /** Places a chunk in steps of `PLACE_STEP_BYTES`, letting the event loop run between them. */
  private async storeInSteps(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; at += PLACE_STEP_BYTES) {
      if (at > 0) await setImmediate();
      if (this.closed) throw new VolumeReadError('cannot read the image: reading was stopped');
      this.store(chunk.subarray(at, at + PLACE_STEP_BYTES));
    }
  }

  /** The next chunk of the body, or undefined at its end. */
  private async nextChunk(): Promise<Uint8Array | undefined> {
    if (this.closed) throw new VolumeReadError('cannot read the image: reading was stopped');
    let next: IteratorResult<Uint8Array>;
    try {
      next = await Promise.race([this.chunks.next(), this.stopped]);
    } catch (err) {
      throw new VolumeReadError(`cannot read the image: its download failed (${describe(err)})`);
    }
    return next.done ? undefined : next.value;
  }

  private store(chunk: Uint8Array): void {
    if (this.written + chunk.length > this.totalBytes) {
      throw new VolumeReadError(
        `cannot read the image: it holds more voxel data than its DimSize and ElementType give (${this.totalBytes} bytes)`,
      );
    }
    this.placer.place(chunk, this.written);
    this.written += chunk.length;
    this.options.onProgress?.(this.written, this.totalBytes);
  }
}

/** Bytes staged at a time: whole voxels, aligned, in little-endian order, before placing. */
const STAGE_BYTES = 256 * 1024;

/**
 * Places the voxel bytes of the file, which come x fastest, where the layout keeps each voxel.
 * Bytes are copied as unsigned integers of the voxel's width (two 32-bit halves for 64-bit
 * voxels), so no float is read as a number and no NaN's bits are changed.
 */
class VoxelPlacer {
  private readonly stage: Uint8Array;
  private readonly target: Uint8Array | Uint16Array | Uint32Array;
  private readonly source: Uint8Array | Uint16Array | Uint32Array;
  /** Unsigned words per voxel: 2 for 64-bit voxels, else 1. */
  private readonly words: number;
  /** Bytes of a voxel split across chunks, waiting for the rest. */
  private carried = 0;

  constructor(
    private readonly buffer: ArrayBuffer,
    private readonly width: number,
    private readonly size: Vec3,
    private readonly layout: VoxelLayout,
    private readonly bigEndian: boolean,
  ) {
    this.stage = new Uint8Array(STAGE_BYTES + 8);
    const view = (b: ArrayBuffer) =>
      width === 1 ? new Uint8Array(b) : width === 2 ? new Uint16Array(b) : new Uint32Array(b);
    this.target = view(buffer);
    this.source = view(this.stage.buffer as ArrayBuffer);
    this.words = width === 8 ? 2 : 1;
  }

  /** Places `chunk`, the file's voxel bytes from `at` on. */
  place(chunk: Uint8Array, at: number): void {
    if (this.layout.linear && !this.bigEndian) {
      new Uint8Array(this.buffer).set(chunk, at);
      return;
    }
    let read = 0;
    let first = (at - this.carried) / this.width;
    while (read < chunk.length) {
      const take = Math.min(chunk.length - read, STAGE_BYTES - this.carried);
      this.stage.set(chunk.subarray(read, read + take), this.carried);
      read += take;
      const whole = Math.floor((this.carried + take) / this.width);
      const bytes = whole * this.width;
      if (this.bigEndian) swapBytes(this.stage.subarray(0, bytes), this.width);
      this.scatter(first, whole);
      first += whole;
      // The bytes of a voxel not yet whole move to the front of the stage.
      this.carried = this.carried + take - bytes;
      this.stage.copyWithin(0, bytes, bytes + this.carried);
    }
  }

  /** Voxels `first` to `first + count` of the file (x fastest), from the stage to their places. */
  private scatter(first: number, count: number): void {
    const [sx, sy, sz] = this.size;
    const { x: xs, y: ys, z: zs, timeStride } = this.layout;
    const { source, target, words } = this;
    // Whether voxels 8k to 8k + 7 along x lie side by side (x bricked, or no axis bricked).
    const runs = sx === 1 || xs[1] === 1;
    let x = first % sx;
    let rest = Math.floor(first / sx);
    let y = rest % sy;
    rest = Math.floor(rest / sy);
    let z = rest % sz;
    let t = Math.floor(rest / sz);
    let s = 0;
    while (s < count) {
      const row = ys[y] + zs[z] + t * timeStride;
      const end = Math.min(sx, x + count - s);
      if (words === 1 && runs) {
        for (; x < end && (x & 7) !== 0; x++, s++) target[row + xs[x]] = source[s];
        for (; x + 8 <= end; x += 8, s += 8) {
          const o = row + xs[x];
          target[o] = source[s];
          target[o + 1] = source[s + 1];
          target[o + 2] = source[s + 2];
          target[o + 3] = source[s + 3];
          target[o + 4] = source[s + 4];
          target[o + 5] = source[s + 5];
          target[o + 6] = source[s + 6];
          target[o + 7] = source[s + 7];
        }
        for (; x < end; x++, s++) target[row + xs[x]] = source[s];
      } else if (words === 1) {
        for (; x < end; x++, s++) target[row + xs[x]] = source[s];
      } else {
        for (; x < end; x++, s++) {
          const o = (row + xs[x]) * 2;
          target[o] = source[s * 2];
          target[o + 1] = source[s * 2 + 1];
        }
      }
      if (x === sx) {
        x = 0;
        if (++y === sy) {
          y = 0;
          if (++z === sz) {
            z = 0;
            t++;
          }
        }
      }
    }
  }
}

function swapBytes(bytes: Uint8Array, width: number): void {
  const range = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (width === 2) range.swap16();
  else if (width === 4) range.swap32();
  else if (width === 8) range.swap64();
}

function typedArray(type: VoxelType, buffer: ArrayBuffer): VoxelArray {
  switch (type) {
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
