import { decodeJpeg } from './dicom-jpeg';
import { decodeJpeg2000 } from './dicom-jpeg-2000';
import { decodeJpegLossless } from './dicom-jpeg-lossless';
import { decodeJpegLs } from './dicom-jpeg-ls';
import { decodeRle } from './dicom-rle';
import { frameBytes, FrameFormat } from './frame-format';
import { reject } from './rejection';

export type { FrameFormat } from './frame-format';

/** Decodes one encapsulated frame into stored values: 8-bit, or 16-bit little endian; colour interleaved RGB. */
type FrameDecoder = (frame: Buffer, format: FrameFormat) => Promise<Buffer> | Buffer;

const NATIVE = new Map([
  ['1.2.840.10008.1.2', 'implicit VR little endian'],
  ['1.2.840.10008.1.2.1', 'explicit VR little endian'],
  ['1.2.840.10008.1.2.1.99', 'deflated explicit VR little endian'],
  ['1.2.840.10008.1.2.2', 'explicit VR big endian'],
]);

/**
 * Compressed transfer syntaxes read, by UID: each a name and a frame decoder. Every decoder
 * reads 8- and 16-bit grey and 8-bit colour, and compares the frame's own header with the
 * DICOM header before decoding.
 */
const ENCAPSULATED = new Map<string, { name: string; decode: FrameDecoder }>([
  ['1.2.840.10008.1.2.5', { name: 'RLE lossless', decode: decodeRle }],
  ['1.2.840.10008.1.2.4.50', { name: 'JPEG baseline', decode: decodeJpeg }],
  ['1.2.840.10008.1.2.4.51', { name: 'JPEG extended', decode: decodeJpeg }],
  ['1.2.840.10008.1.2.4.57', { name: 'JPEG lossless', decode: decodeJpegLossless }],
  ['1.2.840.10008.1.2.4.70', { name: 'JPEG lossless, first-order prediction', decode: decodeJpegLossless }],
  ['1.2.840.10008.1.2.4.80', { name: 'JPEG-LS lossless', decode: decodeJpegLs }],
  ['1.2.840.10008.1.2.4.81', { name: 'JPEG-LS near-lossless', decode: decodeJpegLs }],
  ['1.2.840.10008.1.2.4.90', { name: 'JPEG 2000 lossless', decode: decodeJpeg2000 }],
  ['1.2.840.10008.1.2.4.91', { name: 'JPEG 2000', decode: decodeJpeg2000 }],
]);

/** Transfer syntaxes recognised but not read, so a refusal names them. */
const NAMED: Record<string, string> = {
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 part 2 multi-component lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 part 2 multi-component',
  '1.2.840.10008.1.2.4.201': 'high-throughput JPEG 2000 lossless',
  '1.2.840.10008.1.2.4.202': 'high-throughput JPEG 2000 with RPCL options lossless',
  '1.2.840.10008.1.2.4.203': 'high-throughput JPEG 2000',
};

/** Refuses, by UID and name, a transfer syntax this converter does not read. */
export function checkTransferSyntax(uid: string): void {
  if (!NATIVE.has(uid) && !ENCAPSULATED.has(uid)) {
    reject(`unsupported transfer syntax ${uid}${NAMED[uid] ? ` (${NAMED[uid]})` : ''}`);
  }
}

/** True when pixel data of this transfer syntax comes in encapsulated, compressed frames. */
export function isEncapsulated(uid: string): boolean {
  return ENCAPSULATED.has(uid);
}

/**
 * Decodes one compressed frame of the given transfer syntax into stored values, exactly as many
 * bytes as the DICOM header promises, or refuses it with the reason.
 */
export async function decodeFrame(uid: string, frame: Buffer, format: FrameFormat): Promise<Buffer> {
  const syntax = ENCAPSULATED.get(uid);
  if (!syntax) return reject(`unsupported transfer syntax ${uid}`);
  if (format.samples !== 1 && !(format.samples === 3 && format.bitsAllocated === 8)) {
    reject(`${syntax.name} with ${format.samples} samples of ${format.bitsAllocated} bits is not converted`);
  }
  const pixels = await syntax.decode(frame, format);
  if (pixels.length !== frameBytes(format)) {
    reject(`the ${syntax.name} frame decoded to ${pixels.length} bytes; ${frameBytes(format)} expected`);
  }
  return pixels;
}
