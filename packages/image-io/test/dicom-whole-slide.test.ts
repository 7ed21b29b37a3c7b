import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertImageFiles } from '../src/convert-image-files';
import { diskFile } from '../src/disk-file';
import { runItk } from './helpers/itk';
import { bigTiffLevels } from './helpers/tiff-files';
import { WholeSlideSpec, wholeSlideFile } from './helpers/dicom-whole-slide';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-slide-'));

// A level that is no whole number of tiles: 700 x 300 in 256 px tiles, 3 x 2 of them.
const WIDTH = 700;
const HEIGHT = 300;
const pixels = new Uint8Array(WIDTH * HEIGHT * 3);
for (let y = 0; y < HEIGHT; y++) {
  for (let x = 0; x < WIDTH; x++) {
    // Smooth colour fields, as stained tissue is: JPEG keeps them within a few grey levels.
    const at = (y * WIDTH + x) * 3;
    pixels[at] = 128 + Math.round(100 * Math.sin(x / 90));
    pixels[at + 1] = 128 + Math.round(100 * Math.cos(y / 70));
    pixels[at + 2] = 128 + Math.round(60 * Math.sin((x + y) / 120));
  }
}

const level = (spec: Partial<WholeSlideSpec>): WholeSlideSpec => ({
  seriesUid: '1.2.826.0.1.3680043.8.498.700',
  instance: 1,
  pixels,
  width: WIDTH,
  height: HEIGHT,
  tile: 256,
  jpeg: true,
  spacing: 0.00025,
  ...spec,
});

/** Half the level, each pixel the first of its 2 x 2 block: a lower level of the same pyramid. */
function halved(): Uint8Array {
  const [w, h] = [WIDTH / 2, HEIGHT / 2];
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out.set(pixels.subarray((2 * y * WIDTH + 2 * x) * 3, (2 * y * WIDTH + 2 * x) * 3 + 3), (y * w + x) * 3);
  return out;
}

async function write(name: string, spec: WholeSlideSpec): Promise<string> {
  fs.writeFileSync(path.join(dir, name), await wholeSlideFile(spec));
  return name;
}

/** The full-resolution level of a converted slide as ITK (libtiff) reads it, RGB. */
async function levelZero(
  content: Buffer,
): Promise<{ size: number[]; rgb: (p: number, c: number) => number }> {
  const file = path.join(dir, `out-${Math.random()}.tif`);
  fs.writeFileSync(file, content);
  const read = await runItk('itk-image.mjs', { read: file });
  const decoded = Buffer.from(read.data!, 'base64');
  const stride = read.components!;
  return { size: read.size, rgb: (p, c) => decoded[p * stride + c] };
}

describe('DICOM whole-slide images to tiled pyramidal BigTIFF', () => {
  test('two levels and the label of one slide become one pyramid made from the full level, every file its source', async () => {
    const names = [
      await write('level-0.dcm', level({ instance: 1 })),
      await write(
        'level-1.dcm',
        level({ instance: 2, pixels: halved(), width: WIDTH / 2, height: HEIGHT / 2, spacing: 0.0005 }),
      ),
      await write(
        'label.dcm',
        level({
          instance: 3,
          flavor: 'LABEL',
          width: 100,
          height: 60,
          tile: 100,
          pixels: new Uint8Array(100 * 60 * 3),
        }),
      ),
    ];
    const result = await convertImageFiles(names.map((n) => diskFile(n, path.join(dir, n))));
    expect(result.rejected).toEqual([]);
    expect(result.images).toHaveLength(1);
    const [slide] = result.images;
    expect(slide.name).toBe('slide.tif');
    expect(slide.sources).toEqual(names);
    expect(slide.metadata).toMatchObject({
      width: WIDTH,
      height: HEIGHT,
      tileSize: 256,
      compression: 'jpeg',
      levels: 3,
      micronsPerPixel: 0.25,
    });
    const levels = bigTiffLevels(slide.content);
    expect(levels.map((l) => [l.width, l.height, l.tileWidth, l.compression])).toEqual([
      [700, 300, 256, 7],
      [350, 150, 256, 7],
      [175, 75, 256, 7],
    ]);
    // 0.25 um per pixel is 40000 pixels per cm.
    expect(levels[0].resolutionUnit).toBe(3);
    expect(levels[0].xResolution).toBeCloseTo(40_000, 0);
    const { size, rgb } = await levelZero(slide.content);
    expect(size).toEqual([WIDTH, HEIGHT]);
    let error = 0;
    for (let p = 0; p < WIDTH * HEIGHT; p++)
      for (let c = 0; c < 3; c++) error += Math.abs(rgb(p, c) - pixels[p * 3 + c]);
    // JPEG twice (the tiles as stored, the pyramid written), both at quality 90.
    expect(error / pixels.length).toBeLessThan(3);
  });

  test('a sparse slide of native tiles: each tile where its functional groups place it, the missing one white', async () => {
    // Tiles 0 to 5 in row-major order; tile 4 (second row, second column) is not stored.
    const name = await write(
      'sparse.dcm',
      level({ seriesUid: '1.2.826.0.1.3680043.8.498.701', jpeg: false, sparseWithout: [4] }),
    );
    const result = await convertImageFiles([diskFile(name, path.join(dir, name))]);
    expect(result.rejected).toEqual([]);
    const { rgb } = await levelZero(result.images[0].content);
    const near = (x: number, y: number) =>
      [0, 1, 2].every((c) => Math.abs(rgb(y * WIDTH + x, c) - pixels[(y * WIDTH + x) * 3 + c]) <= 8);
    const white = (x: number, y: number) => [0, 1, 2].every((c) => rgb(y * WIDTH + x, c) >= 247);
    for (const [x, y] of [
      [10, 10],
      [600, 20],
      [20, 280],
      [650, 290],
      [300, 200],
    ]) {
      expect([x, y, near(x, y)]).toEqual([x, y, true]);
    }
    expect(white(256 + 100, 256 + 20)).toBe(true);
    expect(near(256 + 100, 256 + 20)).toBe(false);
  });

  test('a whole-slide file with no total pixel matrix is refused, saying what it needs', async () => {
    const file = await wholeSlideFile(level({ seriesUid: '1.2.826.0.1.3680043.8.498.702' }));
    // TotalPixelMatrixColumns set to 0.
    const at = file.indexOf(Buffer.from([0x48, 0x00, 0x06, 0x00, 0x55, 0x4c]));
    file.writeUInt32LE(0, at + 8);
    const result = await convertImageFiles([{ name: 'broken.dcm', load: () => file }]);
    expect(result.rejected).toEqual([
      {
        filename: 'broken.dcm',
        reason:
          'a DICOM whole-slide file needs TotalPixelMatrixColumns and Rows and a tile size (Columns, Rows)',
      },
    ]);
  });
});
