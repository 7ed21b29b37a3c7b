import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { convertImageFiles, InputFile } from '../src/convert-image-files';
import { bigTiffLevels, stripedRgbTiff, stripedTiff } from './helpers/tiff-files';
import { ItkImage, runItk } from './helpers/itk';
import { tarArchive } from './helpers/tar-archive';
import { readWithLibtiff } from './helpers/libtiff';
import { buildZip } from './helpers/zip-builder';
import { dicomSlice } from './helpers/dicom-files';

const itk = (command: object) => runItk('itk-image.mjs', command);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conversion-'));
const fileOf = (name: string): InputFile => ({ name, load: () => fs.readFileSync(path.join(dir, name)) });

/** A rotation of 30 degrees about z, then 10 about x: an oblique acquisition. */
function obliqueDirection(): number[] {
  const [a, b] = [Math.PI / 6, Math.PI / 18];
  const rz = [
    [Math.cos(a), -Math.sin(a), 0],
    [Math.sin(a), Math.cos(a), 0],
    [0, 0, 1],
  ];
  const rx = [
    [1, 0, 0],
    [0, Math.cos(b), -Math.sin(b)],
    [0, Math.sin(b), Math.cos(b)],
  ];
  const m = rz.map((row) => [0, 1, 2].map((j) => row.reduce((sum, v, k) => sum + v * rx[k][j], 0)));
  return m.flat();
}

function samples(count: number, type: 'int16' | 'float32' | 'uint8'): string {
  const array =
    type === 'int16'
      ? Int16Array.from({ length: count }, (_, i) => ((i * 37) % 4000) - 1024)
      : type === 'float32'
        ? Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 1000)
        : Uint8Array.from({ length: count }, (_, i) => (i * 13) % 256);
  return Buffer.from(array.buffer).toString('base64');
}

const ct = {
  size: [7, 5, 4],
  spacing: [0.7, 0.8, 2.5],
  origin: [-120.5, 33.25, 410],
  direction: obliqueDirection(),
  componentType: 'int16',
  components: 1,
  data: samples(7 * 5 * 4, 'int16'),
};

async function convertAndReadBack(
  names: string[],
): Promise<{ output: ItkImage; result: Awaited<ReturnType<typeof convertImageFiles>> }> {
  const result = await convertImageFiles(names.map(fileOf));
  expect(result.rejected).toEqual([]);
  expect(result.images).toHaveLength(1);
  const outPath = path.join(dir, `out-${result.images[0].name}-${Math.random()}.mha`);
  fs.writeFileSync(outPath, result.images[0].content);
  return { output: await itk({ read: outPath }), result };
}

function expectSameImage(actual: ItkImage, expected: ItkImage): void {
  expect(actual.size).toEqual(expected.size);
  expect(actual.componentType).toBe(expected.componentType);
  expect(actual.components).toBe(expected.components);
  const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
  close(actual.spacing, expected.spacing);
  close(actual.origin, expected.origin);
  close(actual.direction, expected.direction);
  expect(actual.data).toBe(expected.data);
}

describe('conversion to MetaImage, checked with ITK', () => {
  test.each([
    ['NIfTI', 'ct.nii', false],
    ['gzipped NIfTI', 'ct.nii.gz', true],
    ['MetaImage', 'ct-in.mha', false],
    ['compressed MetaImage', 'ct-zipped.mha', true],
    ['NRRD', 'ct.nrrd', false],
    ['gzipped NRRD', 'ct-zipped.nrrd', true],
  ])('an oblique int16 CT in %s keeps its voxels and geometry', async (_, name, compress) => {
    await itk({ write: path.join(dir, name), image: ct, compress });
    const input = await itk({ read: path.join(dir, name) });
    const { output } = await convertAndReadBack([name]);
    expectSameImage(output, input);
  });

  test('a MetaImage header with its data in a separate file becomes one image', async () => {
    const data = Buffer.from(ct.data, 'base64');
    fs.writeFileSync(path.join(dir, 'split.raw'), data);
    fs.writeFileSync(
      path.join(dir, 'split.mhd'),
      `ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 1 2 3\nElementSpacing = 0.5 0.5 1\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = split.raw\n`,
    );
    const { output, result } = await convertAndReadBack(['split.mhd', 'split.raw']);
    expect(result.images[0].sources).toEqual(['split.mhd', 'split.raw']);
    expectSameImage(output, await itk({ read: path.join(dir, 'split.mhd') }));
  });

  test('a 2D float image and a big-endian MetaImage convert exactly', async () => {
    const slice = {
      ...ct,
      size: [9, 6],
      spacing: [0.3, 0.4],
      origin: [5, -5],
      direction: [1, 0, 0, 1],
      componentType: 'float32',
      data: samples(54, 'float32'),
    };
    await itk({ write: path.join(dir, 'slice.nii'), image: slice });
    expectSameImage(
      (await convertAndReadBack(['slice.nii'])).output,
      await itk({ read: path.join(dir, 'slice.nii') }),
    );

    const big = Buffer.from(ct.data, 'base64');
    big.swap16();
    fs.writeFileSync(
      path.join(dir, 'big.mha'),
      Buffer.concat([
        Buffer.from(
          'ObjectType = Image\nNDims = 3\nBinaryDataByteOrderMSB = True\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n',
        ),
        big,
      ]),
    );
    const { output } = await convertAndReadBack(['big.mha']);
    expect(output.data).toBe(ct.data);
  });

  test('an NRRD in RAS space is turned into LPS as ITK does', async () => {
    fs.writeFileSync(
      path.join(dir, 'ras.nrrd'),
      Buffer.concat([
        Buffer.from(
          'NRRD0004\ntype: short\ndimension: 3\nspace: right-anterior-superior\nsizes: 7 5 4\n' +
            'space directions: (0.7,0.1,0) (-0.1,0.8,0) (0,0,2.5)\nkinds: domain domain domain\n' +
            'endian: little\nencoding: raw\nspace origin: (10,-20,30)\n\n',
        ),
        Buffer.from(ct.data, 'base64'),
      ]),
    );
    const { output } = await convertAndReadBack(['ras.nrrd']);
    expectSameImage(output, await itk({ read: path.join(dir, 'ras.nrrd') }));
  });

  test('an RGB image keeps its three channels', async () => {
    const photo = {
      ...ct,
      size: [4, 3],
      spacing: [1, 1],
      origin: [0, 0],
      direction: [1, 0, 0, 1],
      componentType: 'uint8',
      components: 3,
      data: samples(36, 'uint8'),
    };
    await itk({ write: path.join(dir, 'photo.nrrd'), image: photo });
    const { output } = await convertAndReadBack(['photo.nrrd']);
    expectSameImage(output, await itk({ read: path.join(dir, 'photo.nrrd') }));
    expect(output.components).toBe(3);
  });

  test.each([
    ['an 8-bit grey PNG', 'grey.png', 'uint8', 1],
    ['a 16-bit grey PNG', 'deep.png', 'uint16', 1],
    ['an RGB PNG', 'colour.png', 'uint8', 3],
  ])('%s keeps its pixels', async (_, name, componentType, components) => {
    const count = 6 * 4 * components;
    const image = {
      ...ct,
      size: [6, 4],
      spacing: [1, 1],
      origin: [0, 0],
      direction: [1, 0, 0, 1],
      componentType,
      components,
      data:
        componentType === 'uint16'
          ? Buffer.from(Uint16Array.from({ length: count }, (_, i) => i * 997).buffer).toString('base64')
          : samples(count, 'uint8'),
    };
    await itk({ write: path.join(dir, name), image });
    const { output } = await convertAndReadBack([name]);
    expectSameImage(output, await itk({ read: path.join(dir, name) }));
  });

  test("ITK's own test image cthead1.png (shipped with @itk-wasm/dam) reads as ITK reads it", async () => {
    const shipped = path.join(path.dirname(require.resolve('@itk-wasm/dam')), 'test/data/cthead1.png');
    fs.copyFileSync(shipped, path.join(dir, 'cthead1.png'));
    const { output } = await convertAndReadBack(['cthead1.png']);
    expectSameImage(output, await itk({ read: path.join(dir, 'cthead1.png') }));
    expect(output.size).toEqual([256, 256]);
  });

  test('a JPEG decodes to the pixels that ITK decodes', async () => {
    await itk({
      write: path.join(dir, 'photo.jpg'),
      image: {
        ...ct,
        size: [16, 8],
        spacing: [1, 1],
        origin: [0, 0],
        direction: [1, 0, 0, 1],
        componentType: 'uint8',
        components: 1,
        data: samples(128, 'uint8'),
      },
    });
    const { output } = await convertAndReadBack(['photo.jpg']);
    const reference = await itk({ read: path.join(dir, 'photo.jpg') });
    // Both use libjpeg's exact integer decoder: the same pixels, not merely similar ones.
    expectSameImage(output, reference);
  });

  test('window settings are kept and the header carries nothing else of the source', async () => {
    fs.writeFileSync(
      path.join(dir, 'tagged.mha'),
      Buffer.concat([
        Buffer.from(
          'ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nWindowCenter = 40\nWindowWidth = 400\nPatientName = Doe^Jane\nElementDataFile = LOCAL\n',
        ),
        Buffer.from([1, 2, 3, 4]),
      ]),
    );
    const result = await convertImageFiles([fileOf('tagged.mha')]);
    const header = result.images[0].content.subarray(0, 600).toString('latin1');
    expect(header).toContain('WindowCenter = 40\nWindowWidth = 400\n');
    expect(header).not.toContain('Doe^Jane');
    expect(result.images[0].metadata).toMatchObject({ size: [2, 2], WindowCenter: '40' });
  });
});

describe('files that are refused, each with its reason, without stopping the others', () => {
  const write = (name: string, content: string | Buffer) => fs.writeFileSync(path.join(dir, name), content);
  const header = (dataFile: string) =>
    `ObjectType = Image\nNDims = 3\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = ${dataFile}\n`;

  test('a corrupt file beside good ones', async () => {
    await itk({ write: path.join(dir, 'good.nii'), image: ct });
    const good = fs.readFileSync(path.join(dir, 'ct-in.mha'));
    write('cut.mha', good.subarray(0, good.length - 30));
    const result = await convertImageFiles(['good.nii', 'cut.mha'].map(fileOf));
    expect(result.images.map((i) => i.name)).toEqual(['good.mha']);
    expect(result.rejected).toEqual([
      { filename: 'cut.mha', reason: 'the file is truncated: 250 bytes of voxel data, 280 expected' },
    ]);
  });

  test.each([
    [
      '/etc/passwd',
      'the header names the data file "/etc/passwd", which is not a plain file name of this upload',
    ],
    [
      '../outside.raw',
      'the header names the data file "../outside.raw", which is not a plain file name of this upload',
    ],
    ['missing.raw', 'the header names the data file "missing.raw", which is not part of this upload'],
  ])('a MetaImage header pointing at %s', async (dataFile, reason) => {
    write('pointer.mhd', header(dataFile));
    const result = await convertImageFiles([fileOf('pointer.mhd')]);
    expect(result).toEqual({ images: [], rejected: [{ filename: 'pointer.mhd', reason }] });
  });

  test('a decompression bomb stops at the size its header declares', async () => {
    const nifti = fs.readFileSync(path.join(dir, 'good.nii'));
    const bomb = zlib.gzipSync(Buffer.concat([nifti, Buffer.alloc(200 * 1024 * 1024)]), { level: 9 });
    write('bomb.nii.gz', bomb);
    const started = Date.now();
    const result = await convertImageFiles([fileOf('bomb.nii.gz')]);
    expect(result.rejected[0].reason).toMatch(
      /^the gzip data expands beyond the \d+ bytes its NIfTI header declares$/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('an NRRD whose data lives in another file', async () => {
    write(
      'detached.nrrd',
      'NRRD0004\ntype: short\ndimension: 3\nsizes: 7 5 4\nencoding: raw\ndata file: /etc/passwd\n\n',
    );
    const result = await convertImageFiles([fileOf('detached.nrrd')]);
    expect(result.rejected).toEqual([
      {
        filename: 'detached.nrrd',
        reason: 'NRRD with a detached data file is not supported; use a .nrrd with attached data',
      },
    ]);
  });

  test.each([
    ['slide.ndpi', 'whole-slide formats other than TIFF, Aperio SVS and DICOM'],
    ['slide.isyntax', 'Philips iSyntax'],
    ['scan.fda', 'OCT (Topcon .fda/.fds, Heidelberg .e2e)'],
  ])('%s, a format panimg reads and this converter does not, is refused by name', async (name, what) => {
    write(name, Buffer.alloc(64, 1));
    const result = await convertImageFiles([fileOf(name)]);
    expect(result.rejected).toEqual([
      { filename: name, reason: `${what} files are not converted by this version of the converter` },
    ]);
  });

  test('a truncated PNG', async () => {
    const png = await itk({
      write: path.join(dir, 'whole.png'),
      image: {
        ...ct,
        size: [64, 64],
        spacing: [1, 1],
        origin: [0, 0],
        direction: [1, 0, 0, 1],
        componentType: 'uint8',
        components: 1,
        data: samples(4096, 'uint8'),
      },
    });
    void png;
    const whole = fs.readFileSync(path.join(dir, 'whole.png'));
    write('cut.png', whole.subarray(0, Math.floor(whole.length / 2)));
    const result = await convertImageFiles([fileOf('cut.png')]);
    expect(result.rejected[0].filename).toBe('cut.png');
    expect(result.rejected[0].reason).toMatch(/^the picture (is damaged|cannot be read): /);
  });

  test('too many channels, an unsupported element type, a missing header line', async () => {
    write(
      'channels.mha',
      `ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementNumberOfChannels = 9\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n`,
    );
    write(
      'type.mha',
      `ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_STRING\nElementDataFile = LOCAL\n`,
    );
    write('headless.mha', 'ObjectType = Image\nNDims = 2\n');
    const result = await convertImageFiles(['channels.mha', 'type.mha', 'headless.mha'].map(fileOf));
    expect(result.rejected).toEqual([
      { filename: 'channels.mha', reason: 'too many channels: 9, at most 4' },
      { filename: 'type.mha', reason: 'ElementType MET_STRING is not supported' },
      { filename: 'headless.mha', reason: 'the header has no ElementDataFile line' },
    ]);
  });

  test('a file named .dcm that is not DICOM, a data file no header names, and text', async () => {
    write('slice.dcm', Buffer.alloc(200));
    write('orphan.raw', Buffer.alloc(10));
    write('notes.txt', 'hello');
    const result = await convertImageFiles(['slice.dcm', 'orphan.raw', 'notes.txt'].map(fileOf));
    expect(result.rejected).toEqual([
      { filename: 'slice.dcm', reason: 'not a DICOM Part 10 file (no DICM marker at byte 128)' },
      { filename: 'orphan.raw', reason: 'a MetaImage data file that no .mhd header of this upload names' },
      {
        filename: 'notes.txt',
        reason:
          'not an image format the converter reads (DICOM, MetaImage .mha/.mhd, NIfTI .nii/.nii.gz, NRRD .nrrd, PNG, JPEG, TIFF, Aperio SVS)',
      },
    ]);
  });
});

/** A MetaImage of 7 x 5 x 4 int16 voxels whose header declares `bytes` of data. */
function header(bytes: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      'ObjectType = Image\nNDims = 3\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n',
    ),
    Buffer.alloc(bytes),
  ]);
}

describe('MetaImage headers, read as ITK reads them', () => {
  const write = (name: string, content: string | Buffer) => fs.writeFileSync(path.join(dir, name), content);
  const voxels = Buffer.from(Int16Array.from({ length: 7 * 5 * 4 }, (_, i) => i * 3 - 50).buffer);
  const mha = (lines: string[], data: Buffer = voxels) =>
    Buffer.concat([Buffer.from(`${lines.join('\n')}\nElementDataFile = LOCAL\n`), data]);
  const base = ['ObjectType = Image', 'NDims = 3', 'DimSize = 7 5 4'];

  async function convertedAsItkReadsIt(name: string, content: Buffer) {
    write(name, content);
    const { output, result } = await convertAndReadBack([name]);
    expectSameImage(output, await itk({ read: path.join(dir, name) }));
    return { output, result };
  }

  test('ElementSize gives the spacing when ElementSpacing is absent', async () => {
    const { output } = await convertedAsItkReadsIt(
      'element-size.mha',
      mha([...base, 'ElementSize = 0.5 0.6 2', 'ElementType = MET_SHORT']),
    );
    expect(output.spacing).toEqual([0.5, 0.6, 2]);
  });

  test.each([
    ['MET_LONG_LONG', 'int64', BigInt64Array.from({ length: 140 }, (_, i) => BigInt((i % 5) - 1))],
    ['MET_ULONG_LONG', 'uint64', BigUint64Array.from({ length: 140 }, (_, i) => BigInt(i % 5) + 2n ** 40n)],
  ])('%s, as numpy writes label maps, keeps its 64-bit values', async (metaType, itkType, values) => {
    const { output } = await convertedAsItkReadsIt(
      `labels-${itkType}.mha`,
      mha([...base, `ElementType = ${metaType}`], Buffer.from(values.buffer)),
    );
    expect(output.componentType).toBe(itkType);
    expect(output.data).toBe(Buffer.from(values.buffer).toString('base64'));
  });

  test('keys ITK does not know, spaces and brackets included, are skipped', async () => {
    await convertedAsItkReadsIt(
      'unknown-keys.mha',
      mha([...base, 'Acquisition Date = 2024-01-01', 'Exposure(s) = 3 4', 'ElementType = MET_SHORT']),
    );
  });

  test('a line without "=", which ITK cannot read past, is refused', async () => {
    write('no-equals.mha', mha([...base, 'written by a script', 'ElementType = MET_SHORT']));
    await expect(itk({ read: path.join(dir, 'no-equals.mha') })).rejects.toThrow(/ElementType required/);
    const result = await convertImageFiles([fileOf('no-equals.mha')]);
    expect(result.rejected).toEqual([
      { filename: 'no-equals.mha', reason: 'the header line "written by a script" is not "Key = Value"' },
    ]);
  });

  test('window settings are carried when they are numbers in pairs', async () => {
    write(
      'windows.mha',
      mha([...base, 'ElementType = MET_SHORT', 'WindowCenter = [40, -600]', 'WindowWidth = [400, 1500]']),
    );
    const result = await convertImageFiles([fileOf('windows.mha')]);
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({
      WindowCenter: '[40, -600]',
      WindowWidth: '[400, 1500]',
    });
  });

  test.each([
    [
      ['WindowCenter = <img src=x onerror=alert(1)>', 'WindowWidth = 400'],
      'WindowCenter = <img src=x onerror=alert(1)> is not a number or a list of numbers in brackets',
    ],
    [
      ['WindowCenter = [40, 50]', 'WindowWidth = [400]'],
      'WindowCenter has 2 values and WindowWidth 1; they come in pairs',
    ],
    [
      ['WindowCenter = []', 'WindowWidth = []'],
      'WindowCenter = [] is not a number or a list of numbers in brackets',
    ],
    [['WindowCenter = 40'], 'the header has WindowCenter without its pair'],
    [['SliceThickness = thin'], 'SliceThickness = thin is not a number'],
    [
      ['Modality = <b>CT</b>'],
      'Modality = <b>CT</b> is not a DICOM modality (up to 16 capital letters, digits, spaces or _)',
    ],
  ])('a header with %j is refused, naming the value', async (lines, reason) => {
    write('bad-display.mha', mha([...base, 'ElementType = MET_SHORT', ...lines]));
    const result = await convertImageFiles([fileOf('bad-display.mha')]);
    expect(result).toEqual({ images: [], rejected: [{ filename: 'bad-display.mha', reason }] });
  });
});

describe('npm run convert', () => {
  test('prints one line per output and per rejected file, and exits 1 when something was rejected', async () => {
    await itk({ write: path.join(dir, 'cli.nii'), image: ct });
    fs.writeFileSync(path.join(dir, 'cli-cut.mha'), header(280).subarray(0, 150));
    // A folder of four slices: one image, its files counted rather than all named.
    const series = path.join(dir, 'cli-series');
    fs.mkdirSync(series);
    for (let k = 0; k < 4; k++) {
      fs.writeFileSync(
        path.join(series, `IM${k}.dcm`),
        dicomSlice({
          seriesUid: '1.2.826.0.1.3680043.8.498.31',
          rows: 3,
          columns: 2,
          position: [0, 0, 2 * k],
          orientation: [1, 0, 0, 0, 1, 0],
          pixelSpacing: [0.5, 0.5],
          pixels: new Int16Array(6).fill(k),
          instance: k + 1,
        }),
      );
    }
    const out = path.join(dir, 'cli-out');
    const child = spawn('npx', [
      'tsx',
      path.join(__dirname, '..', '..', '..', 'bin', 'images', 'convert.ts'),
      path.join(dir, 'cli.nii'),
      path.join(dir, 'cli-cut.mha'),
      series,
      '--out',
      out,
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([1, '']);
    expect(stdout.trim().split('\n')).toEqual([
      `converted cli.nii -> ${path.join(out, 'cli.mha')} (7 x 5 x 4 voxels, spacing 0.7 x 0.8 x 2.5)`,
      `converted 4 files (IM0.dcm ... IM3.dcm) -> ${path.join(out, 'CT.mha')} (2 x 3 x 4 voxels, spacing 0.5 x 0.5 x 2)`,
      'rejected cli-cut.mha: the file is truncated: 57 bytes of voxel data, 280 expected',
    ]);
    expect(fs.existsSync(path.join(out, 'cli.mha'))).toBe(true);
  });
});

describe('where libvips is missing', () => {
  test('pictures are refused with the reason, not failed on', async () => {
    let readPicture: typeof import('../src/picture-reader').readPicture;
    jest.isolateModules(() => {
      jest.doMock('sharp', () => {
        throw new Error('Cannot find module');
      });
      ({ readPicture } = require('../src/picture-reader'));
    });
    const { DEFAULT_CONVERSION_LIMITS } = require('../src/conversion-limits');
    try {
      await expect(readPicture!(Buffer.alloc(10), DEFAULT_CONVERSION_LIMITS)).rejects.toThrow(
        'PNG, JPEG, TIFF and slides are converted by the converter container (libvips), which this converter lacks',
      );
    } finally {
      jest.dontMock('sharp');
    }
  });
});

describe('zip archives', () => {
  const mhd = (dataFile: string) =>
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = ${dataFile}\n`,
    );
  const voxels = () => Buffer.from(ct.data, 'base64');

  test('the images inside are converted, a header finding its data file in its own folder', async () => {
    fs.writeFileSync(
      path.join(dir, 'set.zip'),
      buildZip([
        { name: 'series/', mode: 0o040755 },
        { name: 'series/ct.mhd', content: mhd('ct.raw') },
        { name: 'series/ct.raw', content: voxels() },
        { name: 'other/ct.raw', content: Buffer.alloc(3) },
        { name: 'notes.txt', content: Buffer.from('hello') },
      ]),
    );
    const result = await convertImageFiles([fileOf('set.zip')]);
    expect(result.images.map((i) => [i.name, i.sources])).toEqual([
      ['ct.mha', ['set.zip/series/ct.mhd', 'set.zip/series/ct.raw']],
    ]);
    expect(result.rejected.map((r) => r.filename)).toEqual(['set.zip/other/ct.raw', 'set.zip/notes.txt']);
  });

  test.each([
    [
      'a path escape',
      [{ name: '../../etc/cron.d/evil', content: Buffer.from('x') }],
      /holds the entry "..\/..\/etc\/cron.d\/evil", whose path leaves the archive/,
    ],
    [
      'an absolute path',
      [{ name: '/etc/passwd', content: Buffer.from('x') }],
      /holds the entry "\/etc\/passwd", whose path leaves the archive/,
    ],
    [
      'a symbolic link',
      [{ name: 'link.mha', content: Buffer.from('/etc/passwd'), mode: 0o120777 }],
      /symbolic link "link.mha"/,
    ],
    [
      'an archive inside',
      [{ name: 'inner.zip', content: Buffer.alloc(30) }],
      /archives inside archives are not extracted/,
    ],
  ])('an archive with %s is refused whole, with the reason', async (_, entries, reason) => {
    fs.writeFileSync(
      path.join(dir, 'hostile.zip'),
      buildZip([{ name: 'good.mha', content: Buffer.from('x') }, ...entries]),
    );
    const result = await convertImageFiles([fileOf('hostile.zip')]);
    expect(result.images).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].filename).toBe('hostile.zip');
    expect(result.rejected[0].reason).toMatch(reason);
  });

  test('a zip bomb stops at the expansion limit, counted while inflating', async () => {
    fs.writeFileSync(
      path.join(dir, 'bomb.zip'),
      buildZip([{ name: 'zeros.raw', content: Buffer.alloc(300 * 1024 * 1024) }]),
    );
    expect(fs.statSync(path.join(dir, 'bomb.zip')).size).toBeLessThan(1024 * 1024);
    const { DEFAULT_CONVERSION_LIMITS } = require('../src/conversion-limits');
    const started = Date.now();
    const result = await convertImageFiles([fileOf('bomb.zip')], {
      ...DEFAULT_CONVERSION_LIMITS,
      maxExtractedBytes: 64 * 1024 * 1024,
    });
    expect(result.rejected).toEqual([
      {
        filename: 'bomb.zip',
        reason: `the zip archive expands beyond the limit of ${64 * 1024 * 1024} bytes for the archives of one upload`,
      },
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('an archive of too many entries is refused before any is read', async () => {
    fs.writeFileSync(
      path.join(dir, 'many.zip'),
      buildZip(Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}.raw`, content: Buffer.alloc(1) }))),
    );
    const result = await convertImageFiles([fileOf('many.zip')]);
    expect(result.rejected).toEqual([
      {
        filename: 'many.zip',
        reason: "the zip archive brings the upload's archives to more than 10000 entries",
      },
    ]);
  });
});

describe('tar archives, and the limits of all archives of a set', () => {
  const mhd = (dataFile: string) =>
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = 7 5 4\nElementType = MET_SHORT\nElementDataFile = ${dataFile}\n`,
    );
  const voxels = () => Buffer.from(ct.data, 'base64');
  const MiB = 1024 * 1024;

  test.each([
    ['plain', 'set.tar', []],
    ['gzipped', 'set.tgz', ['--gzip']],
    ["pax, with a folder name past ustar's 100 bytes", 'pax.tar.gz', ['--gzip', '--format=pax']],
  ])('a %s archive made by GNU tar converts as its files do', async (_, name, flags) => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-tree-'));
    const folder = name.startsWith('pax') ? `study/${'long-series-name-'.repeat(8)}` : 'study/series';
    fs.mkdirSync(path.join(tree, folder), { recursive: true });
    fs.writeFileSync(path.join(tree, folder, 'ct.mhd'), mhd('ct.raw'));
    fs.writeFileSync(path.join(tree, folder, 'ct.raw'), voxels());
    fs.writeFileSync(path.join(tree, 'study/notes.txt'), 'hello');
    const made = spawnSync('tar', [
      '--create',
      ...flags,
      '--file',
      path.join(dir, name),
      '-C',
      tree,
      'study',
    ]);
    fs.rmSync(tree, { recursive: true, force: true });
    expect(made.status).toBe(0);

    const result = await convertImageFiles([fileOf(name)]);
    expect(result.images.map((i) => [i.name, i.sources])).toEqual([
      ['ct.mha', [`${name}/${folder}/ct.mhd`, `${name}/${folder}/ct.raw`]],
    ]);
    expect(result.rejected.map((r) => r.filename)).toEqual([`${name}/study/notes.txt`]);
    const outPath = path.join(dir, `from-${name}.mha`);
    fs.writeFileSync(outPath, result.images[0].content);
    expect((await itk({ read: outPath })).data).toBe(ct.data);
  });

  test.each([
    [
      'a path escape',
      [{ name: '../../etc/cron.d/evil', content: Buffer.from('x') }],
      'the tar archive holds the entry "../../etc/cron.d/evil", whose path leaves the archive',
    ],
    [
      'a symbolic link',
      [{ name: 'link.mha', type: '2', linkName: '/etc/passwd' }],
      'the tar archive holds the symbolic link "link.mha"; links are not extracted',
    ],
    [
      'a hard link',
      [{ name: 'hard.mha', type: '1', linkName: 'good.mha' }],
      'the tar archive holds the hard link "hard.mha"; links are not extracted',
    ],
    [
      'a device',
      [{ name: 'dev/null', type: '3' }],
      'the tar archive holds "dev/null", a device or pipe; only files are extracted',
    ],
    [
      'an archive inside',
      [{ name: 'inner.tar.gz', content: Buffer.alloc(30) }],
      'the tar archive holds another archive, "inner.tar.gz"; archives inside archives are not extracted',
    ],
  ])('a tar archive with %s is refused whole, with the reason', async (_, entries, reason) => {
    fs.writeFileSync(
      path.join(dir, 'hostile.tar'),
      tarArchive([{ name: 'good.mha', content: Buffer.from('x') }, ...entries]),
    );
    const result = await convertImageFiles([fileOf('hostile.tar')]);
    expect(result).toEqual({ images: [], rejected: [{ filename: 'hostile.tar', reason }] });
  });

  test('a file that is not a tar archive, or is cut short, is refused with a reason', async () => {
    fs.writeFileSync(path.join(dir, 'text.tar'), Buffer.alloc(2048, 'a'));
    const cut = tarArchive([{ name: 'ct.raw', content: voxels() }]);
    fs.writeFileSync(path.join(dir, 'cut.tar'), cut.subarray(0, 700));
    fs.writeFileSync(path.join(dir, 'bad.tgz'), Buffer.from('not gzip at all'));
    const result = await convertImageFiles(['text.tar', 'cut.tar', 'bad.tgz'].map(fileOf));
    expect(result.rejected).toEqual([
      {
        filename: 'text.tar',
        reason:
          'the tar archive has a header that is not valid (entry 1): it is not a tar archive, or is damaged',
      },
      { filename: 'cut.tar', reason: 'the tar archive is truncated' },
      { filename: 'bad.tgz', reason: 'the tar archive cannot be read: incorrect header check' },
    ]);
  });

  test('archives are extracted to disk, within one budget for the whole set, and removed after', async () => {
    const { DEFAULT_CONVERSION_LIMITS } = require('../src/conversion-limits');
    const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scratch-'));
    // Three small archives, each expanding to 30 MiB: two fit in 64 MiB, the third does not.
    for (const name of ['a.zip', 'b.tgz', 'c.zip']) {
      const entries = [
        { name: 'ct.mhd', content: mhd('ct.raw') },
        { name: 'ct.raw', content: voxels() },
        { name: 'padding.bin', content: Buffer.alloc(30 * MiB) },
      ];
      const archive = name.endsWith('.zip') ? buildZip(entries) : zlib.gzipSync(tarArchive(entries));
      fs.writeFileSync(path.join(dir, name), archive);
      expect(archive.length).toBeLessThan(MiB);
    }
    const result = await convertImageFiles(
      ['a.zip', 'b.tgz', 'c.zip'].map(fileOf),
      { ...DEFAULT_CONVERSION_LIMITS, maxExtractedBytes: 64 * MiB },
      { scratchDir },
    );
    expect(result.images.map((i) => i.sources[0])).toEqual(['a.zip/ct.mhd', 'b.tgz/ct.mhd']);
    expect(result.rejected).toEqual([
      {
        filename: 'c.zip',
        reason: `the zip archive expands beyond the limit of ${64 * MiB} bytes for the archives of one upload`,
      },
      { filename: 'a.zip/padding.bin', reason: expect.any(String) },
      { filename: 'b.tgz/padding.bin', reason: expect.any(String) },
    ]);
    expect(fs.readdirSync(scratchDir)).toEqual([]);
    fs.rmSync(scratchDir, { recursive: true });
  });
});

describe('slides to tiled pyramidal BigTIFF', () => {
  const WIDTH = 1500;
  const HEIGHT = 1000;
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      // Smooth colour fields, as stained tissue is: JPEG keeps them within a few grey levels.
      const at = (y * WIDTH + x) * 3;
      pixels[at] = 128 + Math.round(100 * Math.sin(x / 90));
      pixels[at + 1] = 128 + Math.round(100 * Math.cos(y / 70));
      pixels[at + 2] = 128 + Math.round(60 * Math.sin((x + y) / 120));
    }
  }

  test('an Aperio SVS becomes 256 px JPEG tiles on every level, its microns per pixel recorded', async () => {
    const svs = stripedRgbTiff(
      WIDTH,
      HEIGHT,
      pixels,
      `Aperio Image Library v12.0.15\n${WIDTH}x${HEIGHT} JPEG/RGB Q=70|AppMag = 20|MPP = 0.4990`,
    );
    fs.writeFileSync(path.join(dir, 'biopsy.svs'), svs);
    const result = await convertImageFiles([fileOf('biopsy.svs')]);
    expect(result.rejected).toEqual([]);
    const [slide] = result.images;
    expect(slide.name).toBe('biopsy.tif');
    expect(slide.metadata).toMatchObject({
      width: WIDTH,
      height: HEIGHT,
      channels: 3,
      sampleType: 'uint8',
      tileSize: 256,
      compression: 'jpeg',
      lossy: true,
      jpegQuality: 90,
      micronsPerPixel: 0.499,
    });

    const levels = bigTiffLevels(slide.content);
    expect(levels.map((l) => [l.width, l.height])).toEqual([
      [1500, 1000],
      [750, 500],
      [375, 250],
      [187, 125],
    ]);
    for (const level of levels)
      expect([level.tileWidth, level.tileHeight, level.compression]).toEqual([256, 256, 7]);
    // 0.499 um per pixel is 20040 pixels per cm.
    expect(levels[0].resolutionUnit).toBe(3);
    expect(levels[0].xResolution).toBeCloseTo(10_000 / 0.499, 0);
  });

  test('the full-resolution level keeps the pixels, within JPEG quality 90', async () => {
    const slideFile = path.join(dir, 'check.tif');
    const result = await convertImageFiles([
      {
        name: 'plain.tif',
        load: () =>
          stripedTiff({
            width: WIDTH,
            height: HEIGHT,
            pixels,
            samplesPerPixel: 3,
            photometric: 2,
            resolution: { perUnit: 40_000, unit: 3 },
          }),
      },
    ]);
    fs.writeFileSync(slideFile, result.images[0].content);
    const level0 = await itk({ read: slideFile });
    expect(level0.size).toEqual([WIDTH, HEIGHT]);
    // ITK reads JPEG-in-TIFF through libtiff's RGBA interface: three colours and an opaque alpha.
    const stride = level0.components!;
    expect([3, 4]).toContain(stride);
    const decoded = Buffer.from(level0.data!, 'base64');
    let error = 0;
    for (let p = 0; p < WIDTH * HEIGHT; p++) {
      for (let c = 0; c < 3; c++) error += Math.abs(decoded[p * stride + c] - pixels[p * 3 + c]);
    }
    expect(error / pixels.length).toBeLessThan(2);
    // 40,000 pixels per centimetre.
    expect(result.images[0].metadata.micronsPerPixel).toBeCloseTo(0.25, 9);
  });

  test('a truncated TIFF is refused with the reason', async () => {
    const whole = stripedRgbTiff(WIDTH, HEIGHT, pixels, 'cut|MPP = 0.25');
    const result = await convertImageFiles([{ name: 'cut.tif', load: () => whole.subarray(0, 100_000) }]);
    expect(result.images).toEqual([]);
    expect(result.rejected[0].reason).toMatch(/^the TIFF (is damaged|cannot be read): /);
  });
});

describe('slides that are not photographs keep every value', () => {
  const WIDTH = 700;
  const HEIGHT = 530;
  const count = WIDTH * HEIGHT;

  /** Little-endian samples of one type, as the TIFF stores them. */
  function samplesOf(type: 'uint8' | 'uint16' | 'int32' | 'float32', values: number[]): Buffer {
    const array =
      type === 'uint8'
        ? Uint8Array.from(values)
        : type === 'uint16'
          ? Uint16Array.from(values)
          : type === 'int32'
            ? Int32Array.from(values)
            : Float32Array.from(values);
    return Buffer.from(array.buffer);
  }

  const cases = [
    {
      label: 'a label mask (uint8, values 0 to 4, one channel)',
      type: 'uint8' as const,
      bits: 8,
      format: 1,
      channels: 1,
      photometric: 1,
      // Blocks of labels with sharp edges: what JPEG and averaging would blur into new labels.
      value: (i: number) => (Math.floor((i % WIDTH) / 37) + Math.floor(i / WIDTH / 23)) % 5,
    },
    {
      label: 'a 16-bit greyscale image',
      type: 'uint16' as const,
      bits: 16,
      format: 1,
      channels: 1,
      photometric: 1,
      value: (i: number) => (i * 7919) % 65_536,
    },
    {
      label: 'a signed 32-bit image',
      type: 'int32' as const,
      bits: 32,
      format: 2,
      channels: 1,
      photometric: 1,
      value: (i: number) => i * 40_503 - 2_000_000_000,
    },
    {
      label: 'a floating-point image',
      type: 'float32' as const,
      bits: 32,
      format: 3,
      channels: 1,
      photometric: 1,
      value: (i: number) => Math.fround(Math.sin(i) * 1e4),
    },
    {
      label: 'a 16-bit RGB image',
      type: 'uint16' as const,
      bits: 16,
      format: 1,
      channels: 3,
      photometric: 2,
      value: (i: number) => (i * 104_729) % 65_536,
    },
  ];

  test.each(cases)('$label is stored losslessly in its own type, value for value', async (c) => {
    const values = Array.from({ length: count * c.channels }, (_, i) => c.value(i));
    const pixels = samplesOf(c.type, values);
    const input = stripedTiff({
      width: WIDTH,
      height: HEIGHT,
      pixels,
      samplesPerPixel: c.channels,
      photometric: c.photometric,
      bitsPerSample: c.bits,
      sampleFormat: c.format,
      resolution: { perUnit: 20_000, unit: 3 },
    });
    const result = await convertImageFiles([{ name: `${c.type}-${c.channels}.tif`, load: () => input }]);
    expect(result.rejected).toEqual([]);
    const [slide] = result.images;
    expect(slide.metadata).toMatchObject({
      width: WIDTH,
      height: HEIGHT,
      channels: c.channels,
      sampleType: c.type,
      compression: 'deflate',
      lossy: false,
      micronsPerPixel: 0.5,
      levels: 3,
    });
    const levels = bigTiffLevels(slide.content);
    expect(levels.map((l) => [l.width, l.height, l.tileWidth, l.compression])).toEqual([
      [700, 530, 256, 8],
      [350, 265, 256, 8],
      [175, 132, 256, 8],
    ]);
    expect([levels[0].resolutionUnit, levels[0].xResolution]).toEqual([3, 20_000]);
    expect([levels[1].resolutionUnit, levels[1].xResolution]).toEqual([3, 10_000]);

    // The full-resolution level, as libtiff decodes it, holds the input's samples exactly.
    const output = path.join(dir, `lossless-${c.type}-${c.channels}.tif`);
    fs.writeFileSync(output, slide.content);
    const read = readWithLibtiff(output);
    expect(read).toMatchObject({
      width: WIDTH,
      height: HEIGHT,
      bitsPerSample: c.bits,
      sampleFormat: c.format,
      samplesPerPixel: c.channels,
      photometric: c.photometric,
    });
    expect(read.pixels.equals(pixels)).toBe(true);
  });

  test('the lower levels of a label mask hold only the labels of the mask', async () => {
    const mask = Buffer.from(Uint8Array.from({ length: count }, (_, i) => (i % WIDTH < 350 ? 1 : 4)));
    const input = stripedTiff({
      width: WIDTH,
      height: HEIGHT,
      pixels: mask,
      samplesPerPixel: 1,
      photometric: 1,
      resolution: { perUnit: 20_000, unit: 3 },
    });
    const [slide] = (await convertImageFiles([{ name: 'mask.tif', load: () => input }])).images;
    const output = path.join(dir, 'mask-out.tif');
    fs.writeFileSync(output, slide.content);
    for (const page of [1, 2]) {
      const level = readWithLibtiff(output, page);
      expect([level.width, level.height]).toEqual([WIDTH >> page, HEIGHT >> page]);
      // An average across the edge between labels 1 and 4 would make 2 or 3.
      expect(new Set(level.pixels)).toEqual(new Set([1, 4]));
    }
  });

  test('an 8-bit grey slide stored losslessly is kept losslessly, one channel', async () => {
    const grey = Buffer.from(Uint8Array.from({ length: count }, (_, i) => (i * 31) % 256));
    const input = stripedTiff({
      width: WIDTH,
      height: HEIGHT,
      pixels: grey,
      samplesPerPixel: 1,
      photometric: 1,
      description: 'Aperio Image Library|MPP = 0.25',
    });
    const [slide] = (await convertImageFiles([{ name: 'grey.svs', load: () => input }])).images;
    expect(slide.metadata).toMatchObject({
      channels: 1,
      compression: 'deflate',
      lossy: false,
      micronsPerPixel: 0.25,
    });
    const output = path.join(dir, 'grey-out.tif');
    fs.writeFileSync(output, slide.content);
    expect(readWithLibtiff(output).pixels.equals(grey)).toBe(true);
  });

  test('an 8-bit grey slide that its scanner stored as JPEG stays one channel of JPEG tiles, named lossy', async () => {
    const grey = Buffer.from(
      Uint8Array.from({ length: count }, (_, i) => 128 + Math.round(90 * Math.sin((i % WIDTH) / 40))),
    );
    const sharp = require('sharp') as typeof import('sharp');
    const input = await sharp(grey, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } })
      .toColourspace('b-w')
      .tiff({ compression: 'jpeg', quality: 95, xres: 2000, yres: 2000, resolutionUnit: 'cm' })
      .toBuffer();
    const [slide] = (await convertImageFiles([{ name: 'scanned.tif', load: () => input }])).images;
    expect(slide.metadata).toMatchObject({
      channels: 1,
      sampleType: 'uint8',
      compression: 'jpeg',
      lossy: true,
      jpegQuality: 90,
      micronsPerPixel: 0.5,
    });
    expect(bigTiffLevels(slide.content).map((l) => l.compression)).toEqual([7, 7, 7]);
    const output = path.join(dir, 'scanned-out.tif');
    fs.writeFileSync(output, slide.content);
    const read = readWithLibtiff(output);
    expect([read.samplesPerPixel, read.photometric, read.bitsPerSample]).toEqual([1, 1, 8]);
    let error = 0;
    for (let i = 0; i < count; i++) error += Math.abs(read.pixels[i] - grey[i]);
    expect(error / count).toBeLessThan(2);
  });

  test.each([
    [{ perUnit: 300, unit: 1 }, /ResolutionUnit is NONE \(1\)/],
    [{ perUnit: 300 }, /ResolutionUnit is missing/],
    [undefined, /no XResolution and YResolution/],
  ])('a TIFF whose resolution is %j is refused, not given a pixel size', async (resolution, reason) => {
    const input = stripedTiff({
      width: 64,
      height: 64,
      pixels: Buffer.alloc(64 * 64 * 3, 200),
      samplesPerPixel: 3,
      photometric: 2,
      resolution,
    });
    const result = await convertImageFiles([{ name: 'unscaled.tif', load: () => input }]);
    expect(result.images).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].reason).toMatch(/^the TIFF states no physical pixel size: /);
    expect(result.rejected[0].reason).toMatch(reason);
  });

  test.each([
    [{ photometric: 3, bitsPerSample: 8 }, /PhotometricInterpretation is Palette \(3\)/],
    [{ photometric: 0, bitsPerSample: 8 }, /PhotometricInterpretation is MinIsWhite \(0\)/],
    [{ photometric: 1, bitsPerSample: 1 }, /samples are unsigned 1-bit/],
    [{ photometric: 1, bitsPerSample: 16, sampleFormat: 2 }, /samples are signed 16-bit/],
  ])('a TIFF of %j, which would change in conversion, is refused with its reason', async (kind, reason) => {
    const input = stripedTiff({
      width: 64,
      height: 64,
      pixels: Buffer.alloc((64 * 64 * kind.bitsPerSample) / 8, 1),
      samplesPerPixel: 1,
      resolution: { perUnit: 20_000, unit: 3 },
      ...kind,
    });
    const result = await convertImageFiles([{ name: 'odd.tif', load: () => input }]);
    expect(result.images).toEqual([]);
    expect(result.rejected[0].reason).toMatch(reason);
  });
});
