import { checkCodedFrame, checkDecodedFrame, FrameFormat, storedValues } from './frame-format';
import { jpegProcessName, readJpegFrameHeader } from './jpeg-frame-header';
import { reject } from './rejection';
import { WasmCodec } from './wasm-codec';

interface JpegDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

/** libjpeg-turbo, decode-only WebAssembly build. */
const libjpegTurbo = new WasmCodec<{ JPEGDecoder: new () => JpegDecoder }>(
  'libjpeg-turbo',
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'),
);

/**
 * Decodes one frame of lossy JPEG, baseline (process 1) or extended (process 2, 8-bit), through
 * libjpeg-turbo: grey, or colour as RGB, whether the stream holds YCbCr (YBR_FULL_422, as JFIF
 * and DICOM's lossy colour ask) or untransformed RGB (libjpeg-turbo tells them apart from the
 * stream's own markers). 12-bit samples (process 4) are refused by name.
 */
export async function decodeJpeg(frame: Buffer, format: FrameFormat): Promise<Buffer> {
  const header = readJpegFrameHeader('JPEG', frame);
  if (header.process !== 0xc0 && header.process !== 0xc1) {
    reject(
      `the frame is ${jpegProcessName(header.process)} JPEG; JPEG baseline and extended DICOM hold sequential Huffman-coded frames`,
    );
  }
  if (header.precision === 12) {
    reject(
      '12-bit lossy JPEG (JPEG extended, process 4) is not converted: no maintained decoder for it runs in the converter; send the series uncompressed or in a lossless transfer syntax',
    );
  }
  if (header.precision !== 8)
    reject(`the JPEG frame declares ${header.precision}-bit samples; 8 or 12 are valid`);
  checkCodedFrame('JPEG', header, format);
  return libjpegTurbo.use(({ JPEGDecoder }, report) => {
    // On any error the instance is dropped whole (see WasmCodec), so only success deletes.
    const decoder = new JPEGDecoder();
    decoder.getEncodedBuffer(frame.length).set(frame);
    try {
      decoder.decode();
    } catch (err) {
      reject(`the JPEG frame cannot be decoded: ${report.failure(err)}`);
    }
    const info = decoder.getFrameInfo();
    // libjpeg-turbo's 8-bit build decodes 8-bit samples only.
    checkDecodedFrame('JPEG', { ...info, bitsPerSample: 8 }, format);
    const pixels = storedValues('JPEG', decoder.getDecodedBuffer(), 1, format);
    decoder.delete();
    return pixels;
  });
}
