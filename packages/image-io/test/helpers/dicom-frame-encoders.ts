import type Sharp from 'sharp';
import { encodeJpegLossless } from './jpeg-lossless-encoder';

/**
 * Encoders for the compressed frames of test DICOM files, none of them the converter's decoder:
 * PackBits written here for RLE, the lossless JPEG encoder of jpeg-lossless-encoder.ts, the
 * CharLS and OpenJPEG encoders (full builds, not the decode-only ones the converter loads) and
 * libvips (sharp) for baseline JPEG.
 */
export const TRANSFER_SYNTAX = {
  rle: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessFirstOrder: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
} as const;

/** One frame's stored values and layout. */
export interface RawFrame {
  /** Stored values; RGB interleaved. */
  readonly pixels: Int16Array | Uint16Array | Uint8Array | Int8Array;
  readonly rows: number;
  readonly columns: number;
  readonly samples: 1 | 3;
  readonly bitsAllocated: 8 | 16;
  /** Bits per sample in the code stream; the bits allocated by default. */
  readonly bitsStored?: number;
  readonly signed: boolean;
  /** Lossless JPEG predictor, 1 to 7 (default 1). */
  readonly predictor?: number;
}

interface CharLsEncoder {
  getDecodedBuffer(info: {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
  }): Uint8Array;
  setNearLossless(error: number): void;
  setInterleaveMode(mode: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
}

interface OpenJpegEncoder {
  getDecodedBuffer(info: {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
    isUsingColorTransform: boolean;
  }): Uint8Array;
  setDecompositions(levels: number): void;
  setQuality(lossless: boolean, layers: number): void;
  setCompressionRatio(layer: number, ratio: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
}

let charls: { JpegLSEncoder: new () => CharLsEncoder } | undefined;
let openjpeg: { J2KEncoder: new () => OpenJpegEncoder } | undefined;

/** Loads the CharLS and OpenJPEG encoders once; call before writing JPEG-LS or JPEG 2000 files. */
export async function loadFrameEncoders(): Promise<void> {
  charls ??= await (require('@cornerstonejs/codec-charls') as () => Promise<typeof charls>)();
  openjpeg ??= await (require('@cornerstonejs/codec-openjpeg/wasmjs') as () => Promise<typeof openjpeg>)();
}

const bytesOf = (frame: RawFrame) =>
  Buffer.from(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength);

/** Colour planes one after the other (RRR...GGG...BBB...), as some encoders take them. */
function planes(frame: RawFrame): Buffer {
  const pixels = frame.rows * frame.columns;
  const interleaved = bytesOf(frame);
  const out = Buffer.alloc(interleaved.length);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) out[c * pixels + i] = interleaved[3 * i + c];
  }
  return out;
}

/**
 * The frame in a synchronous encoder of the transfer syntax: RLE, JPEG lossless, JPEG-LS
 * (near-lossless within 2 for .81), JPEG 2000 (reversible for .90, 5:1 irreversible for .91).
 * `interleaveMode` picks JPEG-LS colour coding: 0 plane by plane, 1 by line, 2 by sample.
 */
export function encodeFrame(transferSyntax: string, frame: RawFrame, interleaveMode = 2): Buffer {
  const precision = frame.bitsStored ?? frame.bitsAllocated;
  switch (transferSyntax) {
    case TRANSFER_SYNTAX.rle:
      return rleFrame(frame);
    case TRANSFER_SYNTAX.jpegLossless:
    case TRANSFER_SYNTAX.jpegLosslessFirstOrder:
      return encodeJpegLossless(frame.pixels, {
        width: frame.columns,
        height: frame.rows,
        components: frame.samples,
        precision,
        predictor: frame.predictor,
      });
    case TRANSFER_SYNTAX.jpegLs:
    case TRANSFER_SYNTAX.jpegLsNearLossless: {
      if (!charls) throw new Error('call loadFrameEncoders() first');
      const encoder = new charls.JpegLSEncoder();
      const info = {
        width: frame.columns,
        height: frame.rows,
        bitsPerSample: precision,
        componentCount: frame.samples,
      };
      encoder
        .getDecodedBuffer(info)
        .set(frame.samples === 3 && interleaveMode === 0 ? planes(frame) : bytesOf(frame));
      if (frame.samples === 3) encoder.setInterleaveMode(interleaveMode);
      encoder.setNearLossless(transferSyntax === TRANSFER_SYNTAX.jpegLsNearLossless ? 2 : 0);
      encoder.encode();
      return Buffer.from(encoder.getEncodedBuffer());
    }
    case TRANSFER_SYNTAX.jpeg2000Lossless:
    case TRANSFER_SYNTAX.jpeg2000: {
      if (!openjpeg) throw new Error('call loadFrameEncoders() first');
      const encoder = new openjpeg.J2KEncoder();
      encoder
        .getDecodedBuffer({
          width: frame.columns,
          height: frame.rows,
          bitsPerSample: precision,
          componentCount: frame.samples,
          isSigned: frame.signed,
          isUsingColorTransform: frame.samples === 3,
        })
        .set(bytesOf(frame));
      encoder.setDecompositions(2); // test frames are small
      if (transferSyntax === TRANSFER_SYNTAX.jpeg2000) {
        encoder.setQuality(false, 1);
        encoder.setCompressionRatio(0, 5);
      }
      encoder.encode();
      return Buffer.from(encoder.getEncodedBuffer());
    }
    default:
      throw new Error(`no synchronous encoder for ${transferSyntax}`);
  }
}

/** Baseline JPEG through libvips at quality 90: one grey component, or YCbCr 4:2:0 from RGB. */
export async function encodeJpegBaseline(frame: RawFrame): Promise<Buffer> {
  const sharp = require('sharp') as typeof Sharp;
  return sharp(bytesOf(frame), { raw: { width: frame.columns, height: frame.rows, channels: frame.samples } })
    .toColourspace(frame.samples === 1 ? 'b-w' : 'srgb')
    .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

/** PackBits as DICOM RLE uses it: repeat runs of three or more, literal runs otherwise. */
function packBits(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + Math.ceil(bytes.length / 128) + 1);
  let at = 0;
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && run < 128 && bytes[i + run] === bytes[i]) run++;
    if (run >= 3) {
      out[at++] = 257 - run;
      out[at++] = bytes[i];
      i += run;
      continue;
    }
    const start = i;
    while (
      i < bytes.length &&
      i - start < 128 &&
      !(i + 2 < bytes.length && bytes[i] === bytes[i + 1] && bytes[i] === bytes[i + 2])
    )
      i++;
    out[at++] = i - start - 1;
    at += bytes.copy(out, at, start, i);
  }
  if (at % 2) out[at++] = 0x80; // a no-op keeps the segment even
  return out.subarray(0, at);
}

/** One RLE frame: a segment per byte plane, sample by sample, most significant byte first. */
function rleFrame(frame: RawFrame): Buffer {
  const raw = bytesOf(frame);
  const bytes = frame.bitsAllocated / 8;
  const pixels = frame.rows * frame.columns;
  const segments: Buffer[] = [];
  for (let sample = 0; sample < frame.samples; sample++) {
    for (let byte = bytes - 1; byte >= 0; byte--) {
      const plane = Buffer.alloc(pixels);
      for (let i = 0; i < pixels; i++) plane[i] = raw[(i * frame.samples + sample) * bytes + byte];
      segments.push(packBits(plane));
    }
  }
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let offset = 64;
  segments.forEach((segment, i) => {
    header.writeUInt32LE(offset, 4 + 4 * i);
    offset += segment.length;
  });
  return Buffer.concat([header, ...segments]);
}
