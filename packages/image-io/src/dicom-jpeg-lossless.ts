import { checkCodedFrame, FrameFormat, frameBytes } from './frame-format';
import { decodeLosslessJpeg } from './jpeg-lossless-decoder';
import { jpegProcessName, readJpegFrameHeader } from './jpeg-frame-header';
import { reject } from './rejection';

/**
 * Decodes one frame of lossless JPEG (process 14, any of the seven predictors; DICOM's
 * first-order prediction is predictor 1): 8- or 16-bit grey, 8-bit colour. The frame header is
 * checked against the DICOM header first; the output is sized by the DICOM header.
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
  const out = Buffer.allocUnsafe(frameBytes(format));
  // Samples as wide as the bits allocated, so 8-bit samples of a 16-bit image come out widened.
  const samples =
    format.bitsAllocated === 8 ? out : new Uint16Array(out.buffer, out.byteOffset, out.length / 2);
  decodeLosslessJpeg(frame, samples, {
    rows: format.rows,
    columns: format.columns,
    components: format.samples,
  });
  return out;
}
