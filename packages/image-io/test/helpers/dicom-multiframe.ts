import { Element, ds, encode, text, uid, us } from './dicom-files';
import { encodeFrame, TRANSFER_SYNTAX } from './dicom-frame-encoders';

/**
 * Multi-frame DICOM files for the conversion tests, written byte by byte (explicit VR little
 * endian): enhanced CT with per-frame functional groups, and nuclear medicine (classic
 * multi-frame) whose frames step along the slice normal by SpacingBetweenSlices.
 */
export interface MultiFrameSpec {
  readonly seriesUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly pixelSpacing: readonly number[];
  readonly orientation: readonly number[];
  readonly frames: readonly {
    readonly position: readonly number[];
    readonly pixels: Int16Array;
    readonly temporalIndex?: number;
    /** The instance the frame was converted from (ConversionSourceAttributesSequence). */
    readonly sourceInstance?: string;
  }[];
  /** Functional groups (enhanced CT), or classic NM geometry with SpacingBetweenSlices. */
  readonly enhanced: boolean;
  readonly spacingBetweenSlices?: number;
  readonly rescaleIntercept?: number;
  readonly rescaleSlope?: number;
  /** RLE frames, one fragment each, with or without a basic offset table; native otherwise. */
  readonly rle?: 'one-fragment-per-frame' | 'offset-table' | 'two-fragments-per-frame';
  /** Per-frame functional group items to leave out, to write a broken file. */
  readonly perFrameItems?: number;
}

const RLE = '1.2.840.10008.1.2.5';
const NATIVE = '1.2.840.10008.1.2.1';

const item = (content: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(0xe000, 2);
  head.writeUInt32LE(content.length, 4);
  return Buffer.concat([head, content]);
};
/** A sequence of defined length, each item a list of elements. */
const sequence = (group: number, element: number, items: Element[][]): Element => [
  group,
  element,
  'SQ',
  Buffer.concat(items.map((elements) => item(Buffer.concat(elements.map(encode))))),
];

export function multiFrameFile(spec: MultiFrameSpec): Buffer {
  const sopClass = spec.enhanced ? '1.2.840.10008.5.1.4.1.1.2.1' : '1.2.840.10008.5.1.4.1.1.20';
  const sopInstance = `${spec.seriesUid}.1`;
  const transferSyntax = spec.rle ? RLE : NATIVE;
  const metaBody = Buffer.concat(
    (
      [
        [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
        [0x0002, 0x0002, 'UI', uid(sopClass)],
        [0x0002, 0x0003, 'UI', uid(sopInstance)],
        [0x0002, 0x0010, 'UI', uid(transferSyntax)],
      ] as Element[]
    ).map(encode),
  );
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  const rescale: Element[] = [
    [0x0028, 0x1052, 'DS', ds([spec.rescaleIntercept ?? 0])],
    [0x0028, 0x1053, 'DS', ds([spec.rescaleSlope ?? 1])],
    [0x0028, 0x1054, 'LO', text('HU')],
  ];
  const measures: Element[] = [
    [0x0018, 0x0050, 'DS', ds([spec.spacingBetweenSlices ?? 1])],
    [0x0018, 0x0088, 'DS', ds([spec.spacingBetweenSlices ?? 1])],
    [0x0028, 0x0030, 'DS', ds(spec.pixelSpacing)],
  ];
  const geometry: Element[] = spec.enhanced
    ? [
        sequence(0x5200, 0x9229, [
          [
            sequence(0x0020, 0x9116, [[[0x0020, 0x0037, 'DS', ds(spec.orientation)]]]),
            sequence(0x0028, 0x9110, [measures]),
            sequence(0x0028, 0x9145, [rescale]),
            sequence(0x0028, 0x9132, [
              [
                [0x0028, 0x1050, 'DS', ds([40])],
                [0x0028, 0x1051, 'DS', ds([400])],
              ],
            ]),
          ],
        ]),
        sequence(
          0x5200,
          0x9230,
          spec.frames.slice(0, spec.perFrameItems ?? spec.frames.length).map((frame) => [
            sequence(0x0020, 0x9111, [
              frame.temporalIndex === undefined ? [] : [[0x0020, 0x9128, 'UL', uint32(frame.temporalIndex)]],
            ]),
            sequence(0x0020, 0x9113, [[[0x0020, 0x0032, 'DS', ds(frame.position)]]]),
            ...(frame.sourceInstance
              ? [
                  sequence(0x0020, 0x9172, [
                    [
                      [0x0008, 0x1150, 'UI', uid('1.2.840.10008.5.1.4.1.1.2')],
                      [0x0008, 0x1155, 'UI', uid(frame.sourceInstance)],
                    ],
                  ]),
                ]
              : []),
          ]),
        ),
      ]
    : [
        ...measures,
        ...rescale,
        // Nuclear medicine keeps the first frame's geometry in its Detector Information Sequence.
        sequence(0x0054, 0x0022, [
          [
            [0x0020, 0x0032, 'DS', ds(spec.frames[0].position)],
            [0x0020, 0x0037, 'DS', ds(spec.orientation)],
          ],
        ]),
      ];
  const elements: Element[] = [
    [0x0008, 0x0016, 'UI', uid(sopClass)],
    [0x0008, 0x0018, 'UI', uid(sopInstance)],
    [0x0008, 0x0060, 'CS', text(spec.enhanced ? 'CT' : 'NM')],
    [0x0010, 0x0010, 'PN', text('Doe^Jane')],
    [0x0020, 0x000e, 'UI', uid(spec.seriesUid)],
    [0x0020, 0x0013, 'IS', text('1')],
    [0x0028, 0x0002, 'US', us(1)],
    [0x0028, 0x0004, 'CS', text('MONOCHROME2')],
    [0x0028, 0x0008, 'IS', text(String(spec.frames.length))],
    [0x0028, 0x0010, 'US', us(spec.rows)],
    [0x0028, 0x0011, 'US', us(spec.columns)],
    [0x0028, 0x0100, 'US', us(16)],
    [0x0028, 0x0101, 'US', us(16)],
    [0x0028, 0x0102, 'US', us(15)],
    [0x0028, 0x0103, 'US', us(1)],
    ...geometry,
  ];
  const dataset = elements.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const frames = spec.frames.map((f) =>
    Buffer.from(f.pixels.buffer, f.pixels.byteOffset, f.pixels.byteLength),
  );
  const rle = (frame: MultiFrameSpec['frames'][number]) =>
    encodeFrame(TRANSFER_SYNTAX.rle, {
      pixels: frame.pixels,
      rows: spec.rows,
      columns: spec.columns,
      samples: 1,
      bitsAllocated: 16,
      signed: true,
    });
  const pixelData = spec.rle
    ? encapsulatedFrames(spec.frames.map(rle), spec.rle)
    : encode([0x7fe0, 0x0010, 'OW', Buffer.concat(frames)]);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encode([0x0002, 0x0000, 'UL', groupLength]),
    metaBody,
    ...dataset.map(encode),
    pixelData,
  ]);
}

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** Encapsulated pixel data of several frames, split into fragments as `layout` says. */
function encapsulatedFrames(frames: Buffer[], layout: NonNullable<MultiFrameSpec['rle']>): Buffer {
  const tagged = (element: number, content: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(element, 2);
    head.writeUInt32LE(content.length, 4);
    return Buffer.concat([head, content]);
  };
  const fragmentsOf = (frame: Buffer) => {
    if (layout !== 'two-fragments-per-frame') return [frame];
    const half = Math.floor(frame.length / 4) * 2;
    return [frame.subarray(0, half), frame.subarray(half)];
  };
  const items = frames.map((frame) => Buffer.concat(fragmentsOf(frame).map((f) => tagged(0xe000, f))));
  // Offsets from the first fragment's item tag to each frame's first fragment.
  const table = Buffer.alloc(layout === 'offset-table' ? 4 * frames.length : 0);
  let offset = 0;
  items.forEach((bytes, i) => {
    if (table.length) table.writeUInt32LE(offset, 4 * i);
    offset += bytes.length;
  });
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  return Buffer.concat([head, tagged(0xe000, table), ...items, tagged(0xe0dd, Buffer.alloc(0))]);
}

/**
 * Rewrites a flat explicit VR little endian file (as the test helpers write it, no sequences)
 * into explicit VR big endian: the meta group stays little endian, as the standard says.
 */
export function toBigEndian(file: Buffer): Buffer {
  const meta: Buffer[] = [];
  const body: Buffer[] = [];
  let at = 132;
  let syntaxRewritten = false;
  while (at < file.length) {
    const group = file.readUInt16LE(at);
    const element = file.readUInt16LE(at + 2);
    const vr = file.toString('latin1', at + 4, at + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const headLength = long ? 12 : 8;
    const length = long ? file.readUInt32LE(at + 8) : file.readUInt16LE(at + 6);
    let value = Buffer.from(file.subarray(at + headLength, at + headLength + length));
    if (group === 0x0002) {
      if (element === 0x0010) {
        value = uid('1.2.840.10008.1.2.2');
        syntaxRewritten = true;
      }
      if (element !== 0x0000) meta.push(encode([group, element, vr, value]));
    } else {
      if (vr === 'US' || vr === 'SS' || vr === 'OW') value.swap16();
      if (vr === 'UL' || vr === 'SL') value.swap32();
      const head = Buffer.alloc(headLength);
      head.writeUInt16BE(group, 0);
      head.writeUInt16BE(element, 2);
      head.write(vr, 4, 'latin1');
      if (long) head.writeUInt32BE(value.length, 8);
      else head.writeUInt16BE(value.length, 6);
      body.push(head, value);
    }
    at += headLength + length;
  }
  if (!syntaxRewritten) throw new Error('the file has no transfer syntax to rewrite');
  // The meta group's length changes with the transfer syntax UID.
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.reduce((n, c) => n + c.length, 0));
  return Buffer.concat([
    file.subarray(0, 132),
    encode([0x0002, 0x0000, 'UL', groupLength]),
    ...meta,
    ...body,
  ]);
}
