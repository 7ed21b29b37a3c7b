import * as zlib from 'node:zlib';
import { encodeFrame, loadFrameEncoders, TRANSFER_SYNTAX } from './dicom-frame-encoders';

/**
 * DICOM Part 10 files for the conversion tests, written byte by byte (explicit VR little endian),
 * so a test knows the truth it checks against and can write what scanners should not.
 */
export interface SliceSpec {
  readonly seriesUid: string;
  readonly rows: number;
  readonly columns: number;
  /** ImagePositionPatient and ImageOrientationPatient; left out for radiographs and captures. */
  readonly position?: readonly number[];
  readonly orientation?: readonly number[];
  readonly pixelSpacing: readonly number[];
  /** CT by default. */
  readonly modality?: string;
  /** SOPClassUID; CT Image Storage by default. */
  readonly sopClass?: string;
  /** Where the pixel spacing is written: PixelSpacing by default, ImagerPixelSpacing (radiographs), or nowhere. */
  readonly spacingAttribute?: 'PixelSpacing' | 'ImagerPixelSpacing' | 'none';
  /** ImagerPixelSpacing written beside PixelSpacing. */
  readonly imagerPixelSpacing?: readonly number[];
  /** EstimatedRadiographicMagnificationFactor. */
  readonly magnificationFactor?: number;
  /** WindowCenter and WindowWidth; 40 and 400 by default. */
  readonly window?: readonly [center: number, width: number];
  /** The data set written in implicit VR whatever the transfer syntax says, as some writers do. */
  readonly implicitVr?: boolean;
  /** More elements of the data set, put in tag order with the others. */
  readonly extra?: readonly Element[];
  /** 16-bit signed grey by default; 8-bit unsigned grey or RGB with `bitsAllocated: 8`. */
  readonly pixels: Int16Array | Uint16Array | Uint8Array | Int8Array;
  readonly bitsAllocated?: 8 | 16;
  readonly samplesPerPixel?: 1 | 3;
  /** For RGB: 0 interleaved, 1 plane by plane (the pixels given as they are stored). */
  readonly planarConfiguration?: 0 | 1;
  /** PhotometricInterpretation; MONOCHROME2 or RGB by default. */
  readonly photometric?: string;
  /** PixelRepresentation 1; by default 16-bit is signed and 8-bit is not. */
  readonly signed?: boolean;
  /** Bits per sample in the file and its code stream; the bits allocated by default. */
  readonly bitsStored?: number;
  /** For compressed transfer syntaxes: the frame as written; encoded from `pixels` when not given. */
  readonly frame?: Buffer;
  /** Lossless JPEG predictor, 1 to 7 (default 1). */
  readonly predictor?: number;
  /** JPEG-LS colour coding: 0 plane by plane, 1 by line, 2 by sample (default). */
  readonly interleaveMode?: number;
  readonly instance: number;
  readonly rescaleSlope?: number;
  readonly rescaleIntercept?: number;
  readonly patientName?: string;
  readonly transferSyntax?: string;
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export type Element = [group: number, element: number, vr: string, value: Buffer];

export const text = (value: string) => {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from(' ')]) : bytes;
};
export const uid = (value: string) => {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from([0])]) : bytes;
};
export const us = (value: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
export const ds = (values: readonly number[]) =>
  text(values.map((v) => String(Number(v.toFixed(6)))).join('\\'));

export function encode([group, element, vr, value]: Element): Buffer {
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(element, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

export function dicomSlice(spec: SliceSpec): Buffer {
  const transferSyntax = spec.transferSyntax ?? '1.2.840.10008.1.2.1';
  const sopInstance = `${spec.seriesUid}.${spec.instance}`;
  const bits = spec.bitsAllocated ?? 16;
  const samples = spec.samplesPerPixel ?? 1;
  const stored = spec.bitsStored ?? bits;
  const signed = spec.signed ?? bits === 16;
  const meta: Element[] = [
    [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
    [0x0002, 0x0002, 'UI', uid(spec.sopClass ?? CT_IMAGE_STORAGE)],
    [0x0002, 0x0003, 'UI', uid(sopInstance)],
    [0x0002, 0x0010, 'UI', uid(transferSyntax)],
  ];
  const metaBody = Buffer.concat(meta.map(encode));
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const dataset = (
    [
      [0x0008, 0x0016, 'UI', uid(spec.sopClass ?? CT_IMAGE_STORAGE)],
      [0x0008, 0x0018, 'UI', uid(sopInstance)],
      [0x0008, 0x0060, 'CS', text(spec.modality ?? 'CT')],
      [0x0010, 0x0010, 'PN', text(spec.patientName ?? 'Doe^Jane')],
      [0x0010, 0x0020, 'LO', text('PID-0042')],
      [0x0018, 0x0050, 'DS', ds([spec.pixelSpacing[0]])],
      ...(spec.magnificationFactor !== undefined
        ? ([[0x0018, 0x1114, 'DS', ds([spec.magnificationFactor])]] as Element[])
        : []),
      ...(spec.spacingAttribute === 'ImagerPixelSpacing' || spec.imagerPixelSpacing
        ? ([[0x0018, 0x1164, 'DS', ds(spec.imagerPixelSpacing ?? spec.pixelSpacing)]] as Element[])
        : []),
      [0x0020, 0x000e, 'UI', uid(spec.seriesUid)],
      [0x0020, 0x0013, 'IS', text(String(spec.instance))],
      ...(spec.position ? ([[0x0020, 0x0032, 'DS', ds(spec.position)]] as Element[]) : []),
      ...(spec.orientation ? ([[0x0020, 0x0037, 'DS', ds(spec.orientation)]] as Element[]) : []),
      [0x0028, 0x0002, 'US', us(samples)],
      [0x0028, 0x0004, 'CS', text(spec.photometric ?? (samples === 3 ? 'RGB' : 'MONOCHROME2'))],
      ...(samples === 3 ? ([[0x0028, 0x0006, 'US', us(spec.planarConfiguration ?? 0)]] as Element[]) : []),
      [0x0028, 0x0010, 'US', us(spec.rows)],
      [0x0028, 0x0011, 'US', us(spec.columns)],
      ...(spec.spacingAttribute === 'ImagerPixelSpacing' || spec.spacingAttribute === 'none'
        ? []
        : ([[0x0028, 0x0030, 'DS', ds(spec.pixelSpacing)]] as Element[])),
      [0x0028, 0x0100, 'US', us(bits)],
      [0x0028, 0x0101, 'US', us(stored)],
      [0x0028, 0x0102, 'US', us(stored - 1)],
      [0x0028, 0x0103, 'US', us(signed ? 1 : 0)],
      [0x0028, 0x1050, 'DS', ds([spec.window?.[0] ?? 40])],
      [0x0028, 0x1051, 'DS', ds([spec.window?.[1] ?? 400])],
      [0x0028, 0x1052, 'DS', ds([spec.rescaleIntercept ?? 0])],
      [0x0028, 0x1053, 'DS', ds([spec.rescaleSlope ?? 1])],
      ...(spec.extra ?? []),
    ] as Element[]
  ).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const raw = Buffer.from(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.byteLength);
  const compressed = (Object.values(TRANSFER_SYNTAX) as string[]).includes(transferSyntax);
  const frame = () =>
    spec.frame ??
    encodeFrame(
      transferSyntax,
      { ...spec, samples, bitsAllocated: bits, bitsStored: stored, signed },
      spec.interleaveMode,
    );
  const pixelData = compressed
    ? encapsulated(frame())
    : encode([
        0x7fe0,
        0x0010,
        bits === 8 ? 'OB' : 'OW',
        raw.length % 2 ? Buffer.concat([raw, Buffer.from([0])]) : raw,
      ]);
  let body = spec.implicitVr
    ? Buffer.concat([...dataset.map(encodeImplicit), implicitPixelData(pixelData)])
    : Buffer.concat([...dataset.map(encode), pixelData]);
  // Deflated explicit VR little endian: the data set after the file meta group is raw-deflated.
  if (transferSyntax === '1.2.840.10008.1.2.1.99') body = zlib.deflateRawSync(body);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encode([0x0002, 0x0000, 'UL', groupLength]),
    metaBody,
    body,
  ]);
}

/** An element in implicit VR little endian: tag, 32-bit length, value. */
function encodeImplicit([group, element, , value]: Element): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(element, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

/** The pixel data element written above in explicit VR (12-byte header) rewritten in implicit VR. */
function implicitPixelData(explicit: Buffer): Buffer {
  const head = Buffer.alloc(8);
  explicit.copy(head, 0, 0, 4);
  head.writeUInt32LE(explicit.readUInt32LE(8), 4);
  return Buffer.concat([head, explicit.subarray(12)]);
}

/** Loads the JPEG-LS (and JPEG 2000) encoders before such files are written. */
export const loadJpegLsEncoder = loadFrameEncoders;

/** Pixel data of undefined length: an empty offset table item, one fragment, the delimiter. */
function encapsulated(frame: Buffer): Buffer {
  const item = (length: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(0xfffe, 0);
    b.writeUInt16LE(0xe000, 2);
    b.writeUInt32LE(length, 4);
    return b;
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const end = Buffer.alloc(8);
  end.writeUInt16LE(0xfffe, 0);
  end.writeUInt16LE(0xe0dd, 2);
  // Fragments have even lengths: an odd frame gets a trailing zero.
  const even = frame.length % 2 ? Buffer.concat([frame, Buffer.from([0])]) : frame;
  return Buffer.concat([head, item(0), item(even.length), even, end]);
}
