// Conversion figures: a 512 x 512 x 500 CT volume (int16, 250 MiB of voxels) in the formats the
// converter reads today (DICOM uncompressed, JPEG lossless and RLE among them), each converted in
// a fresh process: wall time and peak memory, against dcm2niix for DICOM where it is installed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { dicomSlice } from '../packages/image-io/test/helpers/dicom-files';
import { TRANSFER_SYNTAX } from '../packages/image-io/test/helpers/dicom-frame-encoders';
import { multiFrameFile } from '../packages/image-io/test/helpers/dicom-multiframe';

const SIZE = [512, 512, 500];

/** Each figure is the median of this many runs, the converter's each in a fresh process. */
const RUNS = 3;

interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssKb: number;
  readonly outputBytes: number;
}

/** The run of median wall time among `count`; undefined when the tool is missing. */
function median<T extends { readonly wallMs: number }>(
  count: number,
  run: () => T | undefined,
): T | undefined {
  const runs: T[] = [];
  for (let i = 0; i < count; i++) {
    const result = run();
    if (!result) return undefined;
    runs.push(result);
  }
  return runs.sort((a, b) => a.wallMs - b.wallMs)[Math.floor(count / 2)];
}

/** Converts a file or a folder (one upload set) in a fresh process: its wall time, CPU time and peak memory. */
function convertOne(target: string): Run {
  const run = spawnSync('npx', ['tsx', path.join(__dirname, 'convert-one.ts'), target], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`converting ${path.basename(target)} failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Run;
}

function ctVoxels(): Buffer {
  const data = Buffer.alloc(SIZE[0] * SIZE[1] * SIZE[2] * 2);
  // Smooth anatomy-like values with noise, so compression behaves as on real CT.
  for (let i = 0, v = 0; i < data.length / 2; i++) {
    v = (v * 1103515245 + 12345) & 0x7fffffff;
    const x = i % SIZE[0];
    const y = Math.floor(i / SIZE[0]) % SIZE[1];
    const inside = (x - 256) ** 2 + (y - 256) ** 2 < 200 ** 2;
    data.writeInt16LE((inside ? 40 : -1000) + (v % 60) - 30, i * 2);
  }
  return data;
}

function niftiHeader(): Buffer {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  header.writeInt16LE(3, 40);
  SIZE.forEach((n, i) => header.writeInt16LE(n, 42 + 2 * i));
  header.writeInt16LE(4, 70); // int16
  header.writeInt16LE(16, 72);
  [1, 0.7, 0.7, 1.25].forEach((v, i) => header.writeFloatLE(v, 76 + 4 * i));
  header.writeFloatLE(352, 108);
  header.writeInt16LE(1, 254); // sform
  [
    [-0.7, 0, 0, 180],
    [0, -0.7, 0, 180],
    [0, 0, 1.25, -300],
  ].forEach((row, r) => row.forEach((v, c) => header.writeFloatLE(v, 280 + 16 * r + 4 * c)));
  header.write('n+1\0', 344, 'latin1');
  return header;
}

/** The DICOM codings of the CT series: uncompressed, and the lossless compressions scanners write. */
const DICOM_VARIANTS = [
  { label: 'explicit VR little endian', transferSyntax: '1.2.840.10008.1.2.1' },
  { label: 'JPEG lossless (process 14, SV1)', transferSyntax: TRANSFER_SYNTAX.jpegLosslessFirstOrder },
  { label: 'RLE lossless', transferSyntax: TRANSFER_SYNTAX.rle },
];

/** The same CT as 500 DICOM slices in one coding, against dcm2niix where installed. */
function benchDicom(dir: string, voxels: Buffer, variant: (typeof DICOM_VARIANTS)[number]): void {
  const series = path.join(dir, 'dicom');
  fs.mkdirSync(series);
  const perSlice = SIZE[0] * SIZE[1];
  const encodingStarted = performance.now();
  let seriesBytes = 0;
  for (let k = 0; k < SIZE[2]; k++) {
    const pixels = new Int16Array(voxels.buffer, voxels.byteOffset + k * perSlice * 2, perSlice);
    const slice = dicomSlice({
      seriesUid: '1.2.826.0.1.3680043.8.498.99',
      rows: SIZE[1],
      columns: SIZE[0],
      position: [-179.2, -179.2, -300 + 1.25 * k],
      orientation: [1, 0, 0, 0, 1, 0],
      pixelSpacing: [0.7, 0.7],
      pixels,
      instance: k + 1,
      rescaleIntercept: 0,
      transferSyntax: variant.transferSyntax,
    });
    seriesBytes += slice.length;
    fs.writeFileSync(path.join(series, `IM${String(k).padStart(4, '0')}.dcm`), slice);
  }
  const encodingMs = performance.now() - encodingStarted;
  const { wallMs, cpuMs, maxRssKb } = median(RUNS, () => convertOne(series))!;
  const volumeMiB = voxels.length / 1024 ** 2;
  console.log(
    `DICOM x500, ${variant.label} (${(seriesBytes / 1024 ** 2).toFixed(0)} MiB, written in ${(encodingMs / 1000).toFixed(1)} s): ` +
      `${(wallMs / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(1)} s), peak memory ${(maxRssKb / 1024).toFixed(0)} MiB (${(maxRssKb / 1024 / volumeMiB).toFixed(2)} x the volume)`,
  );
  // The like-for-like reference writes its output compressed at the same zlib level (gzip -1, by
  // pigz on every core where installed); uncompressed NIfTI, three times the bytes, is shown beside.
  const pigz = spawnSync('pigz', ['--version']).status === 0;
  for (const [label, args, target] of [
    [
      `gzipped at level 1 like the converter (${pigz ? 'pigz' : 'miniz, one core'})`,
      ['-z', 'y', '-1'],
      'target at most 1',
    ],
    ['uncompressed, 3 x the bytes written', ['-z', 'n'], 'for reference'],
  ]) {
    const reference = median(RUNS, () => {
      fs.rmSync(path.join(dir, 'reference.nii'), { force: true });
      fs.rmSync(path.join(dir, 'reference.nii.gz'), { force: true });
      const started = performance.now();
      const run = spawnSync('dcm2niix', [...args, '-o', dir, '-f', 'reference', series], {
        encoding: 'utf8',
      });
      if (run.error) return undefined;
      if (run.status !== 0) throw new Error(`dcm2niix failed on the ${variant.label} series: ${run.stderr}`);
      return { wallMs: performance.now() - started };
    });
    if (!reference) {
      console.log('dcm2niix is not installed here: no reference figure (Debian: apt-get install dcm2niix)');
      break;
    }
    console.log(
      `  dcm2niix, ${label}: ${(reference.wallMs / 1000).toFixed(2)} s; converter / dcm2niix = ${(wallMs / reference.wallMs).toFixed(2)} (${target})`,
    );
  }
  if (variant === DICOM_VARIANTS[0]) benchCommandLine(dir, series);
  fs.rmSync(series, { recursive: true, force: true });
}

/** Wall time of one command, process start included; undefined when the tool is missing. */
function timed(command: string, args: string[]): { wallMs: number } | undefined {
  const started = performance.now();
  const run = spawnSync(command, args, { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
  if (run.error) return undefined;
  // The converter exits 1 only for a rejected file, which these series have none of.
  if (run.status !== 0) throw new Error(`${command} failed: ${run.stderr}`);
  return { wallMs: performance.now() - started };
}

/**
 * `npm run convert` as a researcher runs it, end to end with the process's start, on one slice
 * (start-up) and on the whole series, beside dcm2niix with gzip level 1 on the same files.
 */
function benchCommandLine(dir: string, series: string): void {
  const oneSlice = path.join(dir, 'one-slice');
  fs.mkdirSync(oneSlice);
  fs.copyFileSync(path.join(series, 'IM0000.dcm'), path.join(oneSlice, 'IM0000.dcm'));
  const out = path.join(dir, 'command-out');
  const launcher = path.join(__dirname, '..', 'bin', 'run-bundled.cjs');
  // A first run builds the bundle if the sources changed since the last one.
  timed(process.execPath, [launcher, 'bin/images/convert.ts', oneSlice, '--out', out]);
  console.log('\n## The command line, end to end (process start included)');
  for (const [label, target] of [
    ['one slice', oneSlice],
    [`${SIZE[2]} slices`, series],
  ]) {
    const node = median(RUNS, () =>
      timed(process.execPath, [launcher, 'bin/images/convert.ts', target, '--out', out]),
    )!;
    const npm = median(RUNS, () => timed('npm', ['run', '-s', 'convert', '--', target, '--out', out]))!;
    const reference = median(RUNS, () => {
      fs.rmSync(path.join(dir, 'reference.nii.gz'), { force: true });
      return timed('dcm2niix', ['-z', 'y', '-1', '-o', dir, '-f', 'reference', target]);
    });
    const beside = reference
      ? `; dcm2niix -z y -1 ${(reference.wallMs / 1000).toFixed(2)} s`
      : '; dcm2niix is not installed here: no reference figure (Debian: apt-get install dcm2niix)';
    console.log(
      `${label}: npm run convert ${(npm.wallMs / 1000).toFixed(2)} s, node bin/run-bundled.cjs ${(node.wallMs / 1000).toFixed(2)} s (npm's own start is the difference)${beside}`,
    );
  }
  fs.rmSync(oneSlice, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
}

/** The same CT as one enhanced multi-frame file: read frame by frame, never held whole. */
function benchMultiFrame(dir: string, voxels: Buffer): void {
  const perSlice = SIZE[0] * SIZE[1];
  const file = path.join(dir, 'enhanced.dcm');
  const frames = Array.from({ length: SIZE[2] }, (_, k) => ({
    position: [-179.2, -179.2, -300 + 1.25 * k],
    pixels: new Int16Array(voxels.buffer, voxels.byteOffset + k * perSlice * 2, perSlice),
  }));
  fs.writeFileSync(
    file,
    multiFrameFile({
      seriesUid: '1.2.826.0.1.3680043.8.498.98',
      rows: SIZE[1],
      columns: SIZE[0],
      pixelSpacing: [0.7, 0.7],
      orientation: [1, 0, 0, 0, 1, 0],
      frames,
      enhanced: true,
    }),
  );
  const { wallMs, cpuMs, maxRssKb } = median(RUNS, () => convertOne(file))!;
  const volumeMiB = voxels.length / 1024 ** 2;
  console.log(
    `DICOM enhanced multi-frame, one file of ${(fs.statSync(file).size / 1024 ** 2).toFixed(0)} MiB: ${(wallMs / 1000).toFixed(2)} s (CPU ${(cpuMs / 1000).toFixed(1)} s), ` +
      `peak memory ${(maxRssKb / 1024).toFixed(0)} MiB (${(maxRssKb / 1024 / volumeMiB).toFixed(2)} x the volume)`,
  );
  fs.rmSync(file);
}

const SLIDE = 20_000;

/** A 20,000 x 20,000 RGB slide (1.1 GiB of pixels, 0.25 um each), tiled JPEG as scanners write it. */
function benchSlide(dir: string): void {
  const input = path.join(dir, 'slide.tif');
  const make = spawnSync(
    process.execPath,
    [
      '-e',
      `require('sharp')({ create: { width: ${SLIDE}, height: ${SLIDE}, channels: 3, noise: { type: 'gaussian', mean: 180, sigma: 30 } }, limitInputPixels: false })
        .tiff({ tile: true, tileWidth: 256, tileHeight: 256, compression: 'jpeg', quality: 85, bigtiff: true, xres: 4000, yres: 4000, resolutionUnit: 'cm' })
        .toFile(${JSON.stringify(input)}).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`,
    ],
    { cwd: path.join(__dirname, '..'), encoding: 'utf8' },
  );
  if (make.status !== 0) throw new Error(`making the slide failed: ${make.stderr}`);
  const pixelsMiB = (SLIDE * SLIDE * 3) / 1024 ** 2;
  const { wallMs, maxRssKb, outputBytes } = convertOne(input);
  console.log(
    `\n## Conversion of a ${SLIDE} x ${SLIDE} RGB slide (${pixelsMiB.toFixed(0)} MiB of pixels, ${(fs.statSync(input).size / 1024 ** 2).toFixed(0)} MiB tiled JPEG) to pyramidal BigTIFF`,
  );
  console.log(
    `converter  ${(wallMs / 1000).toFixed(1)} s, peak memory ${(maxRssKb / 1024).toFixed(0)} MiB, output ${(outputBytes / 1024 ** 2).toFixed(0)} MiB`,
  );
  const vips = spawnSync('vips', ['--version'], { encoding: 'utf8' });
  if (vips.status !== 0) {
    console.log('vips is not installed here: no reference figure (Debian: apt-get install libvips-tools)');
    return;
  }
  const started = performance.now();
  const reference = spawnSync(
    'vips',
    [
      'tiffsave',
      input,
      path.join(dir, 'reference.tif'),
      '--tile',
      '--tile-width=256',
      '--tile-height=256',
      '--pyramid',
      '--compression=jpeg',
      '--Q=90',
      '--bigtiff',
    ],
    { encoding: 'utf8' },
  );
  if (reference.status !== 0) throw new Error(`vips tiffsave failed: ${reference.stderr}`);
  const vipsMs = performance.now() - started;
  const ratio = wallMs / vipsMs;
  console.log(
    `vips tiffsave ${(vipsMs / 1000).toFixed(1)} s; converter / vips = ${ratio.toFixed(2)} (target at most 1.2)`,
  );
}

/** A 20,000 x 20,000 uint8 label mask (values 0 to 4, 381 MiB of pixels), tiled LZW as tools write masks. */
function benchLabelMask(dir: string): void {
  const input = path.join(dir, 'mask.tif');
  const make = spawnSync(
    process.execPath,
    [
      '-e',
      `const S = ${SLIDE}; const raw = Buffer.alloc(S * S);
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) raw[y * S + x] = (Math.floor(y / 1500) + Math.floor(x / 2100)) % 5;
        require('sharp')(raw, { raw: { width: S, height: S, channels: 1 }, limitInputPixels: false }).toColourspace('b-w')
        .tiff({ tile: true, tileWidth: 512, tileHeight: 512, compression: 'lzw', bigtiff: true, xres: 4000, yres: 4000, resolutionUnit: 'cm' })
        .toFile(${JSON.stringify(input)}).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })`,
    ],
    { cwd: path.join(__dirname, '..'), encoding: 'utf8' },
  );
  if (make.status !== 0) throw new Error(`making the mask failed: ${make.stderr}`);
  const { wallMs, maxRssKb, outputBytes } = convertOne(input);
  console.log(
    `\n## Conversion of a ${SLIDE} x ${SLIDE} uint8 label mask (${((SLIDE * SLIDE) / 1024 ** 2).toFixed(0)} MiB of pixels) to lossless pyramidal BigTIFF`,
  );
  console.log(
    `converter  ${(wallMs / 1000).toFixed(1)} s, peak memory ${(maxRssKb / 1024).toFixed(0)} MiB, output ${(outputBytes / 1024 ** 2).toFixed(1)} MiB`,
  );
  const started = performance.now();
  const reference = spawnSync(
    'vips',
    [
      'tiffsave',
      input,
      path.join(dir, 'reference-mask.tif'),
      '--tile',
      '--tile-width=256',
      '--tile-height=256',
      '--pyramid',
      '--compression=deflate',
      '--region-shrink=nearest',
      '--bigtiff',
    ],
    { encoding: 'utf8' },
  );
  if (reference.error) {
    console.log('vips is not installed here: no reference figure (Debian: apt-get install libvips-tools)');
    return;
  }
  if (reference.status !== 0) throw new Error(`vips tiffsave failed: ${reference.stderr}`);
  const vipsMs = performance.now() - started;
  console.log(
    `vips tiffsave (deflate, nearest-pixel levels) ${(vipsMs / 1000).toFixed(1)} s; converter / vips = ${(wallMs / vipsMs).toFixed(2)}`,
  );
}

export function benchConversion(): void {
  console.log(
    `\n## Conversion of a ${SIZE.join(' x ')} int16 CT (${(SIZE[0] * SIZE[1] * SIZE[2] * 2) / 1024 ** 2} MiB of voxels), fresh process each`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-conversion-'));
  try {
    const voxels = ctVoxels();
    const volumeMiB = voxels.length / 1024 ** 2;
    const nifti = Buffer.concat([niftiHeader(), voxels]);
    const inputs: [string, Buffer][] = [
      ['ct.nii', nifti],
      ['ct.nii.gz', zlib.gzipSync(nifti, { level: 1 })],
      [
        'ct.mha',
        Buffer.concat([
          Buffer.from(
            `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE.join(' ')}\nElementSpacing = 0.7 0.7 1.25\nElementType = MET_SHORT\nElementDataFile = LOCAL\n`,
          ),
          voxels,
        ]),
      ],
    ];
    for (const [name, content] of inputs) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      const { wallMs, maxRssKb, outputBytes } = median(RUNS, () => convertOne(file))!;
      const peakMiB = maxRssKb / 1024;
      console.log(
        `${name.padEnd(10)} ${(wallMs / 1000).toFixed(2)} s, peak memory ${peakMiB.toFixed(0)} MiB ` +
          `(${(peakMiB / volumeMiB).toFixed(2)} x the volume; target under 2 x), output ${(outputBytes / 1024 ** 2).toFixed(0)} MiB`,
      );
      fs.rmSync(file);
    }
    for (const variant of DICOM_VARIANTS) benchDicom(dir, voxels, variant);
    benchMultiFrame(dir, voxels);
    benchSlide(dir);
    benchLabelMask(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
