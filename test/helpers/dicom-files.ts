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
  readonly pixels: Int16Array;
  readonly instance: number;
  readonly rescaleSlope?: number;
  readonly rescaleIntercept?: number;
  readonly patientName?: string;
  readonly transferSyntax?: string;
}

type Element = [group: number, element: number, vr: string, value: Buffer];

const text = (value: string) => {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from(' ')]) : bytes;
};
const uid = (value: string) => {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from([0])]) : bytes;
};
const us = (value: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
const ds = (values: readonly number[]) => text(values.map((v) => String(Number(v.toFixed(6)))).join('\\'));

function encode([group, element, vr, value]: Element): Buffer {
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
    [0x0028, 0x0002, 'US', us(1)],
    [0x0028, 0x0004, 'CS', text('MONOCHROME2')],
    [0x0028, 0x0010, 'US', us(spec.rows)],
    [0x0028, 0x0011, 'US', us(spec.columns)],
    [0x0028, 0x0030, 'DS', ds(spec.pixelSpacing)],
    [0x0028, 0x0100, 'US', us(16)],
    [0x0028, 0x0101, 'US', us(16)],
    [0x0028, 0x0102, 'US', us(15)],
    [0x0028, 0x0103, 'US', us(1)],
    [0x0028, 0x1050, 'DS', ds([40])],
    [0x0028, 0x1051, 'DS', ds([400])],
    [0x0028, 0x1052, 'DS', ds([spec.rescaleIntercept ?? 0])],
    [0x0028, 0x1053, 'DS', ds([spec.rescaleSlope ?? 1])],
    [0x7fe0, 0x0010, 'OW', Buffer.from(spec.pixels.buffer, spec.pixels.byteOffset, spec.pixels.byteLength)],
  ];
  let body = Buffer.concat(dataset.map(encode));
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
