import { CodedFrame } from './frame-format';
import { reject } from './rejection';

/** The image and tile size (SIZ) of a JPEG 2000 codestream (ITU T.800 annex A.5.1). */
export interface J2kFrameHeader extends CodedFrame {
  readonly signed: boolean;
  readonly tiles: number;
}

/** The codestream of a frame: DICOM asks for a bare codestream, some writers wrap it in JP2 boxes. */
function codestream(frame: Buffer): Buffer {
  if (frame.length >= 4 && frame.readUInt32BE(0) === 0xff4fff51) return frame;
  const jp2Signature = frame.length >= 12 && frame.readUInt32BE(4) === 0x6a502020; // 'jP  '
  if (!jp2Signature) reject('the JPEG 2000 frame is neither a codestream nor a JP2 file');
  let at = 0;
  while (at + 8 <= frame.length) {
    let length = frame.readUInt32BE(at);
    const type = frame.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (length === 1) {
      if (at + 16 > frame.length) break;
      length = Number(frame.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (length === 0) {
      length = frame.length - at;
    }
    if (length < body - at || at + length > frame.length) break;
    if (type === 'jp2c') return codestream(frame.subarray(body, at + length));
    at += length;
  }
  return reject('the JP2 file of the JPEG 2000 frame holds no complete codestream box');
}

/**
 * Reads the SIZ marker segment, which must follow the start of codestream, and refuses what the
 * converter cannot place: an image offset, subsampled or unequal components, absurd tiling.
 */
export function readJ2kFrameHeader(frame: Buffer): J2kFrameHeader {
  const stream = codestream(frame);
  if (stream.length < 4 || stream.readUInt32BE(0) !== 0xff4fff51) {
    reject('the JPEG 2000 codestream does not start with SOC and SIZ markers');
  }
  if (stream.length < 6 + 38) reject('the JPEG 2000 codestream is truncated in its SIZ marker');
  const length = stream.readUInt16BE(4);
  const components = stream.readUInt16BE(4 + 36);
  if (length !== 38 + 3 * components || 4 + length > stream.length) {
    reject('the JPEG 2000 SIZ marker is truncated or inconsistent');
  }
  const [width, height, offsetX, offsetY, tileWidth, tileHeight, tileOffsetX, tileOffsetY] = Array.from(
    { length: 8 },
    (_, i) => stream.readUInt32BE(8 + 4 * i),
  );
  if (offsetX !== 0 || offsetY !== 0) {
    reject(`the JPEG 2000 frame has an image offset (${offsetX}, ${offsetY}); DICOM frames start at 0`);
  }
  const precision = (stream[42] & 0x7f) + 1;
  const signed = (stream[42] & 0x80) !== 0;
  for (let c = 0; c < components; c++) {
    const at = 42 + 3 * c;
    if (stream[at] !== stream[42]) reject('the JPEG 2000 components differ in depth or sign');
    if (stream[at + 1] !== 1 || stream[at + 2] !== 1) {
      reject('the JPEG 2000 frame has subsampled components, which DICOM does not allow');
    }
  }
  if (tileWidth === 0 || tileHeight === 0 || tileOffsetX > offsetX || tileOffsetY > offsetY) {
    reject('the JPEG 2000 tiling is not valid');
  }
  const tiles = Math.ceil((width - tileOffsetX) / tileWidth) * Math.ceil((height - tileOffsetY) / tileHeight);
  return { columns: width, rows: height, components, precision, signed, tiles };
}
