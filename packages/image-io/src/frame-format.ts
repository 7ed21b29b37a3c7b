import { reject } from './rejection';

/** What a decoder needs to know about one frame, from the DICOM header. */
export interface FrameFormat {
  readonly rows: number;
  readonly columns: number;
  /** 1 for grey, 3 for colour. */
  readonly samples: number;
  readonly bitsAllocated: 8 | 16;
}

/** What a compressed frame says of itself, read from its own header before anything is decoded. */
export interface CodedFrame {
  readonly columns: number;
  readonly rows: number;
  readonly components: number;
  /** Bits per sample. */
  readonly precision: number;
}

/** Bytes of stored values the DICOM header promises for one frame. */
export function frameBytes(format: FrameFormat): number {
  return format.rows * format.columns * format.samples * (format.bitsAllocated / 8);
}

const describeFormat = (f: FrameFormat) =>
  `${f.columns} x ${f.rows}, ${f.samples === 1 ? 'grey' : `${f.samples} samples`}, ${f.bitsAllocated} bits allocated`;

/**
 * Refuses a frame whose own header disagrees with the DICOM header: another size, another number
 * of components, or samples wider than the bits allocated. Called before decoding, so that a
 * lying frame never makes a codec allocate more than the image needs.
 */
export function checkCodedFrame(codec: string, coded: CodedFrame, format: FrameFormat): void {
  if (
    coded.columns !== format.columns ||
    coded.rows !== format.rows ||
    coded.components !== format.samples ||
    coded.precision < 1 ||
    coded.precision > format.bitsAllocated
  ) {
    reject(
      `the ${codec} frame is ${coded.columns} x ${coded.rows} with ${coded.components} component${coded.components === 1 ? '' : 's'} of ${coded.precision} bits; the DICOM header says ${describeFormat(format)}`,
    );
  }
}

/** What the WebAssembly codecs report of a frame they decoded. */
export interface DecodedFrameInfo {
  readonly width: number;
  readonly height: number;
  readonly componentCount: number;
  readonly bitsPerSample: number;
}

/** Refuses a decoded frame whose size, components or sample width are not the DICOM header's. */
export function checkDecodedFrame(codec: string, info: DecodedFrameInfo, format: FrameFormat): void {
  const coded = {
    columns: info.width,
    rows: info.height,
    components: info.componentCount,
    precision: info.bitsPerSample,
  };
  checkCodedFrame(`decoded ${codec}`, coded, format);
}

/**
 * Stored values as the converter keeps them, copied out of a codec's output of one or two bytes
 * per sample (so no view into a codec's memory survives it): 8-bit samples of a 16-bit image are
 * widened, and the length must be exactly the frame's.
 */
export function storedValues(
  codec: string,
  decoded: Uint8Array,
  bytesPerSample: 1 | 2,
  format: FrameFormat,
): Buffer {
  const samples = format.rows * format.columns * format.samples;
  if (decoded.length !== samples * bytesPerSample) {
    reject(
      `the ${codec} frame decoded to ${decoded.length} bytes; the DICOM header needs ${samples * bytesPerSample}`,
    );
  }
  if (bytesPerSample === format.bitsAllocated / 8) return Buffer.from(decoded);
  if (bytesPerSample === 2) {
    reject(`the ${codec} frame holds 16-bit samples; the DICOM header allocates 8 bits`);
  }
  const out = Buffer.alloc(frameBytes(format));
  for (let i = 0; i < samples; i++) out[2 * i] = decoded[i];
  return out;
}

/** 8-bit colour stored plane by plane (R plane, G plane, B plane) as interleaved RGB. */
export function interleavePlanes(planes: Uint8Array, pixels: number): Buffer {
  const out = Buffer.alloc(planes.length);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planes[i];
    out[3 * i + 1] = planes[pixels + i];
    out[3 * i + 2] = planes[2 * pixels + i];
  }
  return out;
}
