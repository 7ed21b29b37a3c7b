import * as dicomParser from 'dicom-parser';
import { ConversionLimits } from './conversion-limits';
import { parseDicomDataSet } from './dicom-dataset';
import { interleavePlanes } from './frame-format';
import { decodeFrame, isEncapsulated } from './dicom-frame-decoder';
import { DicomSlice } from './dicom-slice';
import { ReusedBuffer } from './disk-file';
import { Rejection, reject } from './rejection';

const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/**
 * Reads the stored values of slices, file by file: 8-bit, or 16-bit little endian, colour
 * interleaved. Keeps only the last file parsed, so the frames of a multi-frame file, which a
 * series visits in a row, parse it once.
 */
export class DicomFrameReader {
  private last?: { file: string; data: dicomParser.DataSet };
  /** Each file is read into this buffer: its values are in the volume before the next is read. */
  private readonly bytes = new ReusedBuffer();

  constructor(private readonly limits: ConversionLimits) {}

  /** The slice's stored values; a frame that cannot be decoded is refused naming its file. */
  async read(slice: DicomSlice): Promise<Buffer> {
    try {
      if (this.last?.file !== slice.file) {
        this.last = undefined;
        this.last = { file: slice.file, data: parseDicomDataSet(slice.load(this.bytes), this.limits) };
      }
      const stored = await this.frame(this.last.data, slice);
      return slice.ybrFull ? ybrFullToRgb(stored) : stored;
    } catch (err) {
      if (err instanceof Rejection) throw new Rejection(`${slice.file}: ${err.message}`);
      throw err;
    }
  }

  /** Drops the file held, once a series is written. */
  release(): void {
    this.last = undefined;
  }

  private async frame(data: dicomParser.DataSet, slice: DicomSlice): Promise<Buffer> {
    const pixelData = data.elements.x7fe00010;
    const { rows, columns, samples, bitsAllocated } = slice;
    const frameBytes = rows * columns * samples * (bitsAllocated / 8);
    if (isEncapsulated(slice.transferSyntax)) {
      const frames = data.intString('x00280008') ?? 1;
      const encoded = encapsulatedFrame(data, pixelData, slice.frame, frames);
      const decoded = await decodeFrame(slice.transferSyntax, encoded, {
        rows,
        columns,
        samples,
        bitsAllocated,
      });
      if (decoded.length !== frameBytes) {
        reject(`a decoded frame has ${decoded.length} bytes; ${frameBytes} expected`);
      }
      return decoded;
    }
    const start = pixelData.dataOffset + slice.frame * frameBytes;
    const stored = data.byteArray.subarray(start, start + frameBytes);
    if (stored.length < frameBytes) reject('the pixel data is truncated');
    if (slice.transferSyntax === BIG_ENDIAN && bitsAllocated === 16) return Buffer.from(stored).swap16();
    // Colour stored plane by plane (PlanarConfiguration 1) is interleaved, as the output keeps it.
    if (samples === 3 && data.uint16('x00280006') === 1) return interleavePlanes(stored, rows * columns);
    // A view, not a copy: the values are written into the volume before the next file is read.
    return Buffer.from(stored.buffer, stored.byteOffset, stored.length);
  }
}

/**
 * The bytes of one frame of encapsulated pixel data: all fragments for a single frame; else the
 * fragments the basic offset table assigns to it, or one fragment per frame when there are as
 * many fragments as frames.
 */
function encapsulatedFrame(
  data: dicomParser.DataSet,
  pixelData: dicomParser.Element,
  frame: number,
  frames: number,
): Buffer {
  const fragments = pixelData.fragments ?? [];
  const bytesOf = (list: readonly dicomParser.Fragment[]) => {
    const views = list.map((f) => {
      if (f.position + f.length > data.byteArray.length) reject('a pixel data fragment is truncated');
      return Buffer.from(data.byteArray.buffer, data.byteArray.byteOffset + f.position, f.length);
    });
    // One fragment, the usual case, is passed as a view: decoders only read it.
    return views.length === 1 ? views[0] : Buffer.concat(views);
  };
  if (frames === 1) return bytesOf(fragments);
  const table = pixelData.basicOffsetTable ?? [];
  if (table.length === frames) {
    const start = table[frame];
    const end = frame + 1 < frames ? table[frame + 1] : Infinity;
    if (!(end > start) || !fragments.some((f) => f.offset === start)) {
      reject(`the basic offset table does not point at a fragment for frame ${frame + 1}`);
    }
    return bytesOf(fragments.filter((f) => f.offset >= start && f.offset < end));
  }
  if (fragments.length === frames) return bytesOf([fragments[frame]]);
  return reject(
    `${fragments.length} pixel data fragments for ${frames} frames and no basic offset table: the frames cannot be told apart`,
  );
}

/**
 * YBR_FULL (luma and chroma, 8-bit, interleaved) to RGB in place, as PS3.3 C.7.6.3.1.2 defines
 * it, rounded and clipped to 0 to 255. The bytes are the slice's own.
 */
function ybrFullToRgb(pixels: Buffer): Buffer {
  const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    const y = pixels[i];
    const cb = pixels[i + 1] - 128;
    const cr = pixels[i + 2] - 128;
    pixels[i] = clip(y + 1.402 * cr);
    pixels[i + 1] = clip(y - 0.344136 * cb - 0.714136 * cr);
    pixels[i + 2] = clip(y + 1.772 * cb);
  }
  return pixels;
}
