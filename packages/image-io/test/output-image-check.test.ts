import { deflateSync } from 'node:zlib';
import { checkOutputImage } from '../src/output-image-check';

const header = (fields: string) =>
  Buffer.from(`ObjectType = Image\nNDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n${fields}`);
const voxels = Buffer.alloc(24);

/** A file an algorithm wrote, its head its whole content, beside the given files. */
const written = (name: string, content: Buffer, siblings: Record<string, number> = {}) => ({
  name,
  head: content,
  bytes: content.length,
  sizeOfSibling: (sibling: string) => siblings[sibling],
});

describe('an image output is checked by its header and file sizes', () => {
  test('a .mha with all its voxels passes', () => {
    const mha = Buffer.concat([header('ElementDataFile = LOCAL\n'), voxels]);
    expect(checkOutputImage(written('mask.mha', mha))).toEqual({});
  });

  test('a .mhd passes with the data file it names, which the check reports', () => {
    const mhd = header('ElementDataFile = mask.raw\n');
    expect(checkOutputImage(written('mask.mhd', mhd, { 'mask.raw': 24 }))).toEqual({ dataFile: 'mask.raw' });
  });

  test('compressed data is left to the converter: its size says nothing', () => {
    const mhd = header('CompressedData = True\nElementDataFile = mask.zraw\n');
    const zraw = deflateSync(voxels).length;
    expect(checkOutputImage(written('mask.mhd', mhd, { 'mask.zraw': zraw }))).toEqual({
      dataFile: 'mask.zraw',
    });
  });

  /** A TIFF header whose first image directory is at byte `offset`, followed by `rest` bytes. */
  const tiff = (byteOrder: 'II' | 'MM', bigTiff: boolean, offset: number, rest = 64) => {
    const head = Buffer.alloc(bigTiff ? 16 : 8);
    const little = byteOrder === 'II';
    head.write(byteOrder, 0, 'latin1');
    const u16 = (value: number, at: number) =>
      little ? head.writeUInt16LE(value, at) : head.writeUInt16BE(value, at);
    if (bigTiff) {
      u16(43, 2);
      u16(8, 4);
      if (little) head.writeBigUInt64LE(BigInt(offset), 8);
      else head.writeBigUInt64BE(BigInt(offset), 8);
    } else {
      u16(42, 2);
      if (little) head.writeUInt32LE(offset, 4);
      else head.writeUInt32BE(offset, 4);
    }
    return Buffer.concat([head, Buffer.alloc(rest)]);
  };

  test('TIFF, little- and big-endian, classic and BigTIFF, passes on its header', () => {
    for (const [order, big] of [
      ['II', false],
      ['MM', false],
      ['II', true],
      ['MM', true],
    ] as const) {
      expect(checkOutputImage(written('mask.tif', tiff(order, big, 20)))).toEqual({});
    }
  });

  test('a TIFF whose first image directory lies past its end is truncated', () => {
    expect(checkOutputImage(written('mask.tiff', tiff('MM', false, 500)))).toEqual({
      problem: 'the file is truncated: its first image directory is at byte 500 of 72',
    });
    expect(checkOutputImage(written('mask.tif', Buffer.from('II*\0', 'latin1')))).toEqual({
      problem: 'the file is truncated inside its TIFF header',
    });
  });

  test.each([
    ['mask.mha', header(''), {}, 'the header has no ElementDataFile line'],
    [
      'mask.mha',
      Buffer.concat([header('ElementDataFile = LOCAL\n'), voxels.subarray(0, 10)]),
      {},
      'the file is truncated: 10 bytes of voxel data, 24 expected',
    ],
    [
      'mask.mhd',
      header('ElementDataFile = mask.raw\n'),
      { 'mask.raw': 23 },
      'the file is truncated: 23 bytes of voxel data, 24 expected',
    ],
    [
      'mask.mhd',
      header('ElementDataFile = mask.raw\n'),
      {},
      'the header names the data file "mask.raw", which is not beside it in the output folder',
    ],
    [
      'mask.mhd',
      header('ElementDataFile = ../other/mask.raw\n'),
      {},
      'the header names the data file "../other/mask.raw", which is not a plain file name of this upload',
    ],
    [
      'mask.mha',
      Buffer.from(
        'ObjectType = Image\nNDims = 2\nDimSize = 4 3\nElementType = MET_STRING\nElementDataFile = LOCAL\n',
      ),
      {},
      'ElementType MET_STRING is not supported',
    ],
    ['mask.tif', Buffer.from('\x89PNG\r\n', 'latin1'), {}, 'the file does not start with a TIFF header'],
  ])('%s that cannot be converted is named with why: %#', (name, content, siblings, problem) => {
    expect(checkOutputImage(written(name, content, siblings))).toEqual({ problem });
  });
});
