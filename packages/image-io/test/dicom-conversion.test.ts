import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertImageFiles, InputFile } from '../src/convert-image-files';
import { diskFile } from '../src/disk-file';
import { dicomSlice, Element, encode, loadJpegLsEncoder, SliceSpec, text, uid } from './helpers/dicom-files';
import { encodeJpegBaseline } from './helpers/dicom-frame-encoders';
import { MultiFrameSpec, multiFrameFile, toBigEndian } from './helpers/dicom-multiframe';
import { convertedAndReference } from './helpers/gdcm-reference';
import { runItk } from './helpers/itk';

const itk = runItk;

const ARRAYS: Record<string, (b: Buffer) => ArrayLike<number>> = {
  uint8: (b) => new Uint8Array(b.buffer, b.byteOffset, b.length),
  int16: (b) => new Int16Array(b.buffer, b.byteOffset, b.length / 2),
  uint16: (b) => new Uint16Array(b.buffer, b.byteOffset, b.length / 2),
  int32: (b) => new Int32Array(b.buffer, b.byteOffset, b.length / 4),
  float32: (b) => new Float32Array(b.buffer, b.byteOffset, b.length / 4),
};

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-'));
let folderCount = 0;

/** Writes slices into a folder of their own, in the given (shuffled) order, and lists them. */
function writeSeries(slices: SliceSpec[]): { dir: string; names: string[] } {
  const dir = path.join(root, `set-${folderCount++}`);
  fs.mkdirSync(dir);
  const names = slices.map((spec, i) => {
    const name = `IM${String(i).padStart(4, '0')}.dcm`;
    fs.writeFileSync(path.join(dir, name), dicomSlice(spec));
    return name;
  });
  return { dir, names };
}

/** The files as the converter reads an upload set: from disk, each slice into one reused buffer. */
const files = (dir: string, names: string[]): InputFile[] =>
  names.map((name) => diskFile(name, path.join(dir, name)));

/** An oblique CT: rows tilted 20 degrees about z, columns tilted 10 degrees about x. */
const a = (20 * Math.PI) / 180;
const b = (10 * Math.PI) / 180;
const rowDirection = [Math.cos(a), Math.sin(a), 0];
const columnDirection = [-Math.sin(a) * Math.cos(b), Math.cos(a) * Math.cos(b), Math.sin(b)];
const normal = [
  rowDirection[1] * columnDirection[2] - rowDirection[2] * columnDirection[1],
  rowDirection[2] * columnDirection[0] - rowDirection[0] * columnDirection[2],
  rowDirection[0] * columnDirection[1] - rowDirection[1] * columnDirection[0],
];

function ctSeries(
  options: { slices?: number; uid?: string; skip?: number[]; step?: number } = {},
): SliceSpec[] {
  const count = options.slices ?? 6;
  const step = options.step ?? 2.5;
  const origin = [-100, 50, 300];
  return Array.from({ length: count }, (_, k) => k)
    .filter((k) => !options.skip?.includes(k))
    .map((k) => ({
      seriesUid: options.uid ?? '1.2.826.0.1.3680043.8.498.1',
      rows: 5,
      columns: 7,
      position: origin.map((o, d) => o + k * step * normal[d]),
      orientation: [...rowDirection, ...columnDirection],
      pixelSpacing: [0.8, 0.6],
      pixels: Int16Array.from({ length: 35 }, (_, i) => ((i * 31 + k * 97) % 2000) - 200),
      instance: 100 - k, // instance numbers run against the geometry: ordering must not use them
      rescaleIntercept: -1024,
    }));
}

/** Fisher-Yates with a fixed seed, so the shuffle is the same on every run. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 7;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 16807) % 2147483647;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function writeOutput(dir: string, content: Buffer): string {
  const outPath = path.join(dir, `output-${Math.random()}.mha`);
  fs.writeFileSync(outPath, content);
  return outPath;
}

/** A 5 x 4 radiograph of one SOP class, with pixel spacing 0.2 (rows) by 0.3 (columns). */
function radiograph(sopClass: string, options: Partial<SliceSpec>): SliceSpec {
  return {
    seriesUid: '1.2.826.0.1.3680043.8.498.78',
    rows: 4,
    columns: 5,
    pixelSpacing: [0.2, 0.3],
    sopClass,
    modality: 'OT',
    pixels: Int16Array.from({ length: 20 }, (_, i) => i * 11),
    instance: 1,
    ...options,
  };
}

async function expectSameAsGdcm(
  dir: string,
  names: string[],
  content: Buffer,
  compare = { spacing: true },
): Promise<void> {
  const reference = await itk('itk-dicom.mjs', { files: names.map((n) => path.join(dir, n)) });
  const outPath = path.join(dir, `converted-${Math.random()}.mha`);
  fs.writeFileSync(outPath, content);
  const output = await itk('itk-image.mjs', { read: outPath });
  expect(output.size).toEqual(reference.size);
  const close = (x: number[], y: number[]) => x.forEach((v, i) => expect(v).toBeCloseTo(y[i], 3));
  if (compare.spacing) close(output.spacing, reference.spacing);
  close(output.origin, reference.origin);
  close(output.direction, reference.direction);
  const values = ARRAYS[output.componentType](Buffer.from(output.data!, 'base64'));
  // Compared in a loop, which stays fast for millions of voxels and names the first that differs.
  const referenceValues = reference.values as number[];
  expect(values.length).toBe(referenceValues.length);
  const differs = referenceValues.findIndex((v, i) => v !== values[i]);
  expect(
    differs === -1 ? 'same' : `voxel ${differs}: ${values[differs]}, GDCM ${referenceValues[differs]}`,
  ).toBe('same');
}

describe('DICOM series, checked with ITK and GDCM', () => {
  test('a shuffled, oblique series becomes one volume ordered along the slice normal, rescaled', async () => {
    const { dir, names } = writeSeries(shuffled(ctSeries()));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images.map((i) => i.name)).toEqual(['CT.mha']);
    expect(result.images[0].metadata).toMatchObject({ size: [7, 5, 6], componentType: 'int16' });
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test('the deflated transfer syntax reads the same', async () => {
    const { dir, names } = writeSeries(
      ctSeries().map((s) => ({ ...s, transferSyntax: '1.2.840.10008.1.2.1.99' })),
    );
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test('RLE lossless reads the same', async () => {
    const { dir, names } = writeSeries(
      ctSeries().map((s) => ({ ...s, transferSyntax: '1.2.840.10008.1.2.5' })),
    );
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test('JPEG-LS, lossless and near-lossless, reads the same', async () => {
    await loadJpegLsEncoder();
    for (const transferSyntax of ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81']) {
      const { dir, names } = writeSeries(ctSeries().map((s) => ({ ...s, transferSyntax })));
      const result = await convertImageFiles(files(dir, names));
      expect(result.rejected).toEqual([]);
      await expectSameAsGdcm(dir, names, result.images[0].content);
    }
  });

  test('a 4D series, the same positions at four time points, becomes one 4D volume in time order', async () => {
    const positions = ctSeries({ slices: 3 });
    const value = (i: number, z: number, t: number) => i + 100 * z + 1000 * t;
    const slices = positions.flatMap((spec, z) =>
      [0, 1, 2, 3].map((t) => ({
        ...spec,
        instance: 10 * t + z + 1,
        pixels: Int16Array.from({ length: 35 }, (_, i) => value(i, z, t)),
      })),
    );
    const { dir, names } = writeSeries(shuffled(slices));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ size: [7, 5, 3, 4] });
    const outPath = path.join(dir, 'four-d.mha');
    fs.writeFileSync(outPath, result.images[0].content);
    const output = await itk('itk-image.mjs', { read: outPath });
    expect(output.size).toEqual([7, 5, 3, 4]);
    const values = Array.from(ARRAYS[output.componentType](Buffer.from(output.data!, 'base64')));
    const expected = [0, 1, 2, 3].flatMap((t) =>
      [0, 1, 2].flatMap((z) => Array.from({ length: 35 }, (_, i) => value(i, z, t) - 1024)),
    );
    expect(values).toEqual(expected);
  });

  test('12 bits stored in 16: signed values sign-extended and the bits above ignored, as GDCM reads them', async () => {
    for (const signed of [true, false]) {
      const series = ctSeries({ slices: 3, uid: `1.2.826.0.1.3680043.8.498.${signed ? 70 : 71}` }).map(
        (spec, k) => {
          // 12-bit values, negative ones in 12-bit two's complement, with noise in the 4 bits above.
          const pixels = Uint16Array.from({ length: 35 }, (_, i) => {
            const value = signed ? ((i * 97 + k * 31) % 4096) - 2048 : (i * 97 + k * 31) % 4096;
            return ((value & 0x0fff) | (((i + k) % 16) << 12)) & 0xffff;
          });
          return {
            ...spec,
            signed,
            bitsStored: 12,
            rescaleIntercept: 0,
            pixels: new Int16Array(pixels.buffer),
          };
        },
      );
      const { dir, names } = writeSeries(series);
      const result = await convertImageFiles(files(dir, names));
      expect(result.rejected).toEqual([]);
      const values = (await itk('itk-image.mjs', { read: writeOutput(dir, result.images[0].content) })) as {
        data: string;
        componentType: string;
      };
      const read = Array.from(ARRAYS[values.componentType](Buffer.from(values.data, 'base64')));
      expect(Math.min(...read)).toBeGreaterThanOrEqual(signed ? -2048 : 0);
      expect(Math.max(...read)).toBeLessThan(signed ? 2048 : 4096);
      await expectSameAsGdcm(dir, names, result.images[0].content);
    }
  });

  test('an 8-bit grey series reads the same', async () => {
    const series = ctSeries({ slices: 3 }).map((spec, k) => ({
      ...spec,
      bitsAllocated: 8 as const,
      rescaleIntercept: 0,
      pixels: Uint8Array.from({ length: 35 }, (_, i) => (i * 7 + k * 40) % 256),
    }));
    const { dir, names } = writeSeries(series);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ componentType: 'uint8', components: 1 });
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test('an RGB image, interleaved or plane by plane, keeps its colours', async () => {
    const [spec] = ctSeries({ slices: 1, uid: '1.2.826.0.1.3680043.8.498.77' });
    const rgb = Uint8Array.from({ length: 35 * 3 }, (_, i) => (i * 11) % 256);
    const planes = Uint8Array.from({ length: 35 * 3 }, (_, i) => rgb[(i % 35) * 3 + Math.floor(i / 35)]);
    for (const [planarConfiguration, pixels] of [
      [0, rgb],
      [1, planes],
    ] as const) {
      const { dir, names } = writeSeries([
        { ...spec, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration, rescaleIntercept: 0, pixels },
      ]);
      const result = await convertImageFiles(files(dir, names));
      expect(result.rejected).toEqual([]);
      expect(result.images[0].metadata).toMatchObject({ componentType: 'uint8', components: 3 });
      const outPath = path.join(dir, 'rgb.mha');
      fs.writeFileSync(outPath, result.images[0].content);
      const output = await itk('itk-image.mjs', { read: outPath });
      expect(Array.from(Buffer.from(output.data!, 'base64'))).toEqual(Array.from(rgb));
    }
  });

  test('YBR_FULL colour, uncompressed or RLE, becomes the RGB it was made from', async () => {
    const [spec] = ctSeries({ slices: 1, uid: '1.2.826.0.1.3680043.8.498.78' });
    const rgb = Uint8Array.from({ length: 35 * 3 }, (_, i) => (i * 37 + 11) % 256);
    // The forward transform of PS3.3 C.7.6.3.1.2, so the test knows the colours to get back.
    const ybr = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) {
      const [r, g, b] = [rgb[i], rgb[i + 1], rgb[i + 2]];
      const clip = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
      ybr[i] = clip(0.299 * r + 0.587 * g + 0.114 * b);
      ybr[i + 1] = clip(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      ybr[i + 2] = clip(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
    for (const transferSyntax of ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2.5']) {
      const { dir, names } = writeSeries([
        {
          ...spec,
          transferSyntax,
          bitsAllocated: 8,
          samplesPerPixel: 3,
          photometric: 'YBR_FULL',
          rescaleIntercept: 0,
          pixels: ybr,
        },
      ]);
      const result = await convertImageFiles(files(dir, names));
      expect(result.rejected).toEqual([]);
      const output = await itk('itk-image.mjs', { read: writeOutput(dir, result.images[0].content) });
      const back = Array.from(Buffer.from(output.data!, 'base64'));
      // Rounding on the way there and back: within 2 levels.
      expect(Math.max(...back.map((v, i) => Math.abs(v - rgb[i])))).toBeLessThanOrEqual(2);
    }
  });

  test('palette colour is refused by name, not read as grey', async () => {
    const [spec] = ctSeries({ slices: 1, uid: '1.2.826.0.1.3680043.8.498.79' });
    const { dir, names } = writeSeries([
      {
        ...spec,
        bitsAllocated: 8,
        photometric: 'PALETTE COLOR',
        rescaleIntercept: 0,
        pixels: new Uint8Array(35),
      },
    ]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([
      {
        filename: names[0],
        reason: 'PALETTE COLOR images are not converted; grey (MONOCHROME1/2) and colour are',
      },
    ]);
  });

  test('two series in one upload become two images', async () => {
    const { dir, names } = writeSeries([
      ...ctSeries(),
      ...ctSeries({ uid: '1.2.826.0.1.3680043.8.498.2', slices: 3 }),
    ]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.images.map((i) => [i.name, i.sources.length])).toEqual([
      ['CT.mha', 6],
      ['CT-2.mha', 3],
    ]);
  });

  test('radiographs with no place in the patient: each file an image of its own, as GDCM reads it', async () => {
    // Two views of one series, of one size, with neither ImagePositionPatient nor ImageOrientationPatient.
    const view = (instance: number): SliceSpec => ({
      seriesUid: '1.2.826.0.1.3680043.8.498.77',
      rows: 6,
      columns: 9,
      pixelSpacing: [0.143, 0.139],
      modality: 'CR',
      pixels: Int16Array.from({ length: 54 }, (_, i) => (i * 97 * instance) % 4096),
      instance,
    });
    const { dir, names } = writeSeries([view(1), view(2)]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images.map((i) => [i.name, i.sources])).toEqual([
      ['CR.mha', [names[0]]],
      ['CR-2.mha', [names[1]]],
    ]);
    for (const [k, image] of result.images.entries()) {
      expect(image.metadata).toMatchObject({ size: [9, 6, 1], origin: [0, 0, 0] });
      await expectSameAsGdcm(dir, [names[k]], image.content);
    }
  });

  test.each([
    ['CR with ImagerPixelSpacing', '1.2.840.10008.5.1.4.1.1.1', {}, [0.3, 0.2]],
    ['DX with ImagerPixelSpacing', '1.2.840.10008.5.1.4.1.1.1.1', {}, [0.3, 0.2]],
    ['mammography with ImagerPixelSpacing', '1.2.840.10008.5.1.4.1.1.1.2', {}, [0.3, 0.2]],
    ['XA with ImagerPixelSpacing', '1.2.840.10008.5.1.4.1.1.12.1', {}, [0.3, 0.2]],
    [
      'a secondary capture with PixelSpacing',
      '1.2.840.10008.5.1.4.1.1.7',
      { spacingAttribute: 'PixelSpacing' },
      [0.3, 0.2],
    ],
  ] as const)('spacing of %s, as GDCM reads it', async (_, sopClass, options, spacing) => {
    const { dir, names } = writeSeries([
      radiograph(sopClass, { spacingAttribute: 'ImagerPixelSpacing', ...options }),
    ]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ spacing: [...spacing, 1] });
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  // Where GDCM reads 1 mm (it takes ImagerPixelSpacing alone for radiographs, PixelSpacing alone for
  // others), the spacing follows the rule of dicom-slice.ts; the voxels are still GDCM's.
  test.each([
    [
      'CR with PixelSpacing only, as panimg reads it',
      '1.2.840.10008.5.1.4.1.1.1',
      { spacingAttribute: 'PixelSpacing' },
      [0.3, 0.2],
    ],
    [
      'DX with PixelSpacing calibrated beside ImagerPixelSpacing: PixelSpacing',
      '1.2.840.10008.5.1.4.1.1.1.1',
      { spacingAttribute: 'PixelSpacing', imagerPixelSpacing: [0.25, 0.35] },
      [0.3, 0.2],
    ],
    [
      'DX with ImagerPixelSpacing and a magnification factor of 1.25: spacing at the patient',
      '1.2.840.10008.5.1.4.1.1.1.1',
      { spacingAttribute: 'ImagerPixelSpacing', magnificationFactor: 1.25 },
      [0.24, 0.16],
    ],
    [
      'a secondary capture with ImagerPixelSpacing only',
      '1.2.840.10008.5.1.4.1.1.7',
      { spacingAttribute: 'ImagerPixelSpacing' },
      [0.3, 0.2],
    ],
    ['CR with no spacing at all: 1 mm', '1.2.840.10008.5.1.4.1.1.1', { spacingAttribute: 'none' }, [1, 1]],
  ] as const)('spacing of %s', async (_, sopClass, options, spacing) => {
    const { dir, names } = writeSeries([radiograph(sopClass, options)]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    const metadata = result.images[0].metadata as { spacing: number[] };
    metadata.spacing.forEach((v, i) => expect(v).toBeCloseTo([...spacing, 1][i], 6));
    await expectSameAsGdcm(dir, names, result.images[0].content, { spacing: false });
  });

  test('MONOCHROME1 is inverted into MONOCHROME2, its window centre with it, as panimg does', async () => {
    // 12 bits stored, unsigned, from 100 to 3000: each value v becomes 3100 - v.
    const stored = Uint16Array.from({ length: 20 }, (_, i) =>
      i === 0 ? 100 : i === 1 ? 3000 : 100 + i * 97,
    );
    const { dir, names } = writeSeries([
      {
        ...radiograph('1.2.840.10008.5.1.4.1.1.1', { spacingAttribute: 'PixelSpacing' }),
        photometric: 'MONOCHROME1',
        pixels: stored,
        signed: false,
        bitsStored: 12,
        window: [1000, 600],
      },
    ]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    const image = result.images[0];
    expect(image.metadata).toMatchObject({ WindowCenter: '2100', WindowWidth: '600' });
    const { converted, reference } = await convertedAndReference(dir, names, image.content);
    // GDCM inverts too, but over the 12 bits stored (4095 - v); panimg, and the output, over the
    // values' own range, so the two differ by the same 995 everywhere.
    expect(reference.values).toEqual(Array.from(stored, (v) => 4095 - v));
    expect(converted.values).toEqual(Array.from(stored, (v) => 3100 - v));
    expect(converted.size).toEqual(reference.size);
  });

  test('a series mixing MONOCHROME1 and MONOCHROME2 slices is refused', async () => {
    const series = ctSeries({ slices: 3 });
    const { dir, names } = writeSeries([...series.slice(0, 2), { ...series[2], photometric: 'MONOCHROME1' }]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.images).toEqual([]);
    expect(result.rejected.map((r) => r.reason)).toEqual(
      Array(3).fill('series 1.2.826.0.1.3680043.8.498.1 mixes pixel formats between its slices'),
    );
  });

  test('files named as scanners name them, by number or by UID, are told DICOM by their marker', async () => {
    const { dir, names } = writeSeries(shuffled(ctSeries({ slices: 3 })));
    const scannerNames = ['IM00001', '1.2.840.113619.2.55.3.4', '00000003'];
    names.forEach((name, i) => fs.renameSync(path.join(dir, name), path.join(dir, scannerNames[i])));
    fs.writeFileSync(path.join(dir, 'NOTES'), 'not an image');
    const result = await convertImageFiles(files(dir, [...scannerNames, 'NOTES']));
    expect(result.images.map((i) => [i.name, [...i.sources].sort()])).toEqual([
      ['CT.mha', [...scannerNames].sort()],
    ]);
    expect(result.rejected.map((r) => r.filename)).toEqual(['NOTES']);
    await expectSameAsGdcm(dir, scannerNames, result.images[0].content);
  });

  test.each([
    ['int16 to uint16: a late slice holds values over 32767', 0, 'uint16'],
    ['int16 to int32: with an intercept of -1024, also values under -32768', -1024, 'int32'],
  ])(
    'a series whose voxel type widens part-way, after pieces of its output are compressed: %s',
    async (_, rescaleIntercept, componentType) => {
      // 16 slices of 384 x 384: more than a 4 MiB piece of output is compressed before slice 15.
      const slices: SliceSpec[] = Array.from({ length: 16 }, (_, k) => ({
        seriesUid: '1.2.826.0.1.3680043.8.498.44',
        rows: 384,
        columns: 384,
        position: [0, 0, 2 * k],
        orientation: [1, 0, 0, 0, 1, 0],
        pixelSpacing: [0.5, 0.5],
        signed: false,
        rescaleIntercept,
        pixels: Uint16Array.from({ length: 384 * 384 }, (_, i) =>
          k < 15 ? (i * 7 + k) % 3000 : (i * 13 + k) % 65536,
        ),
        instance: k + 1,
      }));
      const { dir, names } = writeSeries(shuffled(slices));
      const result = await convertImageFiles(files(dir, names));
      expect(result.rejected).toEqual([]);
      expect(result.images[0].metadata).toMatchObject({ size: [384, 384, 16], componentType });
      await expectSameAsGdcm(dir, names, result.images[0].content);
    },
  );

  test('no patient or study identifier reaches the output header', async () => {
    const { dir, names } = writeSeries(ctSeries().map((s) => ({ ...s, patientName: 'Doe^Jane' })));
    const [image] = (await convertImageFiles(files(dir, names))).images;
    const header = image.content.subarray(0, 1000).toString('latin1');
    expect(header).not.toMatch(/Doe|Jane|PID-0042|1\.2\.826/);
    expect(header).toContain('Modality = CT');
    expect(header).toContain('WindowCenter = 40');
  });
});

describe('multi-frame DICOM and explicit big endian', () => {
  /** The oblique CT of the series tests as the frames of one file. */
  const frames = (count = 6) =>
    ctSeries({ slices: count }).map((slice) => ({
      position: slice.position!,
      pixels: slice.pixels as Int16Array,
    }));
  const multiFrame = (spec: Partial<MultiFrameSpec>): MultiFrameSpec => ({
    seriesUid: '1.2.826.0.1.3680043.8.498.60',
    rows: 5,
    columns: 7,
    pixelSpacing: [0.8, 0.6],
    orientation: [...rowDirection, ...columnDirection],
    frames: frames(),
    enhanced: true,
    spacingBetweenSlices: 2.5,
    rescaleIntercept: -1024,
    ...spec,
  });
  const writeFile = (name: string, bytes: Buffer) => {
    const dir = path.join(root, `set-${folderCount++}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, name), bytes);
    return { dir, names: [name] };
  };
  const voxels = async (content: Buffer) => {
    const outPath = path.join(root, `out-${folderCount++}.mha`);
    fs.writeFileSync(outPath, content);
    const output = await itk('itk-image.mjs', { read: outPath });
    return {
      ...output,
      values: Array.from(ARRAYS[output.componentType](Buffer.from(output.data!, 'base64'))),
    };
  };

  test('an enhanced multi-frame CT reads as GDCM reads it, geometry from its functional groups', async () => {
    const { dir, names } = writeFile('enhanced.dcm', multiFrameFile(multiFrame({})));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({
      size: [7, 5, 6],
      componentType: 'int16',
      Modality: 'CT',
    });
    expect(result.images[0].sources).toEqual(['enhanced.dcm']);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test('a multi-frame file is read whole once, for its header; each frame then reads only its own bytes', async () => {
    for (const rle of [undefined, 'offset-table'] as const) {
      const { dir, names } = writeFile(`counted-${rle}.dcm`, multiFrameFile(multiFrame({ rle })));
      const file = diskFile(names[0], path.join(dir, names[0]));
      const reads = { whole: 0, ranges: [] as number[] };
      const counted: InputFile = {
        name: file.name,
        load: (reuse) => (reads.whole++, file.load(reuse)),
        readRange: (range, reuse) => (reads.ranges.push(range.length), file.readRange!(range, reuse)),
      };
      const result = await convertImageFiles([counted]);
      expect(result.rejected).toEqual([]);
      expect(reads.whole).toBe(1);
      expect(reads.ranges).toHaveLength(6);
      const frameBytes = 7 * 5 * 2;
      if (rle) expect(reads.ranges.every((n) => n < 2 * frameBytes + 64)).toBe(true);
      else expect(reads.ranges).toEqual(new Array(6).fill(frameBytes));
      await expectSameAsGdcm(dir, names, result.images[0].content);
    }
  });

  describe('a multi-frame file larger than its first read is never loaded whole', () => {
    /** Frames of the given size, each a ramp of its own, along the oblique normal. */
    const large = (count: number, side: number) =>
      Array.from({ length: count }, (_, k) => ({
        position: [-100, 50, 300].map((o, d) => o + k * 2.5 * normal[d]),
        pixels: Int16Array.from({ length: side * side }, (_, i) => ((i * 7 + k * 131) % 3000) - 1000),
      }));
    /** The file through an InputFile that counts whole loads and the bytes read in ranges. */
    const counted = (dir: string, name: string) => {
      const file = diskFile(name, path.join(dir, name));
      const reads = { whole: 0, rangeBytes: 0 };
      const input: InputFile = {
        ...file,
        load: (reuse) => (reads.whole++, file.load(reuse)),
        readRange: (range, reuse) => {
          const bytes = file.readRange!(range, reuse);
          reads.rangeBytes += bytes.length;
          return bytes;
        },
      };
      return { input, reads };
    };

    test.each([
      ['native frames', undefined, 8, 160],
      ['RLE frames with an offset table', 'offset-table' as const, 8, 160],
      ['a header longer than the first read (1,200 frames of functional groups)', undefined, 1200, 16],
    ])('%s read as GDCM reads them', async (_, rle, count, side) => {
      const spec = multiFrame({ rows: side, columns: side, frames: large(count, side), rle });
      const { dir, names } = writeFile(`large-${count}-${rle}.dcm`, multiFrameFile(spec));
      const { input, reads } = counted(dir, names[0]);
      const result = await convertImageFiles([input]);
      expect(result.rejected).toEqual([]);
      expect(reads.whole).toBe(0);
      // The header and each frame's own bytes, nothing twice but the start of the file.
      expect(reads.rangeBytes).toBeLessThan(input.size! + 300 * 1024);
      await expectSameAsGdcm(dir, names, result.images[0].content);
    });

    test('compressed pixel data cut short, or without its end of sequence, is refused', async () => {
      const spec = multiFrame({ rows: 160, columns: 160, frames: large(8, 160), rle: 'offset-table' });
      const whole = multiFrameFile(spec);
      const cut = writeFile('cut-rle.dcm', whole.subarray(0, whole.length - 5000));
      const unended = writeFile('unended-rle.dcm', whole.subarray(0, whole.length - 8));
      const reasons = [];
      for (const { dir, names } of [cut, unended]) {
        const result = await convertImageFiles([counted(dir, names[0]).input]);
        reasons.push(result.rejected.map((r) => r.reason));
      }
      expect(reasons).toEqual([
        ['a pixel data fragment is truncated'],
        ['the compressed pixel data is truncated'],
      ]);
    });
  });

  test('frames stored out of order are ordered along the normal, as separate files would be', async () => {
    const ordered = writeFile('ordered.dcm', multiFrameFile(multiFrame({})));
    const mixed = writeFile('mixed.dcm', multiFrameFile(multiFrame({ frames: shuffled(frames()) })));
    const [a] = (await convertImageFiles(files(ordered.dir, ordered.names))).images;
    const [b] = (await convertImageFiles(files(mixed.dir, mixed.names))).images;
    expect((await voxels(b.content)).values).toEqual((await voxels(a.content)).values);
    expect(b.metadata).toEqual(a.metadata);
  });

  test('an enhanced 4D file: frames at the same positions become time points by TemporalPositionIndex', async () => {
    const positions = frames(3);
    const value = (i: number, z: number, t: number) => i + 100 * z + 1000 * t;
    const timed = [2, 0, 1].flatMap((t) =>
      positions.map((p, z) => ({
        position: p.position,
        temporalIndex: t + 1,
        pixels: Int16Array.from({ length: 35 }, (_, i) => value(i, z, t)),
      })),
    );
    const { dir, names } = writeFile('four-d.dcm', multiFrameFile(multiFrame({ frames: timed })));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    const output = await voxels(result.images[0].content);
    expect(output.size).toEqual([7, 5, 3, 3]);
    const expected = [0, 1, 2].flatMap((t) =>
      [0, 1, 2].flatMap((z) => Array.from({ length: 35 }, (_, i) => value(i, z, t) - 1024)),
    );
    expect(output.values).toEqual(expected);
  });

  test('a classic multi-frame file steps its frames along the normal by SpacingBetweenSlices, as GDCM does', async () => {
    const { dir, names } = writeFile('classic.dcm', multiFrameFile(multiFrame({ enhanced: false })));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ size: [7, 5, 6] });
    expect((result.images[0].metadata.spacing as number[])[2]).toBeCloseTo(2.5, 4);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test.each([['one-fragment-per-frame'], ['offset-table'], ['two-fragments-per-frame']] as const)(
    'RLE frames, %s, read the same as native ones',
    async (rle) => {
      const native = writeFile('native.dcm', multiFrameFile(multiFrame({})));
      const compressed = writeFile('rle.dcm', multiFrameFile(multiFrame({ rle })));
      const result = await convertImageFiles(files(compressed.dir, compressed.names));
      if (rle === 'two-fragments-per-frame') {
        // Without an offset table, fragments cannot be told apart from frames.
        expect(result.rejected).toEqual([
          {
            filename: 'rle.dcm',
            reason:
              '12 pixel data fragments for 6 frames and no basic offset table: the frames cannot be told apart',
          },
        ]);
        return;
      }
      expect(result.rejected).toEqual([]);
      const [reference] = (await convertImageFiles(files(native.dir, native.names))).images;
      expect((await voxels(result.images[0].content)).values).toEqual(
        (await voxels(reference.content)).values,
      );
      await expectSameAsGdcm(compressed.dir, compressed.names, result.images[0].content);
    },
  );

  test('a multi-frame file beside single-frame files of another series: two images', async () => {
    const { dir, names } = writeSeries(ctSeries({ uid: '1.2.826.0.1.3680043.8.498.61', slices: 3 }));
    fs.writeFileSync(path.join(dir, 'enhanced.dcm'), multiFrameFile(multiFrame({})));
    const result = await convertImageFiles(files(dir, [...names, 'enhanced.dcm']));
    expect(result.rejected).toEqual([]);
    expect(result.images.map((i) => i.metadata.size)).toEqual([
      [7, 5, 3],
      [7, 5, 6],
    ]);
  });

  test('explicit VR big endian reads as GDCM reads it', async () => {
    const dir = path.join(root, `set-${folderCount++}`);
    fs.mkdirSync(dir);
    const names = shuffled(ctSeries()).map((spec, i) => {
      fs.writeFileSync(path.join(dir, `BE${i}.dcm`), toBigEndian(dicomSlice(spec)));
      return `BE${i}.dcm`;
    });
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  test.each([
    [
      'fewer per-frame functional groups than frames',
      multiFrame({ perFrameItems: 4 }),
      'the file has 6 frames but 4 per-frame functional groups',
    ],
    [
      'a classic multi-frame file without SpacingBetweenSlices',
      multiFrame({ enhanced: false, spacingBetweenSlices: 0 }),
      'a multi-frame file of 6 frames with neither per-frame positions nor SpacingBetweenSlices',
    ],
  ])('%s is refused', async (_, spec, reason) => {
    const { dir, names } = writeFile('broken.dcm', multiFrameFile(spec));
    const result = await convertImageFiles(files(dir, names));
    expect(result.images).toEqual([]);
    expect(result.rejected).toEqual([{ filename: 'broken.dcm', reason }]);
  });

  test('frames past the end of the pixel data are refused', async () => {
    const whole = multiFrameFile(multiFrame({}));
    const { dir, names } = writeFile('cut.dcm', whole.subarray(0, whole.length - 35 * 2));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected[0].reason).toMatch(
      /^(the pixel data is truncated|the DICOM file cannot be parsed)/,
    );
  });
});

describe('DICOM refused, with the reason', () => {
  test('a series with a missing slice names the gap', async () => {
    const { dir, names } = writeSeries(ctSeries({ skip: [3] }));
    const result = await convertImageFiles(files(dir, names));
    expect(result.images).toEqual([]);
    expect(result.rejected).toHaveLength(5);
    // Slices 0 to 2 are there, 3 is not: the gap follows slice 2, 5 mm from the first along the normal.
    const first = -100 * normal[0] + 50 * normal[1] + 300 * normal[2];
    const [, after] = result.rejected[0].reason.match(
      /has missing slices: 1 after (-?[\d.]+) mm along the slice normal \(step 2\.5 mm\)$/,
    )!;
    expect(Number(after)).toBeCloseTo(first + 5, 2);
    expect(new Set(result.rejected.map((r) => r.reason)).size).toBe(1);
  });

  test('a position with more slices than the others', async () => {
    const series = ctSeries({ slices: 3 });
    const { dir, names } = writeSeries([...series, { ...series[1], instance: 50 }]);
    const result = await convertImageFiles(files(dir, names));
    // Not a copy: the extra slice is an instance of its own at a position taken.
    expect(result.rejected[0].reason).toMatch(
      new RegExp(
        `^series 1\\.2\\.826\\.0\\.1\\.3680043\\.8\\.498\\.1 has 2 slices at -?[\\d.]+ mm \\((${names[1]}, ${names[3]}|${names[3]}, ${names[1]})\\) where the other positions have 1: ` +
          'neither copies of one instance \\(those are read once\\) nor the time points of a 4D series, which has the same number at every position$',
      ),
    );
  });

  test('a DICOMDIR beside its series is named for what it is; the series converts', async () => {
    const { dir, names } = writeSeries(ctSeries({ slices: 3 }));
    // A Part 10 file whose meta group names the Media Storage Directory class, and no pixel data.
    const element = (group: number, number: number, vr: string, value: string) => {
      const padded = value.length % 2 ? `${value}\0` : value;
      const head = Buffer.alloc(8);
      head.writeUInt16LE(group, 0);
      head.writeUInt16LE(number, 2);
      head.write(vr, 4, 'latin1');
      head.writeUInt16LE(padded.length, 6);
      return Buffer.concat([head, Buffer.from(padded, 'latin1')]);
    };
    const meta = Buffer.concat([
      element(0x0002, 0x0002, 'UI', '1.2.840.10008.1.3.10'),
      element(0x0002, 0x0003, 'UI', '1.2.826.0.1.3680043.8.498.90'),
      element(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
    ]);
    const length = Buffer.alloc(12);
    length.writeUInt16LE(0x0002, 0);
    length.write('UL', 4, 'latin1');
    length.writeUInt16LE(4, 6);
    length.writeUInt32LE(meta.length, 8);
    const directory = Buffer.concat([
      Buffer.alloc(128),
      Buffer.from('DICM'),
      length,
      meta,
      element(0x0004, 0x1130, 'CS', 'MEDIA'),
    ]);
    fs.writeFileSync(path.join(dir, 'DICOMDIR'), directory);
    const result = await convertImageFiles(files(dir, [...names, 'DICOMDIR']));
    expect(result.images.map((i) => i.name)).toEqual(['CT.mha']);
    expect(result.rejected).toEqual([
      {
        filename: 'DICOMDIR',
        reason: 'a DICOMDIR, the index of a DICOM medium, holds no image (the images are the files it lists)',
      },
    ]);
  });

  test('a compressed transfer syntax not read is named', async () => {
    const { dir, names } = writeSeries(
      ctSeries({ slices: 1 }).map((s) => ({ ...s, transferSyntax: '1.2.840.10008.1.2.4.201' })),
    );
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([
      {
        filename: names[0],
        reason: 'unsupported transfer syntax 1.2.840.10008.1.2.4.201 (high-throughput JPEG 2000 lossless)',
      },
    ]);
  });

  test('truncated pixel data, beside a good series', async () => {
    const { dir, names } = writeSeries(ctSeries({ slices: 3 }));
    const whole = dicomSlice(ctSeries({ slices: 1, uid: '9.9.9' })[0]);
    fs.writeFileSync(path.join(dir, 'cut.dcm'), whole.subarray(0, whole.length - 20));
    const result = await convertImageFiles(files(dir, [...names, 'cut.dcm']));
    expect(result.images).toHaveLength(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].filename).toBe('cut.dcm');
    expect(result.rejected[0].reason).toMatch(
      /^(the pixel data is truncated|the DICOM file cannot be parsed)/,
    );
  });
});

describe('copies of an instance, and series that are the time points of one stack', () => {
  test('a series uploaded twice converts once; each copy is refused, naming the file read', async () => {
    const series = ctSeries({ slices: 4 });
    const { dir, names } = writeSeries([...series, ...series]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.images.map((i) => [i.name, i.sources])).toEqual([['CT.mha', names.slice(0, 4)]]);
    expect(result.rejected).toEqual(
      names.slice(4).map((filename, k) => ({
        filename,
        reason: `a copy of ${names[k]} (the same SOPInstanceUID 1.2.826.0.1.3680043.8.498.1.${series[k].instance}); the instance is read once, from ${names[k]}`,
      })),
    );
    await expectSameAsGdcm(dir, names.slice(0, 4), result.images[0].content);
  });

  test('one slice uploaded twice: the copy is named, the series converts', async () => {
    const series = ctSeries({ slices: 3 });
    const { dir, names } = writeSeries([...series, series[1]]);
    const result = await convertImageFiles(files(dir, names));
    expect(result.images.map((i) => i.metadata.size)).toEqual([[7, 5, 3]]);
    expect(result.rejected.map((r) => [r.filename, r.reason.split(' (')[0]])).toEqual([
      [names[3], `a copy of ${names[1]}`],
    ]);
  });

  test('slices beside an enhanced volume of the same data that names no source: two volumes of their own, not two time points', async () => {
    const series = ctSeries();
    const { dir, names } = writeSeries(series);
    const volume = multiFrameFile({
      seriesUid: series[0].seriesUid,
      rows: 5,
      columns: 7,
      pixelSpacing: [0.8, 0.6],
      orientation: [...rowDirection, ...columnDirection],
      frames: series.map((s) => ({ position: s.position!, pixels: s.pixels as Int16Array })),
      enhanced: true,
      rescaleIntercept: -1024,
    });
    fs.writeFileSync(path.join(dir, 'volume.dcm'), volume);
    const result = await convertImageFiles(files(dir, [...names, 'volume.dcm']));
    expect(result.rejected).toEqual([]);
    expect(result.images.map((i) => [i.sources.length, i.metadata.size])).toEqual([
      [6, [7, 5, 6]],
      [1, [7, 5, 6]],
    ]);
    await expectSameAsGdcm(dir, names, result.images[0].content);
    await expectSameAsGdcm(dir, ['volume.dcm'], result.images[1].content);
  });

  test('an enhanced volume whose frames name the slices of the upload they were converted from: read once, from the slices', async () => {
    const series = ctSeries();
    const { dir, names } = writeSeries(series);
    const volume = multiFrameFile({
      seriesUid: series[0].seriesUid,
      rows: 5,
      columns: 7,
      pixelSpacing: [0.8, 0.6],
      orientation: [...rowDirection, ...columnDirection],
      frames: series.map((s) => ({
        position: s.position!,
        pixels: s.pixels as Int16Array,
        sourceInstance: `${s.seriesUid}.${s.instance}`,
      })),
      enhanced: true,
      rescaleIntercept: -1024,
    });
    fs.writeFileSync(path.join(dir, 'volume.dcm'), volume);
    const result = await convertImageFiles(files(dir, [...names, 'volume.dcm']));
    expect(result.images.map((i) => [i.sources, i.metadata.size])).toEqual([[names, [7, 5, 6]]]);
    expect(result.rejected).toEqual([
      {
        filename: 'volume.dcm',
        reason: `made of 6 other files of this upload (${names.slice(0, 3).join(', ')} and 3 more), whose instances its frames hold (its Conversion Source Attributes); they are read once, from those files`,
      },
    ]);
    await expectSameAsGdcm(dir, names, result.images[0].content);
  });

  /** Four time points of the oblique CT, each its own series of one stack in one frame of reference. */
  const stackSeries = (options: { stackOf?: (t: number) => string; skipAt?: number } = {}) => {
    const value = (i: number, z: number, t: number) => i + 100 * z + 1000 * t;
    // The series UIDs and instance numbers run against time: only TemporalPositionIndex orders them.
    return [0, 1, 2, 3].flatMap((t) =>
      ctSeries({ slices: 3, uid: `1.2.826.0.1.3680043.8.498.3${9 - t}` })
        .filter((_, z) => !(t === 3 && z === options.skipAt))
        .map((spec, z) => ({
          ...spec,
          instance: 100 - (3 * t + z),
          pixels: Int16Array.from({ length: 35 }, (_, i) => value(i, z, t)),
          extra: [
            [0x0020, 0x0052, 'UI', uid('1.2.826.0.1.3680043.8.498.500')],
            [0x0020, 0x9056, 'SH', text(options.stackOf?.(t) ?? '1_0001_00003')],
            [0x0020, 0x9128, 'UL', Buffer.from(Uint32Array.of(t + 1).buffer)],
            [0x0008, 0x0033, 'TM', text(`2145${10 + t}`)],
            [0x0018, 0x1152, 'IS', text(String(100 * (t + 1)))],
          ] as Element[],
        })),
    );
  };

  test('one series per time point of a stack (as Toshiba scanners write them) becomes one 4D volume in time order', async () => {
    const { dir, names } = writeSeries(shuffled(stackSeries()));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images).toHaveLength(1);
    expect(result.images[0].sources).toHaveLength(12);
    // One ContentTime and Exposure per time point, in time order, as panimg lists them.
    expect(result.images[0].metadata).toMatchObject({
      ContentTimes: '214510 214511 214512 214513',
      Exposures: '100 200 300 400',
    });
    expect(result.images[0].content.subarray(0, 2000).toString('latin1')).toContain(
      'Exposures = 100 200 300 400',
    );
    const output = await convertedAndReference(dir, [names[0]], result.images[0].content);
    expect(output.converted.size).toEqual([7, 5, 3, 4]);
    expect(output.converted.spacing.slice(0, 3).map((v) => Number(v.toFixed(3)))).toEqual([0.6, 0.8, 2.5]);
    const expected = [0, 1, 2, 3].flatMap((t) =>
      [0, 1, 2].flatMap((z) => Array.from({ length: 35 }, (_, i) => i + 100 * z + 1000 * t - 1024)),
    );
    expect(output.converted.values).toEqual(expected);
    // Each time point read alone by GDCM is the output's volume at that time.
    const volume = 35 * 3;
    for (const t of [0, 3]) {
      const series = names.filter((n) => fs.readFileSync(path.join(dir, n)).includes(`498.3${9 - t}`));
      const { reference } = await convertedAndReference(dir, series, result.images[0].content);
      expect(reference.values).toEqual(expected.slice(t * volume, (t + 1) * volume));
    }
  });

  test('time points of a stack that cannot be told apart are refused, naming two slices', async () => {
    // Every series numbers its slices from 1 and gives no temporal position.
    const sets = stackSeries().map((spec) => ({
      ...spec,
      instance: (spec.instance % 3) + 1,
      extra: spec.extra!.filter(([group, element]) => !(group === 0x0020 && element === 0x9128)),
    }));
    const { dir, names } = writeSeries(sets);
    const result = await convertImageFiles(files(dir, names));
    expect(result.images).toEqual([]);
    expect(result.rejected).toHaveLength(12);
    expect(result.rejected[0].reason).toMatch(
      /^stack 1_0001_00003 \(4 series, one per time point\) has two slices at -?[\d.]+ mm \(IM\d{4}\.dcm, IM\d{4}\.dcm\) at the same time point \d \(TemporalPositionIndex, else TemporalPositionIdentifier, else InstanceNumber\): their order in time is not known$/,
    );
  });

  test('series of one stack over different positions stay series of their own', async () => {
    // The last time point lacks its last slice: it covers other positions than the three before it.
    const { dir, names } = writeSeries(stackSeries({ skipAt: 2 }));
    const result = await convertImageFiles(files(dir, names));
    expect(result.rejected).toEqual([]);
    expect(result.images.map((i) => i.metadata.size)).toEqual([
      [7, 5, 3],
      [7, 5, 3],
      [7, 5, 3],
      [7, 5, 2],
    ]);
  });
});

describe('DICOM files some writers get wrong', () => {
  test('a secondary capture, RGB JPEG baseline, with no geometry and its data set in implicit VR under an explicit transfer syntax, reads as its explicit twin reads in GDCM', async () => {
    const [rows, columns] = [16, 24];
    // A gentle gradient per channel, which JPEG keeps closely.
    const pixels = Uint8Array.from({ length: rows * columns * 3 }, (_, i) => {
      const [p, c] = [Math.floor(i / 3), i % 3];
      return 40 + (p % columns) * 4 + Math.floor(p / columns) * 3 + c * 20;
    });
    const frame = await encodeJpegBaseline({
      pixels,
      rows,
      columns,
      samples: 3,
      bitsAllocated: 8,
      signed: false,
    });
    const capture = (implicitVr: boolean): SliceSpec => ({
      seriesUid: '1.2.826.0.1.3680043.8.498.81',
      rows,
      columns,
      pixelSpacing: [1, 1],
      spacingAttribute: 'none',
      sopClass: '1.2.840.10008.5.1.4.1.1.7',
      modality: 'OT',
      pixels,
      bitsAllocated: 8,
      samplesPerPixel: 3,
      photometric: 'YBR_FULL_422',
      transferSyntax: '1.2.840.10008.1.2.4.50',
      frame,
      implicitVr,
      instance: 1,
    });
    // GDCM (itk-wasm) fails on the implicit file: the reference is its explicit twin, the same data set.
    const { dir, names } = writeSeries([capture(true), capture(false)]);
    const bytes = fs.readFileSync(path.join(dir, names[0]));
    // The first element after the meta group, (0008,0016), is followed by its 32-bit length, not a VR.
    const first = bytes.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]), 132 + 12);
    expect(bytes.readUInt32LE(first + 4)).toBe(26);
    const result = await convertImageFiles(files(dir, [names[0]]));
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ size: [24, 16, 1], spacing: [1, 1, 1], components: 3 });
    const { converted, reference } = await convertedAndReference(dir, [names[1]], result.images[0].content);
    expect(converted.values).toEqual(reference.values);
    expect(converted.values.reduce((s, v, i) => s + Math.abs(v - pixels[i]), 0) / pixels.length).toBeLessThan(
      2,
    );
  });

  test('implicit VR under an explicit transfer syntax is told apart in the header read from disk, before the pixel data, too', async () => {
    // 256 x 256 16-bit: larger than the first read of a header, so the header alone is parsed first.
    const spec = {
      ...ctSeries({ slices: 1 })[0],
      rows: 256,
      columns: 256,
      pixels: Int16Array.from({ length: 256 * 256 }, (_, i) => (i * 7) % 3000),
    };
    const { dir, names } = writeSeries([
      { ...spec, implicitVr: true },
      { ...spec, seriesUid: '9.8.7' },
    ]);
    expect(fs.statSync(path.join(dir, names[0])).size).toBeGreaterThan(64 * 1024);
    const result = await convertImageFiles(files(dir, [names[0]]));
    expect(result.rejected).toEqual([]);
    const { converted, reference } = await convertedAndReference(dir, [names[1]], result.images[0].content);
    expect(converted.size).toEqual(reference.size);
    expect(converted.values).toEqual(reference.values);
  });

  test.each([
    // Cut inside the value of an element of the data set.
    [
      'cut inside its header',
      (b: Buffer) => b.subarray(0, 330),
      'it ends inside an element (the file is cut short, or a length in it is wrong)',
    ],
    // The first item of a sequence replaced by other bytes.
    [
      'a sequence with no item where one is due',
      (b: Buffer) => {
        const at = b.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]));
        const copy = Buffer.from(b);
        copy.writeUInt32LE(0x00100010, at);
        return copy;
      },
      /^item tag \(FFFE,E000\) not found at offset \d+$/,
    ],
  ])(
    'a file that cannot be parsed is refused with a reason a person can read: %s',
    async (_, damage, reason) => {
      const spec = ctSeries({ slices: 1 })[0];
      const item = (content: Buffer) => {
        const head = Buffer.alloc(8);
        head.writeUInt32LE(0xe000fffe, 0);
        head.writeUInt32LE(content.length, 4);
        return Buffer.concat([head, content]);
      };
      const withSequence = {
        ...spec,
        extra: [
          [0x0008, 0x1140, 'SQ', item(encode([0x0008, 0x1150, 'UI', uid('1.2.840.10008.5.1.4.1.1.2')]))],
        ] as Element[],
      };
      const dir = path.join(root, `set-${folderCount++}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'damaged.dcm'), damage(dicomSlice(withSequence)));
      const result = await convertImageFiles(files(dir, ['damaged.dcm']));
      expect(result.images).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      const given = result.rejected[0].reason;
      expect(given).not.toContain('[object');
      expect(given.replace('the DICOM file cannot be parsed: ', '')).toMatch(reason);
    },
  );
});
