import { Element, ds, encode, text, uid, us } from './dicom-files';
import { encodeJpegBaseline } from './dicom-frame-encoders';

/**
 * DICOM whole-slide files (VL Whole Slide Microscopy) for the conversion tests, written byte by
 * byte (explicit VR little endian): one level of a slide cut into tiles, TILED_FULL in row-major
 * order or TILED_SPARSE with each tile placed in its per-frame functional groups.
 */
export interface WholeSlideSpec {
  readonly seriesUid: string;
  readonly instance: number;
  /** The whole level, RGB interleaved, width x height. */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly tile: number;
  /** JPEG baseline tiles (YBR_FULL_422), or native RGB. */
  readonly jpeg: boolean;
  /** TILED_SPARSE, leaving out the tiles at these indexes (row-major); TILED_FULL when not given. */
  readonly sparseWithout?: readonly number[];
  readonly flavor?: 'VOLUME' | 'LABEL' | 'OVERVIEW';
  /** PixelSpacing in mm. */
  readonly spacing: number;
}

export const WHOLE_SLIDE = '1.2.840.10008.5.1.4.1.1.77.1.6';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const NATIVE = '1.2.840.10008.1.2.1';

const ul = (value: number) => Buffer.from(Uint32Array.of(value).buffer);
const sl = (value: number) => Buffer.from(Int32Array.of(value).buffer);
const item = (elements: readonly Element[]) => {
  const content = Buffer.concat(elements.map(encode));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0xe000fffe, 0);
  head.writeUInt32LE(content.length, 4);
  return Buffer.concat([head, content]);
};
const sequence = (group: number, element: number, items: readonly Element[][]): Element => [
  group,
  element,
  'SQ',
  Buffer.concat(items.map(item)),
];

/** The tile at column `tx`, row `ty` of the grid: RGB, edges beyond the level left black. */
function tileOf(spec: WholeSlideSpec, tx: number, ty: number): Uint8Array {
  const out = new Uint8Array(spec.tile * spec.tile * 3);
  for (let y = 0; y < spec.tile; y++) {
    for (let x = 0; x < spec.tile; x++) {
      const [sx, sy] = [tx * spec.tile + x, ty * spec.tile + y];
      if (sx >= spec.width || sy >= spec.height) continue;
      out.set(
        spec.pixels.subarray((sy * spec.width + sx) * 3, (sy * spec.width + sx) * 3 + 3),
        (y * spec.tile + x) * 3,
      );
    }
  }
  return out;
}

export async function wholeSlideFile(spec: WholeSlideSpec): Promise<Buffer> {
  const across = Math.ceil(spec.width / spec.tile);
  const down = Math.ceil(spec.height / spec.tile);
  const grid = Array.from({ length: across * down }, (_, i) => ({
    tx: i % across,
    ty: Math.floor(i / across),
    i,
  }));
  const kept = grid.filter(({ i }) => !spec.sparseWithout?.includes(i));
  const frames = await Promise.all(
    kept.map(async ({ tx, ty }) => {
      const pixels = tileOf(spec, tx, ty);
      return spec.jpeg
        ? encodeJpegBaseline({
            pixels,
            rows: spec.tile,
            columns: spec.tile,
            samples: 3,
            bitsAllocated: 8,
            signed: false,
          })
        : Buffer.from(pixels);
    }),
  );
  const transferSyntax = spec.jpeg ? JPEG_BASELINE : NATIVE;
  const sopInstance = `${spec.seriesUid}.${spec.instance}`;
  const metaBody = Buffer.concat(
    (
      [
        [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
        [0x0002, 0x0002, 'UI', uid(WHOLE_SLIDE)],
        [0x0002, 0x0003, 'UI', uid(sopInstance)],
        [0x0002, 0x0010, 'UI', uid(transferSyntax)],
      ] as Element[]
    ).map(encode),
  );
  const dataset: Element[] = [
    [0x0008, 0x0008, 'CS', text(`ORIGINAL\\PRIMARY\\${spec.flavor ?? 'VOLUME'}\\NONE`)],
    [0x0008, 0x0016, 'UI', uid(WHOLE_SLIDE)],
    [0x0008, 0x0018, 'UI', uid(sopInstance)],
    [0x0008, 0x0060, 'CS', text('SM')],
    [0x0020, 0x000e, 'UI', uid(spec.seriesUid)],
    [0x0020, 0x9311, 'CS', text(spec.sparseWithout ? 'TILED_SPARSE' : 'TILED_FULL')],
    [0x0028, 0x0002, 'US', us(3)],
    [0x0028, 0x0004, 'CS', text(spec.jpeg ? 'YBR_FULL_422' : 'RGB')],
    [0x0028, 0x0006, 'US', us(0)],
    [0x0028, 0x0008, 'IS', text(String(frames.length))],
    [0x0028, 0x0010, 'US', us(spec.tile)],
    [0x0028, 0x0011, 'US', us(spec.tile)],
    [0x0028, 0x0100, 'US', us(8)],
    [0x0028, 0x0101, 'US', us(8)],
    [0x0028, 0x0102, 'US', us(7)],
    [0x0028, 0x0103, 'US', us(0)],
    [0x0048, 0x0006, 'UL', ul(spec.width)],
    [0x0048, 0x0007, 'UL', ul(spec.height)],
    sequence(0x5200, 0x9229, [
      [sequence(0x0028, 0x9110, [[[0x0028, 0x0030, 'DS', ds([spec.spacing, spec.spacing])]]])],
    ]),
    ...(spec.sparseWithout
      ? [
          sequence(
            0x5200,
            0x9230,
            kept.map(({ tx, ty }) => [
              sequence(0x0048, 0x021a, [
                [
                  [0x0048, 0x021e, 'SL', sl(tx * spec.tile + 1)],
                  [0x0048, 0x021f, 'SL', sl(ty * spec.tile + 1)],
                ],
              ]),
            ]),
          ),
        ]
      : []),
  ];
  const pixelData = spec.jpeg ? encapsulated(frames) : encode([0x7fe0, 0x0010, 'OB', Buffer.concat(frames)]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBody.length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encode([0x0002, 0x0000, 'UL', groupLength]),
    metaBody,
    ...dataset.map(encode),
    pixelData,
  ]);
}

/** Encapsulated pixel data: an empty offset table, one fragment per frame, the delimiter. */
function encapsulated(frames: readonly Buffer[]): Buffer {
  const itemHead = (tag: number, length: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(tag, 0);
    b.writeUInt32LE(length, 4);
    return b;
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const even = frames.map((f) => (f.length % 2 ? Buffer.concat([f, Buffer.from([0])]) : f));
  return Buffer.concat([
    head,
    itemHead(0xe000fffe, 0),
    ...even.flatMap((f) => [itemHead(0xe000fffe, f.length), f]),
    itemHead(0xe0ddfffe, 0),
  ]);
}
