import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertImageFiles } from '../src/convert-image-files';
import { decodeFrame, FrameFormat } from '../src/dicom-frame-decoder';
import { decodeRle } from '../src/dicom-rle';
import { Rejection } from '../src/rejection';
import { dicomSlice, SliceSpec } from './helpers/dicom-files';
import {
  encodeFrame,
  encodeJpegBaseline,
  loadFrameEncoders,
  RawFrame,
  TRANSFER_SYNTAX as TS,
} from './helpers/dicom-frame-encoders';
import { convertedAndReference } from './helpers/gdcm-reference';
import { encodeJpegLossless } from './helpers/jpeg-lossless-encoder';
import { Coding, COLUMNS, ROWS, slicePixels } from './helpers/slice-pixels';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-codecs-'));
let folderCount = 0;

beforeAll(() => loadFrameEncoders());

/** Three slices of an axial series in the given coding, written to a folder of their own. */
async function writeSeries(
  coding: Coding,
  options: { smooth?: boolean; frame?: (spec: SliceSpec) => Promise<Buffer> | Buffer } = {},
): Promise<{ dir: string; names: string[]; pixels: RawFrame['pixels'][] }> {
  const dir = path.join(root, `set-${folderCount++}`);
  fs.mkdirSync(dir);
  const names: string[] = [];
  const pixels: RawFrame['pixels'][] = [];
  for (let k = 0; k < 3; k++) {
    const spec: SliceSpec = {
      seriesUid: '1.2.826.0.1.3680043.8.498.5',
      rows: ROWS,
      columns: COLUMNS,
      position: [-20, 30, 10 + 2 * k],
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacing: [0.5, 0.75],
      pixels: slicePixels(coding, k, options.smooth),
      bitsAllocated: coding.bits,
      samplesPerPixel: coding.samples,
      signed: coding.signed ?? false,
      bitsStored: coding.bitsStored,
      photometric: coding.photometric,
      predictor: coding.predictor,
      interleaveMode: coding.interleaveMode,
      transferSyntax: coding.transferSyntax,
      instance: k + 1,
    };
    const name = `IM${k}.dcm`;
    fs.writeFileSync(path.join(dir, name), dicomSlice({ ...spec, frame: await options.frame?.(spec) }));
    names.push(name);
    pixels.push(spec.pixels);
  }
  return { dir, names, pixels };
}

const rawFrame = (spec: SliceSpec): RawFrame => ({
  pixels: spec.pixels,
  rows: spec.rows,
  columns: spec.columns,
  samples: spec.samplesPerPixel ?? 1,
  bitsAllocated: spec.bitsAllocated ?? 16,
  signed: spec.signed ?? false,
});

/** Converts a written series and reads it back beside GDCM's reading, checking the geometry. */
async function convertAndRead(dir: string, names: string[]) {
  const result = await convertImageFiles(
    names.map((name) => ({ name, load: () => fs.readFileSync(path.join(dir, name)) })),
  );
  expect(result.rejected).toEqual([]);
  expect(result.images).toHaveLength(1);
  const { converted, reference } = await convertedAndReference(dir, names, result.images[0].content);
  expect(converted.size).toEqual(reference.size);
  expect(converted.size).toEqual([COLUMNS, ROWS, 3]);
  const close = (x: number[], y: number[]) => x.forEach((v, i) => expect(v).toBeCloseTo(y[i], 4));
  close(converted.spacing, reference.spacing);
  close(converted.origin, reference.origin);
  close(converted.direction, reference.direction);
  return { converted, reference, metadata: result.images[0].metadata };
}

const grey8: Omit<Coding, 'transferSyntax'> = { bits: 8, samples: 1 };
const greySigned8: Omit<Coding, 'transferSyntax'> = { bits: 8, samples: 1, signed: true };
const greySigned16: Omit<Coding, 'transferSyntax'> = { bits: 16, samples: 1, signed: true };
const greyUnsigned16: Omit<Coding, 'transferSyntax'> = { bits: 16, samples: 1 };
const grey12: Omit<Coding, 'transferSyntax'> = { bits: 16, samples: 1, bitsStored: 12 };
const rgb8: Omit<Coding, 'transferSyntax'> = { bits: 8, samples: 3 };

describe('lossless compressed series read exactly, as GDCM reads them', () => {
  const cases: [string, Coding][] = [
    ['RLE, 8-bit grey', { ...grey8, transferSyntax: TS.rle }],
    ['RLE, 16-bit signed grey', { ...greySigned16, transferSyntax: TS.rle }],
    ['RLE, 16-bit unsigned grey', { ...greyUnsigned16, transferSyntax: TS.rle }],
    ['RLE, 8-bit RGB', { ...rgb8, transferSyntax: TS.rle }],
    ['JPEG lossless SV1, 8-bit grey', { ...grey8, transferSyntax: TS.jpegLosslessFirstOrder }],
    ['JPEG lossless SV1, 8-bit signed grey', { ...greySigned8, transferSyntax: TS.jpegLosslessFirstOrder }],
    ['JPEG lossless SV1, 16-bit signed grey', { ...greySigned16, transferSyntax: TS.jpegLosslessFirstOrder }],
    [
      'JPEG lossless SV1, 16-bit unsigned grey',
      { ...greyUnsigned16, transferSyntax: TS.jpegLosslessFirstOrder },
    ],
    ['JPEG lossless SV1, 12 of 16 bits', { ...grey12, transferSyntax: TS.jpegLosslessFirstOrder }],
    ['JPEG lossless SV1, 8-bit RGB', { ...rgb8, transferSyntax: TS.jpegLosslessFirstOrder }],
    ...[2, 3, 4, 5, 6, 7].map((predictor): [string, Coding] => [
      `JPEG lossless predictor ${predictor}, 16-bit signed grey`,
      { ...greySigned16, transferSyntax: TS.jpegLossless, predictor },
    ]),
    ['JPEG lossless predictor 7, 8-bit RGB', { ...rgb8, transferSyntax: TS.jpegLossless, predictor: 7 }],
    ['JPEG-LS, 8-bit grey', { ...grey8, transferSyntax: TS.jpegLs }],
    ['JPEG-LS, 16-bit signed grey', { ...greySigned16, transferSyntax: TS.jpegLs }],
    ['JPEG-LS, 12 of 16 bits', { ...grey12, transferSyntax: TS.jpegLs }],
    ...[0, 1, 2].map((interleaveMode): [string, Coding] => [
      `JPEG-LS, 8-bit RGB, interleave mode ${interleaveMode}`,
      { ...rgb8, transferSyntax: TS.jpegLs, interleaveMode },
    ]),
    ['JPEG 2000 lossless, 8-bit grey', { ...grey8, transferSyntax: TS.jpeg2000Lossless }],
    ['JPEG 2000 lossless, 16-bit signed grey', { ...greySigned16, transferSyntax: TS.jpeg2000Lossless }],
    ['JPEG 2000 lossless, 16-bit unsigned grey', { ...greyUnsigned16, transferSyntax: TS.jpeg2000Lossless }],
    [
      'JPEG 2000 lossless, 8-bit colour (YBR_RCT)',
      { ...rgb8, transferSyntax: TS.jpeg2000Lossless, photometric: 'YBR_RCT' },
    ],
  ];

  test.each(cases)('%s', async (_, coding) => {
    const { dir, names, pixels } = await writeSeries(coding);
    const { converted, reference, metadata } = await convertAndRead(dir, names);
    expect(metadata).toMatchObject({ components: coding.samples });
    expect(converted.values).toEqual(reference.values);
    expect(converted.values).toEqual(pixels.flatMap((p) => Array.from(p)));
  });
});

describe('lossless JPEG with restart intervals and one scan per component, as GDCM reads it', () => {
  test.each([
    ['restart every 3 rows, 16-bit signed grey, predictor 4', greySigned16, { restartRows: 3, predictor: 4 }],
    ['restart every row, 8-bit RGB interleaved', rgb8, { restartRows: 1 }],
    [
      '8-bit RGB, one scan per component, restart every 5 rows',
      rgb8,
      { scanPerComponent: true, restartRows: 5 },
    ],
  ] as const)('%s', async (_, format, options) => {
    const coding: Coding = { ...format, transferSyntax: TS.jpegLossless };
    const { dir, names, pixels } = await writeSeries(coding, {
      frame: (spec) =>
        encodeJpegLossless(spec.pixels, {
          width: spec.columns,
          height: spec.rows,
          components: coding.samples,
          precision: coding.bits,
          ...options,
        }),
    });
    const { converted, reference } = await convertAndRead(dir, names);
    expect(converted.values).toEqual(reference.values);
    expect(converted.values).toEqual(pixels.flatMap((p) => Array.from(p)));
  });
});

describe('lossy compressed series read as GDCM reads them', () => {
  /** Largest and mean difference between two lists of values. */
  const largest = (a: number[], b: ArrayLike<number>) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  const mean = (a: number[], b: ArrayLike<number>) =>
    a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
  const sharpJpeg = (spec: SliceSpec) => encodeJpegBaseline(rawFrame(spec));

  // [name, coding, frame encoder (the helper's by default), mean error against the source it stays within]
  const cases: [string, Coding, ((spec: SliceSpec) => Promise<Buffer>) | undefined, number][] = [
    ['JPEG baseline, 8-bit grey', { ...grey8, transferSyntax: TS.jpegBaseline }, sharpJpeg, 1],
    [
      'JPEG baseline, 8-bit colour (YBR_FULL_422)',
      { ...rgb8, transferSyntax: TS.jpegBaseline, photometric: 'YBR_FULL_422' },
      sharpJpeg,
      1,
    ],
    [
      'JPEG extended (process 2, SOF1), 8-bit grey',
      { ...grey8, transferSyntax: TS.jpegExtended },
      async (spec) => {
        const jpeg = await sharpJpeg(spec);
        const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
        jpeg[sof + 1] = 0xc1; // the same Huffman-coded 8-bit frame, marked as extended sequential
        return jpeg;
      },
      1,
    ],
    ['JPEG-LS near-lossless, 8-bit grey', { ...grey8, transferSyntax: TS.jpegLsNearLossless }, undefined, 2],
    [
      'JPEG-LS near-lossless, 16-bit signed grey',
      { ...greySigned16, transferSyntax: TS.jpegLsNearLossless },
      undefined,
      2,
    ],
    ['JPEG-LS near-lossless, 8-bit RGB', { ...rgb8, transferSyntax: TS.jpegLsNearLossless }, undefined, 2],
    ['JPEG 2000 irreversible, 8-bit grey', { ...grey8, transferSyntax: TS.jpeg2000 }, undefined, 3],
    // 5:1 over the whole 16-bit range: 1% of it.
    [
      'JPEG 2000 irreversible, 16-bit signed grey',
      { ...greySigned16, transferSyntax: TS.jpeg2000 },
      undefined,
      655,
    ],
    [
      'JPEG 2000 irreversible, 8-bit colour (YBR_ICT)',
      { ...rgb8, transferSyntax: TS.jpeg2000, photometric: 'YBR_ICT' },
      undefined,
      1,
    ],
  ];

  test.each(cases)('%s', async (_, coding, frame, meanError) => {
    const { dir, names, pixels } = await writeSeries(coding, { smooth: true, frame });
    const { converted, reference } = await convertAndRead(dir, names);
    const source = pixels.flatMap((p) => Array.from(p));
    expect(converted.values).toEqual(reference.values);
    expect(mean(converted.values, source)).toBeLessThan(meanError);
    if (coding.transferSyntax === TS.jpegLsNearLossless) {
      expect(largest(converted.values, source)).toBeLessThanOrEqual(2); // NEAR = 2 bounds every sample
    }
  });

  test('JPEG colour labelled RGB over a JFIF (YCbCr) stream reads as its stream says, where GDCM keeps YCbCr', async () => {
    const coding: Coding = { ...rgb8, transferSyntax: TS.jpegBaseline, photometric: 'RGB' };
    const { dir, names, pixels } = await writeSeries(coding, { smooth: true, frame: sharpJpeg });
    const { converted, reference } = await convertAndRead(dir, names);
    const source = pixels.flatMap((p) => Array.from(p));
    expect(mean(converted.values, source)).toBeLessThan(1);
    expect(mean(reference.values, source)).toBeGreaterThan(10);
  });
});

describe('RLE decoded in WebAssembly and in JavaScript', () => {
  test('300 frames, whole or damaged: the same values, or the same refusal', () => {
    let seed = 5;
    const random = (n: number) => {
      seed = (seed * 16807) % 2147483647;
      return seed % n;
    };
    const outcome = (frame: Buffer, format: FrameFormat, wasmBytes?: number) => {
      try {
        return { values: decodeRle(frame, format, wasmBytes).toString('base64') };
      } catch (err) {
        if (!(err instanceof Rejection)) throw err;
        return { refusal: err.message };
      }
    };
    let refused = 0;
    for (let trial = 0; trial < 300; trial++) {
      const samples = random(3) === 0 ? 3 : 1;
      const bitsAllocated = samples === 3 || random(2) === 0 ? 8 : 16;
      const [rows, columns] = [1 + random(30), 1 + random(30)];
      const count = rows * columns * samples;
      const flat = random(2) === 0; // long runs, or noise
      const values = Array.from({ length: count }, (_, i) =>
        flat ? Math.floor(i / 40) : random(2 ** bitsAllocated),
      );
      const pixels = bitsAllocated === 8 ? Uint8Array.from(values) : Uint16Array.from(values);
      const format: FrameFormat = { rows, columns, samples, bitsAllocated };
      const frame = encodeFrame(TS.rle, { pixels, rows, columns, samples, bitsAllocated, signed: false });
      if (trial % 2 === 1) {
        for (let n = 1 + random(4); n > 0; n--) frame[64 + random(frame.length - 64)] = random(256);
      }
      const inWasm = outcome(frame, format);
      expect(outcome(frame, format, 0)).toEqual(inWasm);
      if (trial % 2 === 0) expect(inWasm).toEqual({ values: Buffer.from(pixels.buffer).toString('base64') });
      if (inWasm.refusal) refused++;
    }
    expect(refused).toBeGreaterThan(20);
  });
});

describe('lossless JPEG frames of every shape round-trip exactly', () => {
  test('400 frames of random size, depth, colour, predictor, restart interval, scans and content', async () => {
    let seed = 3;
    const random = (n: number) => {
      seed = (seed * 16807) % 2147483647;
      return seed % n;
    };
    for (let trial = 0; trial < 400; trial++) {
      const samples = random(3) === 0 ? 3 : 1;
      const bitsAllocated = samples === 3 || random(2) === 0 ? 8 : 16;
      const precision = bitsAllocated === 8 ? 8 : [12, 16][random(2)];
      const rows = 1 + random(40);
      const columns = 1 + random(40);
      const count = rows * columns * samples;
      const style = random(3); // ramps, noise over the whole range, or a flat field with small noise
      const values = Array.from({ length: count }, (_, i) =>
        style === 0 ? (i * 3) % 2 ** precision : style === 1 ? random(2 ** precision) : 100 + random(4),
      );
      const pixels = bitsAllocated === 8 ? Uint8Array.from(values) : Uint16Array.from(values);
      const frame = encodeJpegLossless(pixels, {
        width: columns,
        height: rows,
        components: samples,
        precision,
        predictor: 1 + random(7),
        restartRows: random(3) === 0 ? 1 + random(rows) : undefined,
        scanPerComponent: random(2) === 0,
      });
      const decoded = await decodeFrame(TS.jpegLossless, frame, { rows, columns, samples, bitsAllocated });
      expect(decoded.equals(Buffer.from(pixels.buffer))).toBe(true);
    }
  });
});

describe('public lossless JPEG files (jpeg-lossless-decoder-js test data: one MR slice, predictors 1 to 7)', () => {
  const data = path.join(
    path.dirname(require.resolve('jpeg-lossless-decoder-js/package.json')),
    'tests',
    'data',
  );

  test('each reads as GDCM reads it, and all seven codings give the same image', async () => {
    const images: number[][] = [];
    for (let predictor = 1; predictor <= 7; predictor++) {
      const dir = path.join(root, `public-${predictor}`);
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(data, `jpeg_lossless_sel${predictor}.dcm`), path.join(dir, 'mr.dcm'));
      const result = await convertImageFiles([
        { name: 'mr.dcm', load: () => fs.readFileSync(path.join(dir, 'mr.dcm')) },
      ]);
      expect(result.rejected).toEqual([]);
      const { converted, reference } = await convertedAndReference(dir, ['mr.dcm'], result.images[0].content);
      expect(converted.size).toEqual([256, 256, 1]);
      expect(converted.values).toEqual(reference.values);
      images.push(converted.values);
    }
    expect(new Set(images.map((values) => values.join(','))).size).toBe(1);
    expect(Math.max(...images[0])).toBeGreaterThan(0);
  });

  test.each([
    ['8-bit grey', 'jpeg_lossless_sel1-8bit.dcm', 1],
    ['8-bit RGB', 'jpeg_lossless_sel1-rgb.dcm', 3],
  ])('the %s file reads as GDCM reads it', async (_, file, components) => {
    const dir = path.join(root, `public-${file}`);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(data, file), path.join(dir, 'image.dcm'));
    const result = await convertImageFiles([
      { name: 'image.dcm', load: () => fs.readFileSync(path.join(dir, 'image.dcm')) },
    ]);
    expect(result.rejected).toEqual([]);
    expect(result.images[0].metadata).toMatchObject({ components, componentType: 'uint8' });
    const { converted, reference } = await convertedAndReference(
      dir,
      ['image.dcm'],
      result.images[0].content,
    );
    expect(converted.size).toEqual(reference.size);
    expect([converted.spacing, converted.origin, converted.direction]).toEqual([
      reference.spacing,
      reference.origin,
      reference.direction,
    ]);
    // Millions of values: compared in a loop, which reports where they first differ.
    const { values } = converted;
    expect(values.length).toBe(reference.values.length);
    expect(values.findIndex((v, i) => v !== reference.values[i])).toBe(-1);
    expect(Math.max(...values.slice(0, 100_000)) - Math.min(...values.slice(0, 100_000))).toBeGreaterThan(10);
  });
});

describe('frames that lie or break are refused with the reason', () => {
  const greyFormat: FrameFormat = { rows: ROWS, columns: COLUMNS, samples: 1, bitsAllocated: 16 };
  const grey16: RawFrame = {
    pixels: slicePixels({ ...greySigned16, transferSyntax: TS.rle }, 0),
    ...greyFormat,
    samples: 1,
    bitsAllocated: 16,
    signed: true,
  };
  const colour: RawFrame = {
    pixels: slicePixels({ ...rgb8, transferSyntax: TS.rle }, 1, true),
    rows: ROWS,
    columns: COLUMNS,
    samples: 3,
    bitsAllocated: 8,
    signed: false,
  };
  const grey8Frame: RawFrame = {
    ...colour,
    pixels: slicePixels({ ...grey8, transferSyntax: TS.rle }, 1, true),
    samples: 1,
  };
  /** A good frame of each transfer syntax: 16-bit grey where the codec takes it, else 8-bit grey. */
  const good = async (transferSyntax: string, raw = grey16) =>
    transferSyntax === TS.jpegBaseline
      ? encodeJpegBaseline(raw.bitsAllocated === 16 ? grey8Frame : raw)
      : encodeFrame(transferSyntax, raw);
  const formatOf = (raw: RawFrame): FrameFormat => ({
    rows: raw.rows,
    columns: raw.columns,
    samples: raw.samples,
    bitsAllocated: raw.bitsAllocated,
  });
  const SYNTAXES = [
    TS.rle,
    TS.jpegBaseline,
    TS.jpegLosslessFirstOrder,
    TS.jpegLs,
    TS.jpeg2000Lossless,
  ] as const;
  const baseFormat = (ts: string) => (ts === TS.jpegBaseline ? formatOf(grey8Frame) : greyFormat);

  test.each(SYNTAXES)('%s: a frame of another size than the header says', async (ts) => {
    const frame = await good(ts);
    const lie = { ...baseFormat(ts), rows: ROWS + 4 };
    await expect(decodeFrame(ts, frame, lie)).rejects.toThrow(
      ts === TS.rle
        ? /an RLE segment ends after 384 of 480 bytes/
        : /frame is 24 x 16 with 1 component of (8|16) bits; the DICOM header says 24 x 20, grey/,
    );
  });

  test.each(SYNTAXES)('%s: a colour frame where the header says grey', async (ts) => {
    const frame = await good(ts, colour);
    await expect(decodeFrame(ts, frame, formatOf(grey8Frame))).rejects.toThrow(
      ts === TS.rle
        ? /has 3 segments; 8-bit grey needs 1/
        : /with 3 components of 8 bits; the DICOM header says 24 x 16, grey, 8 bits allocated/,
    );
  });

  test.each(SYNTAXES.filter((ts) => ts !== TS.jpegBaseline))(
    '%s: 16-bit samples where the header allocates 8 bits',
    async (ts) => {
      const frame = await good(ts);
      await expect(decodeFrame(ts, frame, { ...greyFormat, bitsAllocated: 8 })).rejects.toThrow(
        ts === TS.rle
          ? /has 2 segments; 8-bit grey needs 1/
          : /of 16 bits; the DICOM header says 24 x 16, grey, 8 bits allocated/,
      );
    },
  );

  test.each(SYNTAXES.filter((ts) => ts !== TS.rle))(
    '%s: a frame declaring 65535 x 65535 is refused from its header, before decoding',
    async (ts) => {
      const frame = Buffer.from(await good(ts));
      if (ts === TS.jpeg2000Lossless) {
        frame.writeUInt32BE(65535, 8);
        frame.writeUInt32BE(65535, 12);
      } else {
        const sof = [0xc0, 0xc3, 0xf7].map((m) => frame.indexOf(Buffer.from([0xff, m]))).find((i) => i > 0)!;
        frame.writeUInt16BE(65535, sof + 5);
        frame.writeUInt16BE(65535, sof + 7);
      }
      await expect(decodeFrame(ts, frame, baseFormat(ts))).rejects.toThrow(
        /frame is 65535 x 65535 with 1 component/,
      );
    },
  );

  test.each(SYNTAXES)('%s: a truncated frame', async (ts) => {
    const frame = await good(ts);
    await expect(
      decodeFrame(ts, frame.subarray(0, Math.floor(frame.length * 0.6)), baseFormat(ts)),
    ).rejects.toThrow(Rejection);
  });

  test.each(SYNTAXES)(
    '%s: damaged frames are refused or decoded to the right size, never more',
    async (ts) => {
      const frame = await good(ts);
      const format = baseFormat(ts);
      let seed = 5;
      const random = (n: number) => {
        seed = (seed * 16807) % 2147483647;
        return seed % n;
      };
      const outcomes = { decoded: 0, refused: 0 };
      for (let trial = 0; trial < 45; trial++) {
        const damaged = Buffer.from(frame);
        const kind = trial % 3;
        if (kind === 0) for (let n = 1 + random(8); n > 0; n--) damaged[random(damaged.length)] = random(256);
        const input =
          kind === 1
            ? damaged.subarray(0, random(damaged.length))
            : kind === 2
              ? Buffer.concat([
                  damaged.subarray(0, random(damaged.length)),
                  Buffer.from(Array.from({ length: 64 }, () => random(256))),
                ])
              : damaged;
        try {
          const pixels = await decodeFrame(ts, input, format);
          expect(pixels.length).toBe(ROWS * COLUMNS * (format.bitsAllocated / 8));
          outcomes.decoded++;
        } catch (err) {
          if (!(err instanceof Rejection)) throw err;
          outcomes.refused++;
        }
      }
      expect(outcomes.refused).toBeGreaterThan(15);
      // The codec still decodes a good frame afterwards (an instance that failed is replaced).
      const again = await decodeFrame(ts, frame, format);
      expect(again).toEqual(await decodeFrame(ts, Buffer.from(frame), format));
      if (ts !== TS.jpegBaseline) expect(again).toEqual(Buffer.from(grey16.pixels.buffer));
    },
  );

  /** A minimal JPEG stream: start of image, one frame header, one scan header. */
  const jpegHeaders = (sof: number, precision: number, predictor = 0, pointTransform = 0) =>
    Buffer.from([
      ...[0xff, 0xd8],
      ...[0xff, sof, 0, 11, precision, 0, ROWS, 0, COLUMNS, 1, 1, 0x11, 0],
      ...[0xff, 0xda, 0, 8, 1, 1, 0, predictor, 0, pointTransform],
      ...[0, 0, 0xff, 0xd9],
    ]);

  test('12-bit JPEG extended (process 4) is refused by name, also as a whole file', async () => {
    const reason = /^12-bit lossy JPEG \(JPEG extended, process 4\) is not converted/;
    await expect(
      decodeFrame(TS.jpegExtended, jpegHeaders(0xc1, 12), { ...greyFormat, bitsAllocated: 16 }),
    ).rejects.toThrow(reason);
    const { dir, names } = await writeSeries(
      { ...grey12, transferSyntax: TS.jpegExtended },
      { frame: () => jpegHeaders(0xc1, 12) },
    );
    const result = await convertImageFiles([
      { name: names[0], load: () => fs.readFileSync(path.join(dir, names[0])) },
    ]);
    // A frame is decoded when its series is written: the reason names the file it came from.
    expect(result.rejected).toEqual([
      {
        filename: names[0],
        reason: `${names[0]}: ${await decodeFrame(TS.jpegExtended, jpegHeaders(0xc1, 12), { ...greyFormat, bitsAllocated: 16 }).catch((err: Error) => err.message)}`,
      },
    ]);
  });

  test('a progressive or arithmetic-coded JPEG frame is named', async () => {
    const sharp = require('sharp') as typeof import('sharp');
    const progressive = await sharp(Buffer.from(grey8Frame.pixels.buffer), {
      raw: { width: COLUMNS, height: ROWS, channels: 1 },
    })
      .toColourspace('b-w')
      .jpeg({ progressive: true })
      .toBuffer();
    await expect(decodeFrame(TS.jpegBaseline, progressive, formatOf(grey8Frame))).rejects.toThrow(
      'the frame is progressive JPEG; JPEG baseline and extended DICOM hold sequential Huffman-coded frames',
    );
    await expect(decodeFrame(TS.jpegLossless, jpegHeaders(0xcb, 16, 1), greyFormat)).rejects.toThrow(
      'the frame is arithmetic-coded lossless JPEG; JPEG lossless DICOM holds process 14 frames',
    );
  });

  test('lossless JPEG with a point transform or no predictor is refused', async () => {
    await expect(decodeFrame(TS.jpegLossless, jpegHeaders(0xc3, 16, 1, 2), greyFormat)).rejects.toThrow(
      'the JPEG lossless frame uses a point transform of 2 bits, which is not read',
    );
    await expect(decodeFrame(TS.jpegLossless, jpegHeaders(0xc3, 16, 0), greyFormat)).rejects.toThrow(
      'the JPEG lossless frame names predictor 0; 1 to 7 are valid',
    );
  });

  test('lossless JPEG whose restart intervals or Huffman table do not hold together is refused; a missing end marker is not', async () => {
    const coded = () =>
      encodeJpegLossless(grey16.pixels, {
        width: COLUMNS,
        height: ROWS,
        components: 1,
        precision: 16,
        restartRows: 4,
      });
    const at = (frame: Buffer, bytes: number[]) => frame.indexOf(Buffer.from(bytes));
    const refusal = (frame: Buffer) =>
      decodeFrame(TS.jpegLossless, frame, greyFormat).catch((err: Error) => err.message);

    const pixels = Buffer.from(grey16.pixels.buffer);
    expect(await decodeFrame(TS.jpegLossless, coded(), greyFormat)).toEqual(pixels);
    // Leniency where nothing is lost: no end-of-image marker, a restart marker after the last interval.
    const whole = coded();
    const body = whole.subarray(0, whole.length - 2);
    expect(await decodeFrame(TS.jpegLossless, body, greyFormat)).toEqual(pixels);
    const extra = Buffer.concat([body, Buffer.from([0xff, 0xd3, 0xff, 0xd9])]);
    expect(await decodeFrame(TS.jpegLossless, extra, greyFormat)).toEqual(pixels);
    const swapped = coded();
    swapped[at(swapped, [0xff, 0xd1]) + 1] = 0xd3;
    expect(await refusal(swapped)).toBe('the JPEG lossless frame has restart marker 3 where 1 is due');
    const lost = coded();
    const third = at(lost, [0xff, 0xd2]);
    expect(await refusal(Buffer.concat([lost.subarray(0, third), lost.subarray(third + 2)]))).toBe(
      'the JPEG lossless frame has 3 of its 4 restart intervals',
    );
    const uneven = coded();
    uneven.writeUInt16BE(COLUMNS + 1, at(uneven, [0xff, 0xdd]) + 4);
    expect(await refusal(uneven)).toBe(
      `the JPEG lossless restart interval of ${COLUMNS + 1} is not a whole number of rows`,
    );
    const wide = coded();
    const table = at(wide, [0xff, 0xc4]);
    wide[table + 5 + 16] = 17; // the first symbol: a difference of 17 bits
    expect(await refusal(wide)).toBe(
      'a JPEG lossless Huffman table codes a difference of 17 bits; 16 is the most',
    );
  });

  test('JPEG 2000 frames with an image offset, subsampled components or thousands of tiles', async () => {
    const patched = (patch: (siz: Buffer) => void) => {
      const frame = Buffer.from(encodeFrame(TS.jpeg2000Lossless, grey16));
      patch(frame);
      return frame;
    };
    await expect(
      decodeFrame(
        TS.jpeg2000Lossless,
        patched((f) => f.writeUInt32BE(3, 16)),
        greyFormat,
      ),
    ).rejects.toThrow('the JPEG 2000 frame has an image offset (3, 0); DICOM frames start at 0');
    const colourFrame = Buffer.from(encodeFrame(TS.jpeg2000Lossless, colour));
    colourFrame[42 + 3 + 1] = 2; // the second component's horizontal subsampling
    await expect(decodeFrame(TS.jpeg2000Lossless, colourFrame, formatOf(colour))).rejects.toThrow(
      'the JPEG 2000 frame has subsampled components, which DICOM does not allow',
    );
    const tiny = patched((f) => {
      [128, 64, 0, 0, 1, 1].forEach((v, i) => f.writeUInt32BE(v, 8 + 4 * i)); // 128 x 64 in 1 x 1 tiles
    });
    await expect(
      decodeFrame(TS.jpeg2000Lossless, tiny, { ...greyFormat, rows: 64, columns: 128 }),
    ).rejects.toThrow('the JPEG 2000 frame has 8192 tiles; at most 4096 are read');
  });

  test('16-bit colour is not converted', async () => {
    await expect(
      decodeFrame(TS.jpeg2000Lossless, Buffer.alloc(10), { ...greyFormat, samples: 3 }),
    ).rejects.toThrow('JPEG 2000 lossless with 3 samples of 16 bits is not converted');
  });
});

describe('RLE frames that lie', () => {
  const header = (segments: number, first: number, second: number) => {
    const h = Buffer.alloc(64);
    h.writeUInt32LE(segments, 0);
    h.writeUInt32LE(first, 4);
    h.writeUInt32LE(second, 8);
    return h;
  };
  const fourPixels: FrameFormat = { rows: 1, columns: 4, samples: 1, bitsAllocated: 16 };

  test.each([
    ['a header shorter than 64 bytes', Buffer.alloc(10), /shorter than its 64-byte header/],
    ['three segments for grey', header(3, 64, 66), /has 3 segments; 16-bit grey needs 2/],
    [
      'an offset past the frame',
      Buffer.concat([header(2, 64, 9999), Buffer.alloc(4)]),
      /points outside its frame/,
    ],
    [
      'a run longer than the image',
      Buffer.concat([header(2, 64, 66), Buffer.from([0x81, 7, 0x81, 7])]),
      /repeat run overruns/,
    ],
    [
      'a segment that ends early',
      Buffer.concat([header(2, 64, 66), Buffer.from([0x00, 7, 0x00, 7])]),
      /ends after 1 of 4 bytes/,
    ],
  ])('%s is refused', async (_, frame, reason) => {
    await expect(decodeFrame(TS.rle, frame as Buffer, fourPixels)).rejects.toThrow(reason);
  });
});
