import { checkCodedFrame, FrameFormat } from './frame-format';
import { jpegProcessName, readJpegFrameHeader } from './jpeg-frame-header';
import { reject } from './rejection';

/** The parts of rii-mango's decoder used here (the package ships no type declarations). */
interface LosslessDecoder {
  select7(component?: number): number;
  getPreviousX(component?: number): number;
  getPreviousY(component?: number): number;
  decode(
    buffer: ArrayBuffer,
    offset: number,
    length: number,
    bytesPerSample: number,
  ): Uint8Array | Uint16Array;
  /** Where decoding stopped: the next pixel's column and row. */
  xLoc: number;
  yLoc: number;
  stream: { index: number } | null;
}

let losslessDecoder: (new () => LosslessDecoder) | undefined;

function newDecoder(): LosslessDecoder {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  losslessDecoder ??= (require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }).Decoder;
  const decoder = new losslessDecoder();
  // Predictor 7 is (Ra + Rb) >> 1 (T.81 table H.1); the decoder's / 2 leaves a half that rounds
  // the wrong way when the reconstruction wraps below zero.
  decoder.select7 = function (component) {
    return (this.getPreviousX(component) + this.getPreviousY(component)) >> 1;
  };
  return decoder;
}

/**
 * The frame with four zero bytes before its end-of-image marker: bits after the last code, which
 * decoding ignores. The decoder looks ahead for markers and, meeting the end-of-image marker
 * within a few bits of the last code, stops before the last pixel; the padding keeps it away.
 */
function paddedBeforeEnd(frame: Buffer): Buffer {
  let end = frame.length;
  while (end > 2 && frame[end - 1] === 0) end--; // DICOM pads fragments to an even length
  if (frame[end - 2] !== 0xff || frame[end - 1] !== 0xd9) return frame;
  return Buffer.concat([frame.subarray(0, end - 2), Buffer.alloc(4), frame.subarray(end - 2, end)]);
}

/**
 * Decodes one frame of lossless JPEG (process 14, any of the seven predictors; DICOM's
 * first-order prediction is predictor 1) through rii-mango's JPEG lossless decoder: 8- or
 * 16-bit grey, 8-bit colour. The frame header is checked before the decoder sizes its output by
 * it, and a frame that ends before its last row is refused rather than padded.
 */
export function decodeJpegLossless(frame: Buffer, format: FrameFormat): Buffer {
  const header = readJpegFrameHeader('JPEG lossless', frame);
  if (header.process !== 0xc3) {
    reject(
      `the frame is ${jpegProcessName(header.process)} JPEG; JPEG lossless DICOM holds process 14 frames`,
    );
  }
  checkCodedFrame('JPEG lossless', header, format);
  if (header.predictor < 1 || header.predictor > 7) {
    reject(`the JPEG lossless frame names predictor ${header.predictor}; 1 to 7 are valid`);
  }
  if (header.pointTransform !== 0) {
    reject(
      `the JPEG lossless frame uses a point transform of ${header.pointTransform} bits, which is not read`,
    );
  }
  const decoder = newDecoder();
  const stream = paddedBeforeEnd(frame);
  let decoded: Uint8Array | Uint16Array;
  try {
    // Samples as wide as the bits allocated, so 8-bit samples of a 16-bit image come out widened.
    decoded = decoder.decode(
      stream.buffer as ArrayBuffer,
      stream.byteOffset,
      stream.length,
      format.bitsAllocated / 8,
    );
  } catch (err) {
    reject(`the JPEG lossless frame cannot be decoded: ${(err as Error).message}`);
  }
  // The decoder reads past the end of a short frame as zeros, and stops early at a stray marker.
  const complete = decoder.yLoc === format.rows && decoder.xLoc === 0;
  if (!complete || (decoder.stream?.index ?? Infinity) > stream.length) {
    reject(
      `the JPEG lossless frame is truncated or damaged: it ends in row ${decoder.yLoc + 1} of ${format.rows}`,
    );
  }
  return Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}
