import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertCommand } from '../../bin/images/convert-command';
import { stripedTiff } from '../../packages/image-io/test/helpers/tiff-files';

/** An upload set as a researcher has it: a slide, a volume, a file that is no image, a slide of no size. */
function writeSet(dir: string): void {
  fs.writeFileSync(
    path.join(dir, 'biopsy.tif'),
    stripedTiff({
      width: 300,
      height: 200,
      pixels: Buffer.alloc(300 * 200 * 3, 170),
      samplesPerPixel: 3,
      photometric: 2,
      resolution: { perUnit: 40_000, unit: 3 },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'scan.mha'),
    Buffer.concat([
      Buffer.from(
        'ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementSpacing = 0.5 0.5 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n',
      ),
      Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]),
    ]),
  );
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  fs.writeFileSync(
    path.join(dir, 'unscaled.tif'),
    stripedTiff({ width: 8, height: 8, pixels: Buffer.alloc(8 * 8), samplesPerPixel: 1, photometric: 1 }),
  );
}

describe('npm run convert', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convert-command-'));
  const input = path.join(dir, 'in');
  const out = path.join(dir, 'out');
  fs.mkdirSync(input);
  writeSet(input);
  // The bundles' own cache, inside node_modules as their packages resolve from there.
  const caches = path.join(__dirname, '../../node_modules/.cache');
  fs.mkdirSync(caches, { recursive: true });
  const cache = fs.mkdtempSync(path.join(caches, 'convert-command-test-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  });

  test('prints one line per output and per rejected file, and exits 1 when any is rejected', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await convertCommand([input, '--out', out], {
      line: (text) => lines.push(text),
      error: (text) => errors.push(text),
    });
    expect(errors).toEqual([]);
    expect(lines.sort()).toEqual([
      `converted biopsy.tif -> ${path.join(out, 'biopsy.tif')} (300 x 200 pixels, 3 x uint8, 0.25 um per pixel, 2 levels, jpeg quality 90, lossy)`,
      `converted scan.mha -> ${path.join(out, 'scan.mha')} (2 x 2 x 2 voxels, spacing 0.5 x 0.5 x 2)`,
      'rejected notes.txt: not an image format the converter reads (DICOM, MetaImage .mha/.mhd, NIfTI .nii/.nii.gz, NRRD .nrrd, PNG, JPEG, TIFF, Aperio SVS)',
      'rejected unscaled.tif: the TIFF states no physical pixel size: it has no XResolution and YResolution (nor an Aperio MPP in its description)',
    ]);
    expect(code).toBe(1);
    expect(fs.readdirSync(out).sort()).toEqual(['biopsy.tif', 'scan.mha']);
    // The slide is a BigTIFF, the volume a MetaImage.
    expect(fs.readFileSync(path.join(out, 'biopsy.tif')).readUInt16LE(2)).toBe(43);
    expect(fs.readFileSync(path.join(out, 'scan.mha'), 'latin1')).toMatch(/^ObjectType = Image\n/);
  });

  test('runs as a command from a bundle built on first use and rebuilt when the sources differ', () => {
    const run = () =>
      spawnSync(
        process.execPath,
        [
          path.join(__dirname, '../../bin/run-bundled.cjs'),
          'bin/images/convert.ts',
          input,
          '--out',
          path.join(dir, 'cli'),
        ],
        {
          cwd: path.join(__dirname, '../..'),
          encoding: 'utf8',
          env: { ...process.env, IMAGING_PLATFORM_BUNDLE_CACHE: cache },
        },
      );
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(1);
    expect(
      first.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ').slice(0, 2).join(' '))
        .sort(),
    ).toEqual([
      'converted biopsy.tif',
      'converted scan.mha',
      'rejected notes.txt:',
      'rejected unscaled.tif:',
    ]);
    const manifestFile = path.join(cache, 'bin+images+convert.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    expect(manifest.inputs).toEqual(
      expect.arrayContaining([
        'bin/images/convert-command.ts',
        'packages/image-io/src/slide-converter.ts',
        'package-lock.json',
      ]),
    );
    const bundle = path.join(cache, manifest.bundle);
    const built = fs.statSync(bundle).mtimeMs;

    // Unchanged sources: the same bundle runs, not rebuilt.
    expect(run().stdout).toBe(first.stdout);
    expect(fs.statSync(bundle).mtimeMs).toBe(built);

    // Sources that differ from those the bundle was built from (here, a hash that no longer matches): rebuilt.
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, hash: 'stale' }));
    expect(run().stdout).toBe(first.stdout);
    expect(JSON.parse(fs.readFileSync(manifestFile, 'utf8')).hash).toBe(manifest.hash);
    expect(fs.statSync(bundle).mtimeMs).toBeGreaterThan(built);
  });

  test('exits 0 when every file converts, and 2 naming a usage error', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const output = { line: (t: string) => lines.push(t), error: (t: string) => errors.push(t) };
    expect(await convertCommand([path.join(input, 'scan.mha'), '--out', out], output)).toBe(0);
    expect(lines).toHaveLength(1);
    expect(await convertCommand([path.join(input, 'scan.mha')], output)).toBe(2);
    expect(await convertCommand([path.join(dir, 'missing'), '--out', out], output)).toBe(2);
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      '--out <dir> is required',
      `${path.join(dir, 'missing')} does not exist`,
    ]);
  });
});
