import {
  checkCodedFrame,
  checkDecodedFrame,
  FrameFormat,
  interleavePlanes,
  storedValues,
} from './frame-format';
import { readJpegFrameHeader } from './jpeg-frame-header';
import { reject } from './rejection';
import { WasmCodec } from './wasm-codec';

interface JpegLsDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getInterleaveMode(): number;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

/** CharLS, the JPEG-LS reference codec, decode-only WebAssembly build. */
const charls = new WasmCodec<{ JpegLSDecoder: new () => JpegLsDecoder }>(
  'CharLS',
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('@cornerstonejs/codec-charls/decodewasmjs'),
);

/**
 * Decodes one JPEG-LS frame, lossless or near-lossless: 8- or 16-bit grey, 8-bit colour. The
 * frame's own header is compared with the DICOM header before CharLS sizes its output by it;
 * colour coded plane by plane (interleave mode none) is interleaved.
 */
export async function decodeJpegLs(frame: Buffer, format: FrameFormat): Promise<Buffer> {
  const header = readJpegFrameHeader('JPEG-LS', frame);
  if (header.process !== 0xf7) reject('the frame is not JPEG-LS (no SOF55 marker)');
  checkCodedFrame('JPEG-LS', header, format);
  return charls.use(({ JpegLSDecoder }, report) => {
    // On any error the instance is dropped whole (see WasmCodec), so only success deletes.
    const decoder = new JpegLSDecoder();
    decoder.getEncodedBuffer(frame.length).set(frame);
    try {
      decoder.decode();
    } catch (err) {
      reject(`the JPEG-LS frame cannot be decoded: ${report.failure(err)}`);
    }
    const info = decoder.getFrameInfo();
    checkDecodedFrame('JPEG-LS', info, format);
    let decoded = decoder.getDecodedBuffer();
    if (info.componentCount === 3 && decoder.getInterleaveMode() === 0) {
      // Refused by the length check that follows when the planes are not whole.
      if (decoded.length === 3 * info.width * info.height) {
        decoded = interleavePlanes(decoded, info.width * info.height);
      }
    }
    const pixels = storedValues('JPEG-LS', decoded, info.bitsPerSample > 8 ? 2 : 1, format);
    decoder.delete();
    return pixels;
  });
}
