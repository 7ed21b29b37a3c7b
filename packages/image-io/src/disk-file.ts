import * as fs from 'node:fs';
import type { InputFile } from './convert-image-files';
import type { ByteRange } from './dicom-pixel-data';

/** Files larger than this get a buffer of their own, freed with them, not kept for reuse. */
const LARGEST_KEPT = 64 * 1024 * 1024;

/**
 * One buffer for files read one after another and dropped before the next (DICOM slices), grown
 * to the largest: fresh buffers for hundreds of slices cost more in page faults than the reading.
 */
export class ReusedBuffer {
  private buffer = Buffer.alloc(0);

  /** `bytes` bytes of the buffer, valid until the next call. */
  take(bytes: number): Buffer {
    if (bytes > LARGEST_KEPT) return Buffer.allocUnsafeSlow(bytes);
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(bytes);
    return this.buffer.subarray(0, bytes);
  }
}

/** A file of an upload set on disk, read each time a reader loads it, whole or a range of it. */
export function diskFile(name: string, file: string): InputFile {
  return {
    name,
    load: (reuse) => readWholeFile(file, reuse),
    readRange: (range, reuse) => readFileRange(file, range, reuse),
    size: fs.statSync(file).size,
  };
}

/** Bytes of a file from `range.offset` on, into `reuse`'s buffer when given; fewer where the file ends. */
function readFileRange(file: string, range: ByteRange, reuse?: ReusedBuffer): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const content = reuse ? reuse.take(range.length) : Buffer.allocUnsafe(range.length);
    return content.subarray(0, readFully(fd, content, range.offset));
  } finally {
    fs.closeSync(fd);
  }
}

/** Largest read that `fs.readSync` takes at once (2 GiB - 1); slides are larger. */
const CHUNK_BYTES = 2 ** 31 - 1;

/**
 * A file's bytes, read in chunks (`fs.readFileSync` refuses files of 2 GiB and more); into
 * `reuse`'s buffer when given, else into a buffer of their own.
 */
export function readWholeFile(file: string, reuse?: ReusedBuffer): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const content = reuse ? reuse.take(size) : Buffer.allocUnsafe(size);
    const read = readFully(fd, content, 0);
    if (read < size) throw new Error(`${file} ended at ${read} of ${size} bytes`);
    return content;
  } finally {
    fs.closeSync(fd);
  }
}

/** Fills `content` from the file's byte `position` on, in reads of at most 2 GiB, or up to its end: the bytes read. */
function readFully(fd: number, content: Buffer, position: number): number {
  let offset = 0;
  while (offset < content.length) {
    const read = fs.readSync(
      fd,
      content,
      offset,
      Math.min(CHUNK_BYTES, content.length - offset),
      position + offset,
    );
    if (read === 0) break;
    offset += read;
  }
  return offset;
}
