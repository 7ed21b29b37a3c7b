import * as zlib from 'node:zlib';

/**
 * DICOM Part 10 files for the conversion tests, written byte by byte (explicit VR little endian),
 * so a test knows the truth it checks against and can write what scanners should not.
 */
export interface SliceSpec {
  readonly seriesUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly position: readonly number[];
  readonly orientation: readonly number[];
  readonly pixelSpacing: readonly number[];
  /** 16-bit signed grey by default; 8-bit unsigned grey or RGB with `bitsAllocated: 8`. */
  readonly pixels: Int16Array | Uint8Array;
  readonly bitsAllocated?: 8 | 16;
  readonly samplesPerPixel?: 1 | 3;
  /** For RGB: 0 interleaved, 1 plane by plane (the pixels given as they are stored). */
  readonly planarConfiguration?: 0 | 1;
  readonly instance: number;
  readonly rescaleSlope?: number;
  readonly rescaleIntercept?: number;
  readonly patientName?: string;
  readonly transferSyntax?: string;
}

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
  const meta: Element[] = [
    [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
    [0x0002, 0x0002, 'UI', uid('1.2.840.10008.5.1.4.1.1.2')],
    [0x0002, 0x0003, 'UI', uid(sopInstance)],
    [0x0002, 0x0010, 'UI', uid(transferSyntax)],
  ];
  const metaBody = Buffer.concat(meta.map(encode));
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const dataset: Element[] = [
    [0x0008, 0x0016, 'UI', uid('1.2.840.10008.5.1.4.1.1.2')],
    [0x0008, 0x0018, 'UI', uid(sopInstance)],
    [0x0008, 0x0060, 'CS', text('CT')],
    [0x0010, 0x0010, 'PN', text(spec.patientName ?? 'Doe^Jane')],
    [0x0010, 0x0020, 'LO', text('PID-0042')],
    [0x0018, 0x0050, 'DS', ds([spec.pixelSpacing[0]])],
    [0x0020, 0x000e, 'UI', uid(spec.seriesUid)],
    [0x0020, 0x0013, 'IS', text(String(spec.instance))],
    [0x0020, 0x0032, 'DS', ds(spec.position)],
    [0x0020, 0x0037, 'DS', ds(spec.orientation)],
    [0x0028, 0x0002, 'US', us(samples)],
    [0x0028, 0x0004, 'CS', text(samples === 3 ? 'RGB' : 'MONOCHROME2')],
    ...(samples === 3 ? ([[0x0028, 0x0006, 'US', us(spec.planarConfiguration ?? 0)]] as Element[]) : []),
    [0x0028, 0x0010, 'US', us(spec.rows)],
    [0x0028, 0x0011, 'US', us(spec.columns)],
    [0x0028, 0x0030, 'DS', ds(spec.pixelSpacing)],
    [0x0028, 0x0100, 'US', us(bits)],
    [0x0028, 0x0101, 'US', us(bits)],
    [0x0028, 0x0102, 'US', us(bits - 1)],
    [0x0028, 0x0103, 'US', us(bits === 16 ? 1 : 0)],
    [0x0028, 0x1050, 'DS', ds([40])],
    [0x0028, 0x1051, 'DS', ds([400])],
    [0x0028, 0x1052, 'DS', ds([spec.rescaleIntercept ?? 0])],
    [0x0028, 0x1053, 'DS', ds([spec.rescaleSlope ?? 1])],
  ];
  const raw = Buffer.from(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.byteLength);
  const pixelData =
    transferSyntax === RLE
      ? encapsulated(rleFrame(raw))
      : JPEG_LS.includes(transferSyntax)
        ? encapsulated(jpegLsFrame(raw, spec.columns, spec.rows, transferSyntax === JPEG_LS[1] ? 2 : 0))
        : encode([
            0x7fe0,
            0x0010,
            bits === 8 ? 'OB' : 'OW',
            raw.length % 2 ? Buffer.concat([raw, Buffer.from([0])]) : raw,
          ]);
  let body = Buffer.concat([...dataset.map(encode), pixelData]);
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

const RLE = '1.2.840.10008.1.2.5';
const JPEG_LS = ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'];

interface CharLsEncoder {
  getDecodedBuffer(info: {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
  }): Uint8Array;
  setNearLossless(error: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
}

/** The CharLS encoder, loaded once by `loadJpegLsEncoder()` before JPEG-LS files are written. */
let jpegLs: { JpegLSEncoder: new () => CharLsEncoder } | undefined;

export async function loadJpegLsEncoder(): Promise<void> {
  jpegLs ??= await (require('@cornerstonejs/codec-charls') as () => Promise<typeof jpegLs>)();
}

/** One JPEG-LS frame of 16-bit samples, lossless or within `nearLossless` of them. */
function jpegLsFrame(samples: Buffer, width: number, height: number, nearLossless: number): Buffer {
  if (!jpegLs) throw new Error('call loadJpegLsEncoder() first');
  const encoder = new jpegLs.JpegLSEncoder();
  encoder.getDecodedBuffer({ width, height, bitsPerSample: 16, componentCount: 1 }).set(samples);
  encoder.setNearLossless(nearLossless);
  encoder.encode();
  const frame = Buffer.from(encoder.getEncodedBuffer());
  return frame.length % 2 ? Buffer.concat([frame, Buffer.from([0])]) : frame;
}

/** PackBits as DICOM RLE uses it: repeat runs of three or more, literal runs otherwise. */
function packBits(bytes: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && run < 128 && bytes[i + run] === bytes[i]) run++;
    if (run >= 3) {
      out.push(257 - run, bytes[i]);
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
    out.push(i - start - 1, ...bytes.subarray(start, i));
  }
  if (out.length % 2) out.push(0x80); // a no-op keeps the segment even
  return Buffer.from(out);
}

/** One RLE frame of 16-bit samples: the high-byte plane, then the low-byte plane. */
export function rleFrame(samples: Buffer): Buffer {
  const count = samples.length / 2;
  const high = Buffer.alloc(count);
  const low = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    low[i] = samples[2 * i];
    high[i] = samples[2 * i + 1];
  }
  const [first, second] = [packBits(high), packBits(low)];
  const header = Buffer.alloc(64);
  header.writeUInt32LE(2, 0);
  header.writeUInt32LE(64, 4);
  header.writeUInt32LE(64 + first.length, 8);
  return Buffer.concat([header, first, second]);
}

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
  return Buffer.concat([head, item(0), item(frame.length), frame, end]);
}
