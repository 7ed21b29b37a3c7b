import { decodeJpegLs16 } from './dicom-jpeg-ls';
import { decodeRle16 } from './dicom-rle';
import { reject } from './rejection';

/** What a decoder needs to know about one frame, from the DICOM header. */
export interface FrameFormat {
  readonly rows: number;
  readonly columns: number;
  /** 1 for grey, 3 for colour. */
  readonly samples: number;
  readonly bitsAllocated: 8 | 16;
}

/** Decodes one encapsulated frame into stored values: 8-bit, or 16-bit little endian; colour interleaved. */
type FrameDecoder = (frame: Buffer, format: FrameFormat) => Promise<Buffer> | Buffer;

const NATIVE = new Map([
  ['1.2.840.10008.1.2', 'implicit VR little endian'],
  ['1.2.840.10008.1.2.1', 'explicit VR little endian'],
  ['1.2.840.10008.1.2.1.99', 'deflated explicit VR little endian'],
  ['1.2.840.10008.1.2.2', 'explicit VR big endian'],
]);

const greyOf16Bits =
  (name: string, decode: (frame: Buffer, format: FrameFormat) => Promise<Buffer> | Buffer): FrameDecoder =>
  (frame, format) => {
    if (format.bitsAllocated !== 16 || format.samples !== 1) {
      reject(
        `${name} ${format.bitsAllocated}-bit ${format.samples === 1 ? 'grey' : 'colour'} DICOM is not converted yet`,
      );
    }
    return decode(frame, format);
  };

/** Compressed transfer syntaxes read today, by UID: each a name and a frame decoder. */
const ENCAPSULATED = new Map<string, { name: string; decode: FrameDecoder }>([
  [
    '1.2.840.10008.1.2.5',
    {
      name: 'RLE lossless',
      decode: greyOf16Bits('RLE', (f, { rows, columns }) => decodeRle16(f, rows * columns)),
    },
  ],
  [
    '1.2.840.10008.1.2.4.80',
    {
      name: 'JPEG-LS lossless',
      decode: greyOf16Bits('JPEG-LS', (f, { rows, columns }) => decodeJpegLs16(f, columns, rows)),
    },
  ],
  [
    '1.2.840.10008.1.2.4.81',
    {
      name: 'JPEG-LS near-lossless',
      decode: greyOf16Bits('JPEG-LS', (f, { rows, columns }) => decodeJpegLs16(f, columns, rows)),
    },
  ],
]);

/** Transfer syntaxes recognised but not read, so a refusal names them. */
const NAMED: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG extended',
  '1.2.840.10008.1.2.4.57': 'JPEG lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG lossless, first-order prediction',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
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

/** Decodes one compressed frame of the given transfer syntax into stored values. */
export async function decodeFrame(uid: string, frame: Buffer, format: FrameFormat): Promise<Buffer> {
  const syntax = ENCAPSULATED.get(uid);
  if (!syntax) return reject(`unsupported transfer syntax ${uid}`);
  return syntax.decode(frame, format);
}
