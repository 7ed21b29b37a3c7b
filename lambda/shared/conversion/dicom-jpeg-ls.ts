import { reject } from './rejection';

interface JpegLsDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete?(): void;
}

interface CharLsModule {
  JpegLSDecoder: new () => JpegLsDecoder;
}

let charls: Promise<CharLsModule> | undefined;

/** CharLS, the JPEG-LS reference codec, as a self-contained asm.js build (no .wasm file to ship). */
function codec(): Promise<CharLsModule> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  charls ??= (require('@cornerstonejs/codec-charls/decode') as () => Promise<CharLsModule>)();
  return charls;
}

/**
 * Decodes one JPEG-LS frame (lossless or near-lossless) of 16-bit grey samples into little-endian
 * bytes, refusing a frame whose size or depth differs from what the DICOM header says.
 */
export async function decodeJpegLs16(frame: Buffer, columns: number, rows: number): Promise<Buffer> {
  const { JpegLSDecoder } = await codec();
  const decoder = new JpegLSDecoder();
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    try {
      decoder.decode();
    } catch (err) {
      reject(`the JPEG-LS frame cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = decoder.getFrameInfo();
    if (
      info.width !== columns ||
      info.height !== rows ||
      info.componentCount !== 1 ||
      info.bitsPerSample > 16
    ) {
      reject(
        `the JPEG-LS frame is ${info.width} x ${info.height} with ${info.componentCount} components of ${info.bitsPerSample} bits; the header says ${columns} x ${rows} grey`,
      );
    }
    return Buffer.from(decoder.getDecodedBuffer().slice(0, columns * rows * 2));
  } finally {
    decoder.delete?.();
  }
}
