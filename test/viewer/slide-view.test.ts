import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import sharp from 'sharp';
import { SessionSlides } from '../../containers/viewer/server/slides';
import { blockColour, MICRONS_PER_PIXEL, photographicSlide, tiffcp } from './slide-fixtures';
import { RangeServer, startRangeServer } from './slide-range-server';

/**
 * The slide in real headless Chromium: the page bundles `showSlide` with esbuild, the server mounts
 * the tile route as the viewer server does, and the tiles come from the TIFF by range requests.
 */

const VIEW = { width: 800, height: 600 };

/** The test page's script: the slide shown, and a few handles for the test to drive it by. */
const PAGE_SCRIPT = `
import { sessionTileUrl, showSlide } from './containers/viewer/server/client/slide-view';
const errors = [];
let view;
const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
async function settled() {
  for (let i = 0; i < 3; i++) await frame();
  for (;;) {
    const viewport = view.viewer.viewport;
    const moving = !viewport.getCenter(true).equals(viewport.getCenter(false)) || viewport.getZoom(true) !== viewport.getZoom(false);
    const item = view.viewer.world.getItemAt(0);
    if (item && item.getFullyLoaded() && !moving) break;
    await frame();
  }
  for (let i = 0; i < 3; i++) await frame();
}
window.slideTest = {
  errors,
  async open(imageId) {
    view?.destroy();
    const source = await (await fetch('/sessions/s1/slides/' + imageId)).json();
    view = showSlide(document.getElementById('view'), { ...source, tileUrl: sessionTileUrl('s1', imageId) }, {
      onError: (message) => errors.push(message),
    });
    await settled();
  },
  async setView(imageZoom, x, y) {
    const viewport = view.viewer.viewport;
    viewport.zoomTo(viewport.imageToViewportZoom(imageZoom), null, true);
    viewport.panTo(viewport.imageToViewportCoordinates(x, y), true);
    await settled();
  },
  settled,
  state() {
    const viewport = view.viewer.viewport;
    const centre = viewport.viewportToImageCoordinates(viewport.getCenter(true));
    const bar = view.scaleBar.getBoundingClientRect();
    return {
      imageZoom: viewport.viewportToImageZoom(viewport.getZoom(true)),
      centre: [centre.x, centre.y],
      scaleBar: { text: view.scaleBar.textContent, width: bar.width, visible: bar.width > 0 },
    };
  },
};
`;

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>slide</title></head>
<body style="margin:0;background:#000">
<div id="view" style="width:${VIEW.width}px;height:${VIEW.height}px;background:#000"></div>
<script src="/page.js"></script>
</body></html>`;

interface ViewState {
  imageZoom: number;
  centre: [number, number];
  scaleBar: { text: string; width: number; visible: boolean };
}

let scratch: string;
let server: RangeServer;
let browser: Browser;
let page: Page;
const requested: string[] = [];
const tileStatuses: number[] = [];

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'slide-view-'));
  const [file, oddFile, bundle] = await Promise.all([
    photographicSlide(),
    // 1025 px: level 1 is 512 px, two tiles, where halving without rounding down would make three.
    // Rewritten by libtiff as YCbCr JPEG, the other colour model JPEG tiles come in.
    photographicSlide(1025, 700).then((slide) => tiffcp(scratch, slide, 'odd', ['-c', 'jpeg'])),
    build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: path.join(__dirname, '..', '..'), loader: 'js' },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'chrome120',
      logLevel: 'silent',
    }),
  ]);
  const script = bundle.outputFiles[0].contents;
  // The viewer server's part, in the few lines it takes: the page, and the session's slides.
  const session = new SessionSlides((imageId) =>
    ['photo', 'odd'].includes(imageId) ? `${server.baseUrl}/files/${imageId}.tif` : undefined,
  );
  const files = new Map([
    ['photo.tif', file],
    ['odd.tif', oddFile],
  ]);
  server = await startRangeServer(files, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = /^\/sessions\/s1\/slides\/([^/]+)(?:\/tiles\/([^/]+)\/([^/]+))?$/.exec(url.pathname);
    if (route) {
      const [, imageId, level, columnRow] = route;
      (level ? session.tile(imageId, level, columnRow) : session.tileSource(imageId)).then(
        ({ status, headers, body }) => {
          if (level) tileStatuses.push(status);
          res.writeHead(status, headers).end(body);
        },
        () => res.writeHead(500).end(),
      );
    } else if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_HTML);
    else if (url.pathname === '/page.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(Buffer.from(script));
    else res.writeHead(404).end();
  });

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox'],
    headless: true,
  });
  page = await browser.newPage({ viewport: VIEW, deviceScaleFactor: 1 });
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${server.baseUrl}/`);
  await page.evaluate("slideTest.open('photo')");
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const state = () => page.evaluate('slideTest.state()') as Promise<ViewState>;

/** The view as the screen shows it: RGB, one byte per channel, `VIEW.width` pixels a row. */
async function screen(): Promise<Buffer> {
  const png = await page.locator('#view').screenshot();
  return sharp(png).removeAlpha().raw().toBuffer();
}

/** The colour on screen where image pixel (x, y) is drawn, at image zoom `zoom` around `centre`. */
function colourAt(pixels: Buffer, zoom: number, centre: [number, number], x: number, y: number): number[] {
  const sx = Math.floor(VIEW.width / 2 + (x + 0.5 - centre[0]) * zoom);
  const sy = Math.floor(VIEW.height / 2 + (y + 0.5 - centre[1]) * zoom);
  const at = (sy * VIEW.width + sx) * 3;
  return [pixels[at], pixels[at + 1], pixels[at + 2]];
}

function expectColour(actual: number[], expected: number[], where: string) {
  const difference = Math.max(...actual.map((v, c) => Math.abs(v - expected[c])));
  if (difference > 6) throw new Error(`at ${where} the screen shows ${actual}, not ${expected}`);
}

test('the whole slide opens, with a scale bar from its microns per pixel', async () => {
  const opened = await state();
  // Fitted to the width: 1500 slide pixels across 800 screen pixels.
  expect(opened.imageZoom).toBeCloseTo(800 / 1500, 3);
  const micronsPerScreenPixel = MICRONS_PER_PIXEL / opened.imageZoom;
  // 0.94 µm per screen pixel: 160 px would be 150 µm, so the bar is 100 µm.
  expect(opened.scaleBar.text).toBe('100 µm');
  expect(opened.scaleBar.width).toBeCloseTo(100 / micronsPerScreenPixel, 0);
  expect(await page.evaluate('slideTest.errors')).toEqual([]);
});

test('at full resolution the screen shows the slide colours, edge tiles cropped, not stretched', async () => {
  const centre: [number, number] = [1400, 900];
  await page.evaluate(`slideTest.setView(1, ${centre[0]}, ${centre[1]})`);
  const shown = await state();
  expect(shown.imageZoom).toBeCloseTo(1, 6);
  const pixels = await screen();
  // Block middles, and points 6 px either side of block edges, in the last tile column and row.
  for (const [x, y] of [
    [1050, 650],
    [1250, 850],
    [1350, 950],
    [1450, 650],
    [1450, 950],
    [1394, 650],
    [1406, 650],
    [1494, 700],
    [1050, 890],
    [1050, 910],
    [1050, 994],
  ])
    expectColour(colourAt(pixels, 1, centre, x, y), blockColour(x, y), `slide pixel (${x}, ${y})`);
  // Past the slide's right and bottom edges: the page's black, not the tiles' padding.
  for (const [x, y] of [
    [1506, 650],
    [1700, 900],
    [1100, 1006],
  ])
    expectColour(colourAt(pixels, 1, centre, x, y), [0, 0, 0], `(${x}, ${y}), outside the slide`);
  expect(shown.scaleBar.text).toBe('50 µm');
  expect(shown.scaleBar.width).toBeCloseTo(100, 0);
});

test('a lower level is cropped at its edge too, and the scale bar follows the zoom', async () => {
  const centre: [number, number] = [750, 500];
  await page.evaluate(`slideTest.setView(0.5, ${centre[0]}, ${centre[1]})`);
  const pixels = await screen();
  for (const [x, y] of [
    [1450, 950],
    [1150, 850],
    [150, 50],
    [1488, 988],
  ])
    expectColour(
      colourAt(pixels, 0.5, centre, x, y),
      blockColour(x, y),
      `slide pixel (${x}, ${y}) at half size`,
    );
  for (const [x, y] of [
    [1512, 500],
    [750, 1012],
  ])
    expectColour(
      colourAt(pixels, 0.5, centre, x, y),
      [0, 0, 0],
      `(${x}, ${y}), outside the slide at half size`,
    );
  // 1 µm per screen pixel: the longest round length in 160 px is 100 µm.
  expect((await state()).scaleBar).toEqual({ text: '100 µm', width: 100, visible: true });
});

test('the mouse wheel zooms in and a drag pans', async () => {
  await page.evaluate('slideTest.setView(0.6, 700, 500)');
  const before = await state();
  await page.mouse.move(VIEW.width / 2, VIEW.height / 2);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -100);
  await page.evaluate('slideTest.settled()');
  const zoomed = await state();
  expect(zoomed.imageZoom).toBeGreaterThan(before.imageZoom * 1.5);
  // The bar measures what it says at the new zoom, in a round number of microns.
  const microns = Number(/^(\d+) µm$/.exec(zoomed.scaleBar.text)?.[1]);
  expect([1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(microns)))).toContain(microns);
  expect((zoomed.scaleBar.width * MICRONS_PER_PIXEL) / zoomed.imageZoom).toBeCloseTo(microns, 0);
  expect(zoomed.scaleBar.text).not.toBe(before.scaleBar.text);

  await page.evaluate('slideTest.setView(1, 700, 500)');
  await page.mouse.move(400, 300);
  await page.mouse.down();
  await page.mouse.move(300, 250, { steps: 10 });
  await page.mouse.up();
  await page.evaluate('slideTest.settled()');
  const panned = await state();
  // Dragged 100 px left and 50 up at one screen pixel per slide pixel.
  expect(panned.centre[0]).toBeCloseTo(800, -1);
  expect(panned.centre[1]).toBeCloseTo(550, -1);
  expect(panned.imageZoom).toBeCloseTo(1, 6);
});

test('a slide whose levels round down is tiled as the file is, and YCbCr tiles show their colours', async () => {
  await page.evaluate("slideTest.open('odd')");
  for (const [zoom, x, y] of [
    [0.5, 512, 350],
    [1, 1000, 600],
  ])
    await page.evaluate(`slideTest.setView(${zoom}, ${x}, ${y})`);
  const pixels = await screen();
  // At full resolution, the slide's colours up to its right edge, and nothing past it.
  for (const [x, y] of [
    [1012, 650],
    [950, 550],
    [850, 450],
    [720, 680],
  ])
    expectColour(colourAt(pixels, 1, [1000, 600], x, y), blockColour(x, y), `slide pixel (${x}, ${y})`);
  // Its last column is drawn (its colour shares chroma with the tile's padding, so only drawn).
  expect(Math.max(...colourAt(pixels, 1, [1000, 600], 1024, 650))).toBeGreaterThan(60);
  expectColour(colourAt(pixels, 1, [1000, 600], 1026, 650), [0, 0, 0], '(1026, 650), outside the slide');
  expect(tileStatuses.length).toBeGreaterThan(0);
  expect(tileStatuses.filter((status) => status !== 200)).toEqual([]);
  expect(await page.evaluate('slideTest.errors')).toEqual([]);
  await page.evaluate("slideTest.open('photo')");
});

test('the page fetched nothing but itself, the slide and its tiles, all from the viewer', async () => {
  const origin = new URL(server.baseUrl).origin;
  for (const url of requested) expect(new URL(url).origin).toBe(origin);
  const paths = requested.map((url) => new URL(url).pathname);
  expect(paths.filter((p) => !/^\/sessions\/s1\/slides\/(photo|odd)\/tiles\/\d+\/\d+_\d+$/.test(p))).toEqual([
    '/',
    '/page.js',
    '/sessions/s1/slides/photo',
    '/sessions/s1/slides/odd',
    '/sessions/s1/slides/photo',
  ]);
  expect(paths.length).toBeGreaterThan(10);
  expect(await page.evaluate('slideTest.errors')).toEqual([]);
});
