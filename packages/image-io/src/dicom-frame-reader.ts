import * as dicomParser from 'dicom-parser';
import { ConversionLimits } from './conversion-limits';
import { DEFLATED_TRANSFER_SYNTAX, parseDicomDataSet } from './dicom-dataset';
import { interleavePlanes } from './frame-format';
import { decodeFrame, isEncapsulated } from './dicom-frame-decoder';
import { DicomSlice } from './dicom-slice';
import { ReusedBuffer } from './disk-file';
import { Rejection, reject } from './rejection';

const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/**
 * Reads the stored values of slices, frame by frame: 8-bit, or 16-bit little endian, colour
 * interleaved. A frame's bytes are read from its file alone, where its header placed them; only a
 * deflated data set is inflated whole again, and kept while the frames of its file are read.
 */
export class DicomFrameReader {
  private inflated?: { file: string; data: dicomParser.DataSet };
  /** Each frame is read into this buffer: its values are in the volume before the next is read. */
  private readonly bytes = new ReusedBuffer();

  constructor(private readonly limits: ConversionLimits) {}

  /** The slice's stored values; a frame that cannot be decoded is refused naming its file. */
  async read(slice: DicomSlice): Promise<Buffer> {
    try {
      const stored = await this.frame(slice);
      return slice.ybrFull ? ybrFullToRgb(stored) : stored;
    } catch (err) {
      if (err instanceof Rejection) throw new Rejection(`${slice.file}: ${err.message}`);
      throw err;
    }
  }

  /** Drops the inflated file held, once a series is written. */
  release(): void {
    this.inflated = undefined;
  }

  private async frame(slice: DicomSlice): Promise<Buffer> {
    const { rows, columns, samples, bitsAllocated } = slice;
    const frameBytes = rows * columns * samples * (bitsAllocated / 8);
    const stored = this.storedBytes(slice);
    if (isEncapsulated(slice.transferSyntax)) {
      const decoded = await decodeFrame(slice.transferSyntax, stored, {
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
    if (stored.length < frameBytes) reject('the pixel data is truncated');
    if (slice.transferSyntax === BIG_ENDIAN && bitsAllocated === 16) return Buffer.from(stored).swap16();
    // Colour stored plane by plane is interleaved, as the output keeps it.
    if (slice.planar) return interleavePlanes(stored, rows * columns);
    // The bytes as read: their values are written into the volume before the next frame is read.
    return stored;
  }

  /** The frame's bytes, its fragments joined; only these are read from its file. */
  private storedBytes(slice: DicomSlice): Buffer {
    if (slice.transferSyntax === DEFLATED_TRANSFER_SYNTAX) {
      if (this.inflated?.file !== slice.file) {
        this.inflated = undefined;
        this.inflated = { file: slice.file, data: parseDicomDataSet(slice.load(), this.limits) };
      }
      const { byteArray } = this.inflated.data;
      const views = slice.pixels.map((r) =>
        Buffer.from(byteArray.buffer, byteArray.byteOffset + r.offset, r.length),
      );
      return views.length === 1 ? views[0] : Buffer.concat(views);
    }
    if (slice.pixels.length === 1) return slice.readRange(slice.pixels[0], this.bytes);
    return Buffer.concat(slice.pixels.map((r) => slice.readRange(r)));
  }
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
