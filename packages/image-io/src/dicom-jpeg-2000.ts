import { checkCodedFrame, checkDecodedFrame, FrameFormat, storedValues } from './frame-format';
import { readJ2kFrameHeader } from './j2k-frame-header';
import { reject } from './rejection';
import { WasmCodec } from './wasm-codec';

interface J2kDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
  };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

/** OpenJPEG, decode-only WebAssembly build. */
const openjpeg = new WasmCodec<{ J2KDecoder: new () => J2kDecoder }>(
  'OpenJPEG',
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('@cornerstonejs/codec-openjpeg/decodewasmjs'),
);

/** More tiles than this in one frame is an attack on the decoder's bookkeeping, not an image. */
const MAX_TILES = 4096;

/**
 * Decodes one JPEG 2000 frame, reversible or not: 8- or 16-bit grey, 8-bit colour (RGB, or
 * YBR_RCT / YBR_ICT, whose component transform OpenJPEG undoes, so the output is RGB). OpenJPEG
 * reports failures only by printing them, so the decoded size is checked, and an error it
 * printed (a truncated stream, a broken tile) refuses the frame.
 */
export async function decodeJpeg2000(frame: Buffer, format: FrameFormat): Promise<Buffer> {
  const header = readJ2kFrameHeader(frame);
  checkCodedFrame('JPEG 2000', header, format);
  if (header.tiles > MAX_TILES)
    reject(`the JPEG 2000 frame has ${header.tiles} tiles; at most ${MAX_TILES} are read`);
  if (header.signed && header.precision <= 8) {
    reject('the JPEG 2000 frame holds signed 8-bit samples, which the decoder clips; it is not converted');
  }
  return openjpeg.use(({ J2KDecoder }, report) => {
    // On any error the instance is dropped whole (see WasmCodec), so only success deletes.
    const decoder = new J2KDecoder();
    decoder.getEncodedBuffer(frame.length).set(frame);
    try {
      decoder.decode();
    } catch (err) {
      reject(`the JPEG 2000 frame cannot be decoded: ${report.failure(err)}`);
    }
    // Warnings (an unknown marker, an odd box) leave a decodable image; errors do not.
    const problems = report.messages.filter((m) => m.includes('[ERROR]'));
    if (problems.length > 0) {
      reject(`the JPEG 2000 frame cannot be decoded: ${problems.map((m) => m.trim()).join('; ')}`);
    }
    const info = decoder.getFrameInfo();
    checkDecodedFrame('JPEG 2000', info, format);
    const pixels = storedValues(
      'JPEG 2000',
      decoder.getDecodedBuffer(),
      info.bitsPerSample > 8 ? 2 : 1,
      format,
    );
    decoder.delete();
    return pixels;
  });
}
