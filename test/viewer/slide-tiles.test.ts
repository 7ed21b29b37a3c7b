import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  openSlide,
  SessionSlides,
  Slide,
  SlideError,
  slideTileResponse,
} from '../../containers/viewer/server/slides';
import { browserJpeg } from '../../containers/viewer/server/slides/jpeg-tile';
import {
  blockColour,
  greySlide,
  grey8Value,
  MICRONS_PER_PIXEL,
  photographicSlide,
  rgb16Slide,
  tiffcp,
  tiffDump,
} from './slide-fixtures';
import { RangeServer, startRangeServer } from './slide-range-server';

const TILE_OFFSETS = 324;
const TILE_BYTE_COUNTS = 325;
const JPEG_TABLES = 347;

let dir: string;
let server: RangeServer;
const files = new Map<string, Buffer>();
const paths = new Map<string, string>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slide-tiles-'));
  const photo = await photographicSlide();
  const grey16 = await greySlide(16);
  const add = (name: string, content: Buffer) => {
    files.set(name, content);
    paths.set(name, path.join(dir, `${name}.tif`));
    fs.writeFileSync(paths.get(name)!, content);
  };
  add('photo', photo);
  add('large-photo', await photographicSlide(3000, 3000));
  add('grey8', await greySlide(8));
  add('grey16', grey16);
  add('rgb16', await rgb16Slide());
  // The same slides in the other layouts TIFF allows, rewritten by libtiff.
  add('ycbcr-classic', tiffcp(dir, photo, 'ycbcr', ['-c', 'jpeg']));
  add('rgb-bigtiff-big-endian', tiffcp(dir, photo, 'rgb-be', ['-B', '-8', '-c', 'jpeg:r']));
  add('grey16-classic-big-endian', tiffcp(dir, grey16, 'grey16-be', ['-B', '-c', 'zip']));
  add('lzw', tiffcp(dir, grey16, 'lzw', ['-c', 'lzw']));
  server = await startRangeServer(files);
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const urlOf = (name: string) => `${server.baseUrl}/files/${name}`;

/** Each level's size as libtiff reads the file. */
function dumpedLevels(name: string) {
  return tiffDump(paths.get(name)!).map((d) => ({ width: d.get(256)![0], height: d.get(257)![0] }));
}

/** Pixels of a region of a level as libvips decodes it (the page of the pyramid), 8-bit RGB. */
async function libvipsRegion(
  name: string,
  page: number,
  left: number,
  top: number,
  width: number,
  height: number,
) {
  return sharp(paths.get(name)!, { page })
    .extract({ left, top, width, height })
    .toColourspace('srgb')
    .raw()
    .toBuffer();
}

/** A region of a decoded level, `width` pixels wide. */
function regionOf(
  level: Buffer,
  width: number,
  left: number,
  top: number,
  w: number,
  h: number,
  channels: number,
): Buffer {
  const out = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++)
    level.copy(
      out,
      y * w * channels,
      ((top + y) * width + left) * channels,
      ((top + y) * width + left + w) * channels,
    );
  return out;
}

/** A grey PNG's pixels, one byte each (sharp's raw output is RGB unless told otherwise). */
async function greyPixels(png: Buffer): Promise<Buffer> {
  return sharp(png).toColourspace('b-w').raw().toBuffer();
}

/** The largest difference between a decoded 256 px tile and a region of `width` x `height`. */
function largestDifference(
  tile: Buffer,
  region: Buffer,
  width: number,
  height: number,
  channels: number,
): number {
  let largest = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width * channels; x++)
      largest = Math.max(largest, Math.abs(tile[y * 256 * channels + x] - region[y * width * channels + x]));
  return largest;
}

describe('a photographic slide: JPEG tiles as stored', () => {
  let slide: Slide;
  beforeAll(async () => {
    slide = await openSlide(urlOf('photo'));
  });

  test('its levels, tile size and microns per pixel are those libtiff reads in the file', () => {
    const dumped = tiffDump(paths.get('photo')!);
    expect(slide.levels).toEqual(
      dumpedLevels('photo').map(({ width, height }) => ({
        width,
        height,
        tilesAcross: Math.ceil(width / 256),
        tilesDown: Math.ceil(height / 256),
      })),
    );
    expect(slide.levels.map((l) => [l.width, l.height])).toEqual([
      [1500, 1000],
      [750, 500],
      [375, 250],
      [187, 125],
    ]);
    expect([slide.width, slide.height, slide.tileSize]).toEqual([1500, 1000, dumped[0].get(322)![0]]);
    // 20,000 pixels per centimetre.
    expect(dumped[0].get(296)).toEqual([3]);
    expect(slide.micronsPerPixel).toBeCloseTo(10_000 / dumped[0].get(282)![0], 9);
    expect(slide.micronsPerPixel).toBeCloseTo(MICRONS_PER_PIXEL, 9);
    expect(JSON.parse(JSON.stringify(slide.tileSource()))).toEqual({
      width: 1500,
      height: 1000,
      tileSize: 256,
      levels: slide.levels,
      micronsPerPixel: slide.micronsPerPixel,
    });
  });

  test("a JPEG tile is the stored tile behind its level's tables, byte for byte", async () => {
    const dumped = tiffDump(paths.get('photo')!);
    const file = files.get('photo')!;
    for (const [level, column, row] of [
      [0, 0, 0],
      [0, 5, 3],
      [1, 2, 1],
      [3, 0, 0],
    ]) {
      const index = row * slide.levels[level].tilesAcross + column;
      const offset = dumped[level].get(TILE_OFFSETS)![index];
      const stored = file.subarray(offset, offset + dumped[level].get(TILE_BYTE_COUNTS)![index]);
      const tables = Buffer.from(dumped[level].get(JPEG_TABLES)!);
      const tile = await slide.tile(level, column, row);
      expect(tile.contentType).toBe('image/jpeg');
      // Tables without their end marker, then the tile without its start marker.
      expect(tile.body.equals(Buffer.concat([tables.subarray(0, -2), stored.subarray(2)]))).toBe(true);
    }
  });

  test('every JPEG tile decodes to the pixels libvips reads for its region, in the colours of the slide', async () => {
    for (let level = 0; level < slide.levels.length; level++) {
      const { width, height, tilesAcross, tilesDown } = slide.levels[level];
      const page = await sharp(paths.get('photo')!, { page: level }).raw().toBuffer();
      for (let row = 0; row < tilesDown; row++)
        for (let column = 0; column < tilesAcross; column++) {
          const decoded = await sharp((await slide.tile(level, column, row)).body)
            .raw()
            .toBuffer();
          expect(decoded.length).toBe(256 * 256 * 3);
          const w = Math.min(256, width - column * 256);
          const h = Math.min(256, height - row * 256);
          const region = regionOf(page, width, column * 256, row * 256, w, h, 3);
          // The same JPEG stream decoded by the same library: the same pixels.
          expect(largestDifference(decoded, region, w, h, 3)).toBe(0);
        }
    }
    // Colours, not only the same decoding: the middle of block (13, 8) of the full resolution.
    const tile = await sharp((await slide.tile(0, 5, 3)).body)
      .raw()
      .toBuffer();
    const [x, y] = [1350, 850];
    const at = ((y - 768) * 256 + (x - 1280)) * 3;
    const expected = blockColour(x, y);
    for (let c = 0; c < 3; c++) expect(Math.abs(tile[at + c] - expected[c])).toBeLessThanOrEqual(3);
  });

  test('an RGB tile whose stream does not say RGB is marked so, and decodes as stored', async () => {
    const dumped = tiffDump(paths.get('photo')!);
    const file = files.get('photo')!;
    const tables = Buffer.from(dumped[0].get(JPEG_TABLES)!);
    const offset = dumped[0].get(TILE_OFFSETS)![0];
    const stored = Buffer.from(file.subarray(offset, offset + dumped[0].get(TILE_BYTE_COUNTS)![0]));
    const unmarked = withoutColourStatement(stored);
    const reference = await sharp(browserJpeg(stored, tables, true))
      .raw()
      .toBuffer();
    expect(
      await sharp(browserJpeg(unmarked, tables, true))
        .raw()
        .toBuffer(),
    ).toEqual(reference);
    // Without the marker a decoder takes the samples for YCbCr: other colours.
    const misread = await sharp(browserJpeg(unmarked, tables, false))
      .raw()
      .toBuffer();
    expect(largestDifference(misread, reference, 256, 256, 3)).toBeGreaterThan(50);
  });

  test('only range requests read the slide, far less of it than its size', async () => {
    const before = server.log.requests.length;
    const sentBefore = server.log.bytesSent;
    const large = await openSlide(urlOf('large-photo'));
    const opening = server.log.requests.slice(before);
    expect(large.levels.length).toBe(5);
    // The header, then a directory per level, each with the values it points to.
    expect(opening.length).toBeLessThanOrEqual(large.levels.length + 1);
    for (const [level, column, row] of [
      [0, 5, 5],
      [0, 11, 11],
      [4, 0, 0],
    ])
      await large.tile(level, column, row);
    const requests = server.log.requests.slice(before);
    expect(requests.length).toBe(opening.length + 3);
    for (const request of requests) expect(request.range).toMatch(/^bytes=\d+-\d+$/);
    const read = server.log.bytesSent - sentBefore;
    expect(read).toBeLessThan(files.get('large-photo')!.length / 8);
  });
});

describe('the layouts TIFF allows', () => {
  test.each([
    ['ycbcr-classic', 'classic, little-endian, YCbCr JPEG (libtiff)'],
    ['rgb-bigtiff-big-endian', 'BigTIFF, big-endian, RGB JPEG (libtiff)'],
  ])('%s: %s, read as libtiff and libvips read it', async (name) => {
    const slide = await openSlide(urlOf(name));
    expect(slide.levels.map(({ width, height }) => ({ width, height }))).toEqual(dumpedLevels(name));
    expect(slide.micronsPerPixel).toBeCloseTo(MICRONS_PER_PIXEL, 9);
    for (let level = 0; level < slide.levels.length; level++) {
      const { width, height, tilesAcross, tilesDown } = slide.levels[level];
      for (const [column, row] of [
        [0, 0],
        [tilesAcross - 1, tilesDown - 1],
      ]) {
        const decoded = await sharp((await slide.tile(level, column, row)).body)
          .raw()
          .toBuffer();
        const w = Math.min(256, width - column * 256);
        const h = Math.min(256, height - row * 256);
        const region = await libvipsRegion(name, level, column * 256, row * 256, w, h);
        expect(largestDifference(decoded, region, w, h, 3)).toBe(0);
      }
    }
  });
});

describe('lossless slides: deflate tiles as PNG', () => {
  test('an 8-bit grey tile is the stored pixels, exactly, padding included', async () => {
    const slide = await openSlide(urlOf('grey8'));
    expect(slide.levels.map((l) => [l.width, l.height])).toEqual([
      [700, 530],
      [350, 265],
      [175, 132],
    ]);
    expect(slide.micronsPerPixel).toBeCloseTo(MICRONS_PER_PIXEL, 9);
    for (const [level, column, row] of [
      [0, 0, 0],
      [0, 2, 2],
      [1, 1, 1],
      [2, 0, 0],
    ]) {
      const tile = await slide.tile(level, column, row);
      expect(tile.contentType).toBe('image/png');
      const png = await sharp(tile.body).metadata();
      expect([png.format, png.width, png.height, png.channels, png.depth]).toEqual([
        'png',
        256,
        256,
        1,
        'uchar',
      ]);
      const decoded = await greyPixels(tile.body);
      // The level as the writer made it: every 2^level-th pixel of the input, zero past the edge.
      const { width, height } = slide.levels[level];
      const expected = Buffer.alloc(256 * 256);
      for (let y = 0; y < 256; y++)
        for (let x = 0; x < 256; x++) {
          const [lx, ly] = [column * 256 + x, row * 256 + y];
          if (lx < width && ly < height) expected[y * 256 + x] = grey8Value(lx << level, ly << level);
        }
      expect(decoded.equals(expected)).toBe(true);
      // And as libvips decodes the level.
      const w = Math.min(256, width - column * 256);
      const h = Math.min(256, height - row * 256);
      const region = await sharp(paths.get('grey8')!, { page: level })
        .extract({ left: column * 256, top: row * 256, width: w, height: h })
        .toColourspace('b-w')
        .raw()
        .toBuffer();
      expect(largestDifference(decoded, region, w, h, 1)).toBe(0);
    }
  });

  test.each([
    ['grey16', 1],
    ['grey16-classic-big-endian', 1],
    ['rgb16', 3],
  ])(
    '%s: 16-bit tiles are scaled into 8 bits from the lowest to the highest value of the smallest level',
    async (name, channels) => {
      const slide = await openSlide(urlOf(name));
      const last = slide.levels.length - 1;
      const space = channels === 1 ? 'grey16' : 'rgb16';
      const samples = async (page: number, region?: sharp.Region) => {
        let pipeline = sharp(paths.get(name)!, { page });
        if (region) pipeline = pipeline.extract(region);
        const raw = await pipeline.toColourspace(space).raw({ depth: 'ushort' }).toBuffer();
        return new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
      };
      // One range for every channel, so that colours keep their balance.
      const smallest = await samples(last);
      const min = smallest.reduce((a, b) => Math.min(a, b));
      const max = smallest.reduce((a, b) => Math.max(a, b));
      expect(max).toBeGreaterThan(min);
      for (const [level, column, row] of [
        [0, 1, 1],
        [0, 2, 1],
        [last, 0, 0],
      ]) {
        const tile = (await slide.tile(level, column, row)).body;
        const png = await sharp(tile).metadata();
        expect([png.format, png.channels, png.depth]).toEqual(['png', channels, 'uchar']);
        const decoded =
          channels === 1 ? await greyPixels(tile) : await sharp(tile).removeAlpha().raw().toBuffer();
        const { width, height } = slide.levels[level];
        const w = Math.min(256, width - column * 256);
        const h = Math.min(256, height - row * 256);
        const stored = await samples(level, { left: column * 256, top: row * 256, width: w, height: h });
        const expected = Buffer.alloc(w * h * channels);
        stored.forEach((v, i) => {
          expected[i] = Math.min(255, Math.max(0, Math.round(((v - min) * 255) / (max - min))));
        });
        expect(largestDifference(decoded, expected, w, h, channels)).toBe(0);
      }
    },
  );
});

describe("a session's slides", () => {
  const session = new SessionSlides((imageId) =>
    ['photo', 'flaky'].includes(imageId) ? urlOf(imageId) : undefined,
  );

  test('are opened once, on their first request, and answer with their tile source and tiles', async () => {
    const before = server.log.requests.length;
    const [source, tile, again] = await Promise.all([
      session.tileSource('photo'),
      session.tile('photo', '0', '5_3'),
      session.tile('photo', '3', '0_0'),
    ]);
    expect(source).toMatchObject({ status: 200, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(source.body.toString())).toEqual((await openSlide(urlOf('photo'))).tileSource());
    expect([tile.status, tile.headers['content-type'], again.status]).toEqual([200, 'image/jpeg', 200]);
    // One header read for the session, one for the slide opened here to compare with.
    const headerReads = server.log.requests.slice(before).filter((r) => r.range === 'bytes=0-16383');
    expect(headerReads).toHaveLength(2);
  });

  test('an image that is not a slide of the session is not found, and nothing is read', async () => {
    const before = server.log.requests.length;
    for (const answer of [await session.tileSource('grey8'), await session.tile('other', '0', '0_0')]) {
      expect(answer.status).toBe(404);
      expect(answer.body.toString()).toBe('there is no such slide in this session');
    }
    expect(server.log.requests.length).toBe(before);
  });

  test('a slide that could not be opened is tried again', async () => {
    files.delete('flaky');
    expect(await session.tileSource('flaky')).toMatchObject({ status: 502 });
    files.set('flaky', files.get('photo')!);
    expect(await session.tile('flaky', '0', '0_0')).toMatchObject({ status: 200 });
  });
});

describe('what cannot be served is refused with the reason', () => {
  test('a truncated slide, and a tile whose bytes are damaged', async () => {
    const photo = files.get('photo')!;
    // Cut 100 bytes into the first directory, which BigTIFF's header locates at byte 8.
    files.set('truncated', photo.subarray(0, Number(photo.readBigUInt64LE(8)) + 100));
    await expect(openSlide(urlOf('truncated'))).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/^the slide ends (at|before) byte \d+/),
    });

    const grey = Buffer.from(files.get('grey8')!);
    const dumped = tiffDump(paths.get('grey8')!);
    const [offset] = dumped[0].get(TILE_OFFSETS)!;
    const [count] = dumped[0].get(TILE_BYTE_COUNTS)!;
    grey.fill(0x55, offset, offset + count);
    files.set('damaged', grey);
    const slide = await openSlide(urlOf('damaged'));
    await expect(slide.tile(0, 0, 0)).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/^tile 0_0 of level 0 is damaged: /),
    });
    expect((await slide.tile(0, 1, 0)).contentType).toBe('image/png');
  });

  test('a tile or level outside the pyramid', async () => {
    const slide = await openSlide(urlOf('photo'));
    await expect(slide.tile(0, 6, 0)).rejects.toThrow(
      new SlideError('tile 6_0 is not in level 0 of the slide: its columns are 0 to 5, its rows 0 to 3', 404),
    );
    await expect(slide.tile(4, 0, 0)).rejects.toThrow(
      /^level 4 is not in the slide: its levels are 0 .* to 3$/,
    );
    await expect(slide.tile(0, -1, 0)).rejects.toMatchObject({ status: 404 });
    expect(await slideTileResponse(slide, '0', '1_9')).toMatchObject({ status: 404 });
    const bad = await slideTileResponse(slide, '0', '..%2F1_2');
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toMatch(/^a tile is named by its level and its column_row, as 2\/10_4/);
    const ok = await slideTileResponse(slide, '1', '2_1');
    expect(ok).toMatchObject({ status: 200, headers: { 'content-type': 'image/jpeg' } });
  });

  test('tiles of a compression the viewer does not show', async () => {
    await expect(openSlide(urlOf('lzw'))).rejects.toThrow(
      new SlideError(
        "the slide's tiles are compressed with LZW (5); the viewer shows JPEG, deflate and uncompressed tiles",
        415,
      ),
    );
  });

  test('a file that is no TIFF, one that is not there, and a server that ignores ranges', async () => {
    files.set('text', Buffer.from('not a slide at all, only text'));
    await expect(openSlide(urlOf('text'))).rejects.toThrow('the slide is not a TIFF: it has no TIFF header');
    await expect(openSlide(`${urlOf('missing')}?Signature=secret`)).rejects.toThrow(
      "the slide's server refused the read (HTTP 403)",
    );
    const wholeFile: typeof fetch = (url, init) => fetch(url, { ...init, headers: {} });
    const refusal = openSlide(urlOf('photo'), { fetch: wholeFile });
    await expect(refusal).rejects.toThrow(
      "the slide's server answered 200 to a range request, not 206: it would send the whole file",
    );
  });
});

/**
 * A JPEG that does not state RGB: its Adobe marker removed and its components renamed 1, 2, 3
 * (in the frame and the scan), as an encoder that leaves colours to the TIFF writes it.
 */
function withoutColourStatement(jpeg: Buffer): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  for (let at = 2; ;) {
    const marker = jpeg[at + 1];
    const length = jpeg.readUInt16BE(at + 2);
    const segment = Buffer.from(jpeg.subarray(at, at + 2 + length));
    if (marker === 0xc0) for (let c = 0; c < 3; c++) segment[10 + c * 3] = c + 1;
    if (marker === 0xda) {
      for (let c = 0; c < segment[4]; c++) segment[5 + c * 2] = c + 1;
      parts.push(segment, jpeg.subarray(at + 2 + length));
      return Buffer.concat(parts);
    }
    if (marker !== 0xee) parts.push(segment);
    at += 2 + length;
  }
}
