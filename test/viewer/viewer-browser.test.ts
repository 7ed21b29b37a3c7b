import { Browser, chromium, Page } from 'playwright-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { signSessionCredential } from '../../lambda/contracts/session-credential';
import { FrameHeader, VIEW_BOUNDS, viewerPaths } from '../../containers/viewer/server/protocol';
import { canvasToVoxel, voxelToCanvas } from '../../containers/viewer/server/volume/view-mapping';
import { Plane, Vec3, ViewState, WINDOW_PRESETS } from '../../containers/viewer/server/volume/view-state';
import { LocalPlatform } from '../../local/local-platform';
import { apiClient } from '../helpers/api-client';
import { convertedImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

/**
 * The viewer in Chromium against local mode: a session of a synthetic CT with known voxels and a
 * mask over it, and one of a slide, opened as a reader opens them from the API's answer.
 */

// What page.evaluate runs is the page's: its globals, which this Node program does not type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, location: any, WebSocket: any, btoa: (binary: string) => string;

const SIZE: Vec3 = [64, 48, 20];
/** Anisotropic: 0.5 mm across a slice, 2 mm between slices. */
const SPACING: Vec3 = [0.5, 0.5, 2];
const inBlock = ([x, y, z]: Vec3) => x >= 16 && x < 48 && y >= 12 && y < 36 && z >= 4 && z < 16;
const inRod = ([x, y, z]: Vec3) => x >= 28 && x < 36 && y >= 20 && y < 28 && z >= 2 && z < 18;
const inMask = ([x, y, z]: Vec3) => x >= 16 && x < 24 && y >= 12 && y < 20 && z >= 4 && z < 16;

/** Air, a block of soft tissue whose value tells its slice (40 + 10 z), a rod of bone through it. */
function ctValue(voxel: Vec3): number {
  if (inRod(voxel)) return 1000;
  if (inBlock(voxel)) return 40 + 10 * voxel[2];
  return -1000;
}

function metaImage(type: 'MET_SHORT' | 'MET_UCHAR', value: (v: Vec3) => number): Buffer {
  const [sx, sy, sz] = SIZE;
  const voxels = type === 'MET_SHORT' ? new Int16Array(sx * sy * sz) : new Uint8Array(sx * sy * sz);
  for (let z = 0; z < sz; z++)
    for (let y = 0; y < sy; y++)
      for (let x = 0; x < sx; x++) voxels[x + sx * (y + sy * z)] = value([x, y, z]);
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE.join(' ')}\nElementSpacing = ${SPACING.join(' ')}\n` +
        `ElementType = ${type}\nElementDataFile = LOCAL\n`,
    ),
    Buffer.from(voxels.buffer),
  ]);
}

const SOFT_TISSUE = WINDOW_PRESETS[0].window;
const OPACITY = 0.5;
/** Label 1's colour (label-colours.ts), as the renderer blends it. */
const LABEL_1 = [230, 25, 75];

/** The pixel the viewer must show for a voxel, soft tissue window, mask blended over it. */
function expectedPixel(voxel: Vec3 | undefined): [number, number, number] {
  if (!voxel) return [0, 0, 0];
  const low = SOFT_TISSUE.level - SOFT_TISSUE.width / 2;
  const grey = Math.min(255, Math.max(0, Math.round((255 * (ctValue(voxel) - low)) / SOFT_TISSUE.width)));
  if (!inMask(voxel)) return [grey, grey, grey];
  return LABEL_1.map((c) => Math.round(grey * (1 - OPACITY) + c * OPACITY)) as [number, number, number];
}

const geometry = {
  size: SIZE,
  spacing: SPACING,
  origin: [0, 0, 0] as Vec3,
  direction: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ] as [Vec3, Vec3, Vec3],
  timepoints: 1,
  units: 'image units' as const,
};

/** The voxel a canvas pixel shows (nearest voxel to its centre), undefined outside the volume. */
function voxelAt(view: ViewState, px: number, py: number): Vec3 | undefined {
  const index = canvasToVoxel(geometry, view, [px + 0.5, py + 0.5]).map(Math.round) as unknown as Vec3;
  return index.every((v, k) => v >= 0 && v < SIZE[k]) ? index : undefined;
}

let platform: LocalPlatform;
let browser: Browser;
let page: Page;
let session: { id: string; viewerUrl: string; credential: string };
let ctId: string;
let otherImageId: string;
let slideUrl: string;
const call = () => apiClient(`${platform.urls.api}`);

beforeAll(async () => {
  platform = await startTestPlatform();
  const api = call();
  ctId = await convertedImage(api, 'dev-alice', 'ct.mha', metaImage('MET_SHORT', ctValue));
  const maskId = await convertedImage(
    api,
    'dev-alice',
    'mask.mha',
    metaImage('MET_UCHAR', (v) => (inMask(v) ? 1 : 0)),
  );
  const started = await api('POST', '/v1/sessions', {
    token: 'dev-alice',
    body: { images: [ctId], overlays: [{ image: maskId, on: ctId }] },
  });
  expect(started.status).toBe(201);
  session = started.body;
  // A slide of flat colour blocks, 1200 x 900, which the converter makes a pyramid of.
  const blocks = Buffer.alloc(1200 * 900 * 3);
  for (let i = 0; i < 1200 * 900; i++)
    blocks.set([((i % 1200) >> 6) * 8, (Math.floor(i / 1200) >> 6) * 10, 128], i * 3);
  const tiff = await sharp(blocks, { raw: { width: 1200, height: 900, channels: 3 } })
    .tiff({ compression: 'jpeg', xres: 20000, yres: 20000, resolutionUnit: 'cm' })
    .toBuffer();
  const slideId = await convertedImage(api, 'dev-alice', 'slide.tif', tiff);
  // Alice's own, but not in the CT's session.
  otherImageId = slideId;
  const slideSession = await api('POST', '/v1/sessions', { token: 'dev-alice', body: { images: [slideId] } });
  expect(slideSession.status).toBe(201);
  slideUrl = `${slideSession.body.viewerUrl}#credential=${slideSession.body.credential}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox'],
    headless: true,
  });
  page = await browser.newPage({ viewport: { width: 960, height: 330 }, deviceScaleFactor: 1 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/**
 * The lossless frame of a plane once it shows the soft tissue window (and `position`, if given):
 * its view and its RGBA pixels as read back from the canvas.
 */
async function losslessFrame(plane: Plane, position?: Vec3) {
  const selector = `.view[data-plane="${plane}"] canvas.frame`;
  await page.waitForFunction(
    ([s, width, at]) => {
      const canvas = document.querySelector(s);
      if (canvas?.dataset.encoding !== 'png') return false;
      const view = JSON.parse(canvas.dataset.view);
      return view.window.width === width && (!at || JSON.stringify(view.position) === at);
    },
    [selector, SOFT_TISSUE.width, position ? JSON.stringify(position) : ''] as const,
  );
  const frame = await page.evaluate((s) => {
    const canvas = document.querySelector(s);
    const data: Uint8ClampedArray = canvas
      .getContext('2d')
      .getImageData(0, 0, canvas.width, canvas.height).data;
    // As base64: a string crosses to Node at once, where an array of numbers goes one by one.
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000)
      binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return {
      slice: Number(canvas.dataset.slice),
      view: JSON.parse(canvas.dataset.view) as FrameHeader['view'],
      width: canvas.width as number,
      height: canvas.height as number,
      rgba: btoa(binary) as string,
    };
  }, selector);
  return { ...frame, pixels: Buffer.from(frame.rgba, 'base64') };
}

/** Pixels that differ from what the synthetic volume gives, by the engine's canvas mapping. */
function wrongPixels(frame: Awaited<ReturnType<typeof losslessFrame>>): string[] {
  const wrong: string[] = [];
  for (let y = 0; y < frame.height; y++)
    for (let x = 0; x < frame.width; x++) {
      const o = (y * frame.width + x) * 4;
      const got = [...frame.pixels.subarray(o, o + 3)];
      const want = expectedPixel(voxelAt(frame.view, x, y));
      if (got.some((v, k) => v !== want[k])) wrong.push(`(${x}, ${y}): ${got} not ${want}`);
    }
  return wrong;
}

/** Waits until the element's text matches, and answers it. */
async function textOf(on: Page, selector: string, pattern: RegExp): Promise<string> {
  const handle = await on.waitForFunction(
    ([s, source]) => {
      const text = document.querySelector(s)?.textContent ?? '';
      return new RegExp(source).test(text) && text;
    },
    [selector, pattern.source] as const,
  );
  return (await handle.jsonValue()) as string;
}

async function canvasBox(plane: Plane) {
  return (await page.locator(`.view[data-plane="${plane}"] canvas.marks`).boundingBox())!;
}

describe('a CT session', () => {
  test('shows the three planes exactly, windowed and with the mask over them, once still', async () => {
    await page.goto(`${session.viewerUrl}#credential=${session.credential}`);
    // The credential is gone from the address once handed over.
    await page.waitForFunction(() => location.hash === '');
    await page.waitForSelector('.view[data-plane="axial"] canvas.frame[data-encoding="png"]');
    await page.keyboard.press('1');
    for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
      const frame = await losslessFrame(plane, [31, 23, 9]);
      expect(frame.view.window).toEqual(SOFT_TISSUE);
      expect(frame.view.overlayOpacity).toBe(OPACITY);
      expect(wrongPixels(frame)).toEqual([]);
    }
    await textOf(page, '#status', /Slice 10\/20 .* W 400 L 40/);
  });

  test('coronal and sagittal show the rod of bone standing through the block', async () => {
    for (const plane of ['coronal', 'sagittal'] as const) {
      const frame = await losslessFrame(plane);
      const bone: Vec3[] = [];
      for (let y = 0; y < frame.height; y++)
        for (let x = 0; x < frame.width; x++) {
          if (frame.pixels[(y * frame.width + x) * 4 + 1] === 255) bone.push(voxelAt(frame.view, x, y)!);
        }
      // The rod, 16 slices (32 mm) tall, and nothing else at full brightness.
      expect(bone.length).toBeGreaterThan(0);
      expect(bone.every(inRod)).toBe(true);
      expect(new Set(bone.map((v) => v[2]))).toEqual(
        new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
      );
    }
  });

  test('the wheel scrolls the axial plane one slice at a time', async () => {
    const box = await canvasBox('axial');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    // Every frame the canvas draws, as encoding and slice, from here on.
    await page.evaluate(() => {
      const canvas = document.querySelector('.view[data-plane="axial"] canvas.frame');
      const drawn: string[] = [];
      (globalThis as unknown as { drawn: string[] }).drawn = drawn;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      new (globalThis as any).MutationObserver(() =>
        drawn.push(`${canvas.dataset.encoding} ${canvas.dataset.slice}`),
      ).observe(canvas, { attributeFilter: ['data-view'] });
    });
    await page.mouse.wheel(0, 100);
    const after = await losslessFrame('axial', [31, 23, 10]);
    // JPEG while the view changes, then the same view losslessly once still (a resize of the
    // canvas, as the status line rewraps, may ask for it again).
    const drawn = await page.evaluate(() => (globalThis as unknown as { drawn: string[] }).drawn);
    expect(drawn.slice(0, 2)).toEqual(['jpeg 10', 'png 10']);
    expect(after.slice).toBe(10);
    expect(after.view.position).toEqual([31, 23, 10]);
    expect(wrongPixels(after)).toEqual([]);
    // Slice 10 of the block is 40 + 100 HU: grey 191 in soft tissue.
    const centre = voxelToCanvas(geometry, after.view, [40, 30, 10]).map(Math.floor);
    const o = (centre[1] * after.width + centre[0]) * 4;
    expect([...after.pixels.subarray(o, o + 3)]).toEqual([191, 191, 191]);
    await textOf(page, '#status', /Slice 11\/20/);
  });

  test('a length on the coronal plane reports millimetres from the anisotropic spacing', async () => {
    const frame = await losslessFrame('coronal');
    const box = await canvasBox('coronal');
    // 20 voxels across (0.5 mm) and 10 down (2 mm): sqrt(10² + 20²) = 22.4 mm.
    const from = voxelToCanvas(geometry, frame.view, [10, 0, 2]);
    const to = voxelToCanvas(geometry, frame.view, [30, 0, 12]);
    await page.click('#tool-length');
    await page.mouse.move(box.x + from[0], box.y + from[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 5 });
    await page.mouse.up();
    expect(await textOf(page, '#measurement', /Length/)).toBe('Length 22.4 mm');
    await page.click('#tool-length');
  });

  test('an ellipse inside the block reads its value, one voxel value throughout', async () => {
    const frame = await losslessFrame('axial', [31, 23, 10]);
    const box = await canvasBox('axial');
    const from = voxelToCanvas(geometry, frame.view, [17, 22, 10]);
    const to = voxelToCanvas(geometry, frame.view, [26, 32, 10]);
    await page.click('#tool-region');
    await page.mouse.move(box.x + from[0], box.y + from[1]);
    await page.mouse.down();
    await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 5 });
    await page.mouse.up();
    expect(await textOf(page, '#measurement', /ROI/)).toMatch(
      /^ROI mean 140\.0 SD 0\.0 min 140 max 140 area \d+\.\d mm² \(\d+ voxels\)$/,
    );
    await page.click('#tool-region');
  });

  test('a 20 mm MIP slab shows the brightest of the five slices each side', async () => {
    await page.selectOption('#slab', 'mip');
    await page.fill('#thickness', '20');
    const selector = '.view[data-plane="axial"] canvas.frame';
    await page.waitForFunction((s) => {
      const canvas = document.querySelector(s);
      return canvas?.dataset.encoding === 'png' && JSON.parse(canvas.dataset.view).slab?.thicknessMm === 20;
    }, selector);
    const frame = await losslessFrame('axial', [31, 23, 10]);
    expect(frame.view.slab).toEqual({ mode: 'mip', thicknessMm: 20 });
    // Slices 5 to 15 around slice 10: the block's brightest is slice 15, 40 + 150 = 190, grey 223.
    const at = voxelToCanvas(geometry, frame.view, [40, 30, 10]).map(Math.floor);
    const o = (at[1] * frame.width + at[0]) * 4;
    expect([...frame.pixels.subarray(o, o + 3)]).toEqual([223, 223, 223]);
    await page.selectOption('#slab', '');
    await losslessFrame('axial', [31, 23, 10]);
  });

  test('the value under the cursor is read out with its voxel', async () => {
    const frame = await losslessFrame('axial');
    const box = await canvasBox('axial');
    const at = voxelToCanvas(geometry, frame.view, [30, 22, 10]);
    await page.mouse.move(box.x + at[0] + 0.5, box.y + at[1] + 0.5);
    expect(await textOf(page, '#readout', /voxel \(30, 22, 10\)/)).toBe(
      '1000 image units at voxel (30, 22, 10), patient (15.0, 11.0, 20.0) mm',
    );
  });
  test('a drag sets the window and takes the keys from the controls, the number keys set the presets, +/- zoom, shift+drag pans, r resets', async () => {
    /** The view of the axial plane's lossless frame, once it is one `check` takes. */
    const axialView = async (check: (view: ViewState) => boolean): Promise<ViewState> => {
      for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        const shown = await page.evaluate(() => {
          const canvas = document.querySelector('.view[data-plane="axial"] canvas.frame');
          return canvas?.dataset.encoding === 'png' ? (canvas.dataset.view as string) : undefined;
        });
        const view = shown && (JSON.parse(shown) as ViewState);
        if (view && check(view)) return view;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('the axial plane never showed the view expected');
    };
    const before = await axialView((view) => view.zoom === 1);
    // A control last used holds the focus (keys typed there are its own), until the views are used.
    await page.focus('#slab');
    // A left drag sets the window: a quarter of its width wider per 64 pixels right, lower going down.
    const box = await canvasBox('axial');
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 64, y + 32, { steps: 4 });
    await page.mouse.up();
    const dragged = await axialView((view) => view.window.width !== before.window.width);
    // Within a pixel's worth: the canvas's device pixels round its CSS width.
    expect(dragged.window.width).toBeCloseTo(before.window.width * 1.25, 0);
    expect(dragged.window.level).toBeCloseTo(before.window.level - before.window.width / 8, 0);
    // As the viewer's help names them: CT soft tissue, lung, bone, brain and liver.
    for (const [key, width, level] of [
      ['2', 1500, -600],
      ['3', 2500, 480],
      ['4', 80, 40],
      ['5', 150, 90],
      ['1', 400, 40],
    ] as const) {
      await page.keyboard.press(key);
      const view = await axialView((view) => view.window.width === width && view.window.level === level);
      expect(view.window).toEqual({ width, level });
    }
    await page.keyboard.press('+');
    expect((await axialView((view) => view.zoom > 1)).zoom).toBeCloseTo(1.2);
    // A shift+drag pans: the plane follows the mouse, so the view's centre moves the other way.
    await page.keyboard.down('Shift');
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 40, y - 20, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const panned = await axialView((view) => view.pan[0] !== 0);
    expect(panned.pan[0]).toBeLessThan(0);
    expect(panned.pan[1]).toBeGreaterThan(0);
    expect(panned.window).toEqual(SOFT_TISSUE);
    await page.keyboard.press('r');
    // Not a CT (no modality in its header): its own window is the histogram's, not a preset.
    const reset = await axialView(
      (view) => view.zoom === 1 && view.pan[0] === 0 && view.window.width !== SOFT_TISSUE.width,
    );
    expect(reset.window).not.toEqual(SOFT_TISSUE);
    expect(reset.pan).toEqual([0, 0]);
    expect(reset.position).toEqual([31, 23, 9]);
    await page.keyboard.press('1');
    await losslessFrame('axial', [31, 23, 9]);
  });

  test('a thickness typed out of range and a zoom held down stay inside what a view may ask, and the session goes on', async () => {
    /** The axial plane's lossless frame once its view is one `check` takes. */
    const axialView = async (check: string) => {
      const handle = await page.waitForFunction(
        ([s, source]) => {
          const canvas = document.querySelector(s);
          if (canvas?.dataset.encoding !== 'png') return false;
          const view = JSON.parse(canvas.dataset.view);
          const [key, value] = source.split('=');
          return (
            (key === 'zoom' ? view.zoom : view.slab?.thicknessMm) === Number(value) && canvas.dataset.view
          );
        },
        ['.view[data-plane="axial"] canvas.frame', check] as const,
      );
      return JSON.parse((await handle.jsonValue()) as string) as ViewState;
    };
    await page.selectOption('#slab', 'mip');
    await page.fill('#thickness', '-5');
    // Below 0: one slice, as 0 mm is.
    expect((await axialView('thickness=0')).slab).toEqual({ mode: 'mip', thicknessMm: 0 });
    await page.fill('#thickness', '20000');
    expect((await axialView(`thickness=${VIEW_BOUNDS.slabThicknessMm.max}`)).slab?.thicknessMm).toBe(10_000);
    await page.selectOption('#slab', '');
    await page.evaluate(() => document.activeElement?.blur());
    for (let i = 0; i < 30; i++) await page.keyboard.press('+');
    expect((await axialView(`zoom=${VIEW_BOUNDS.zoom.max}`)).zoom).toBe(64);
    for (let i = 0; i < 60; i++) await page.keyboard.press('-');
    expect((await axialView(`zoom=${VIEW_BOUNDS.zoom.min}`)).zoom).toBe(0.05);
    expect(await page.locator('#status').getAttribute('data-kind')).toBe('info');
    await page.keyboard.press('r');
    await page.keyboard.press('1');
    await losslessFrame('axial', [31, 23, 9]);
  });

  test('a click on one plane moves the crosshair the three share: the others show the slices through it', async () => {
    const coronal = await losslessFrame('coronal', [31, 23, 9]);
    const box = await canvasBox('coronal');
    const at = voxelToCanvas(geometry, coronal.view, [40, 23, 12]);
    await page.mouse.click(box.x + at[0] + 0.5, box.y + at[1] + 0.5);
    const axial = await losslessFrame('axial', [40, 23, 12]);
    const sagittal = await losslessFrame('sagittal', [40, 23, 12]);
    expect([axial.slice, sagittal.slice]).toEqual([12, 40]);
    expect(wrongPixels(axial)).toEqual([]);
    expect(wrongPixels(sagittal)).toEqual([]);
    await textOf(page, '#status', /^Slice 13\/20 \(voxel 40, 23, 12\)/);
  });
});

describe('refusals', () => {
  test('an expired, a tampered and another user’s credential open neither the page nor the socket', async () => {
    const api = call();
    // Carol's own session, of her own image: her credential names her session, not Alice's.
    const carolsCt = await convertedImage(api, 'dev-carol');
    const carols = await api('POST', '/v1/sessions', { token: 'dev-carol', body: { images: [carolsCt] } });
    const [body, signature] = session.credential.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const tampered = `${Buffer.from(JSON.stringify({ ...claims, userId: 'carol' })).toString('base64url')}.${signature}`;
    // Signed with local mode's own session key, but ended a second ago.
    const key = fs.readFileSync(path.join(platform.dataDir, 'session-signing-key.pem'), 'utf8');
    const expired = signSessionCredential({ ...claims, expiresAt: Math.floor(Date.now() / 1000) - 1 }, key);
    for (const [credential, reason] of [
      [carols.body.credential, /another session/],
      [tampered, /not signed by the platform/],
      [expired, /expired/],
    ] as const) {
      const fresh = await browser.newPage();
      const sockets: string[] = [];
      fresh.on('websocket', (ws) => sockets.push(ws.url()));
      await fresh.goto(`${session.viewerUrl}#credential=${credential}`);
      await textOf(fresh, '#status', reason);
      expect(await fresh.locator('canvas').count()).toBe(0);
      // With no ticket, neither the socket nor a tile opens for this page.
      const reached = await fresh.evaluate(async (id) => {
        const socket = await new Promise((resolve) => {
          const ws = new WebSocket(`ws://${location.host}/sessions/${id}/socket`);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        });
        const tile = await fetch(`/sessions/${id}/slides/any/tiles/0/0_0`);
        return { socket, tile: tile.status };
      }, session.id);
      expect(reached).toEqual({ socket: 'refused', tile: 401 });
      await fresh.close();
    }
  });

  test('an image outside the session is reached by no route of a page that holds a ticket', async () => {
    const routes = {
      source: viewerPaths.slideSource(session.id, otherImageId),
      tile: viewerPaths.tile(session.id, otherImageId, 0, 0, 0),
      socket: viewerPaths.socket(session.id),
    };
    const reached = await page.evaluate(
      async ({ outside, paths }) => {
        const answer = async (path: string) => {
          const response = await fetch(path);
          return `${response.status} ${await response.text()}`;
        };
        const errors = await new Promise<string[]>((resolve) => {
          const ws = new WebSocket(`ws://${location.host}${paths.socket}`);
          ws.binaryType = 'arraybuffer';
          const seen: string[] = [];
          let frames = 0;
          ws.onmessage = (event: { data: unknown }) => {
            if (typeof event.data !== 'string') return void frames++;
            const message = JSON.parse(event.data);
            if (message.type === 'error') seen.push(message.message);
            if (seen.length === 4) resolve([...seen, `frames: ${frames}`]);
          };
          ws.onopen = () => {
            const view = {
              plane: 'axial',
              position: [0, 0, 0],
              timepoint: 0,
              window: { width: 400, level: 40 },
              zoom: 1,
              pan: [0, 0],
              overlayOpacity: 0,
              viewport: { width: 8, height: 8 },
            };
            const asked = { imageId: outside, view };
            ws.send(JSON.stringify({ type: 'view', id: 1, canvas: 'axial', ...asked }));
            ws.send(JSON.stringify({ type: 'probe', requestId: 1, point: [0, 0], ...asked }));
            ws.send(JSON.stringify({ type: 'length', requestId: 2, from: [0, 0], to: [4, 4], ...asked }));
            const shape = { kind: 'rectangle', from: [0, 0], to: [4, 4] };
            ws.send(JSON.stringify({ type: 'region', requestId: 3, shape, ...asked }));
          };
        });
        return { source: await answer(paths.source), tile: await answer(paths.tile), errors };
      },
      { outside: otherImageId, paths: routes },
    );
    const notAVolume = `image ${otherImageId} is not a volume of this session`;
    expect(reached).toEqual({
      // The slide routes' own answer, not a path that no route takes.
      source: '404 there is no such slide in this session',
      tile: '404 there is no such slide in this session',
      errors: [notAVolume, notAVolume, notAVolume, notAVolume, 'frames: 0'],
    });
  });
});

/** The scale bar's length in micrometres, from its text ("200 µm", "1 mm"). */
function barMicrons(text: string): number {
  const [, value, unit] = /^([\d.]+)\s*(µm|mm)$/.exec(text.trim()) ?? [];
  return Number(value) * (unit === 'mm' ? 1000 : 1);
}

describe('a slide session', () => {
  test('opens with OpenSeadragon, its tiles through the viewer, and zooms in on the wheel', async () => {
    const slide = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const tiles: number[] = [];
    slide.on('response', (r) => r.url().includes('/tiles/') && tiles.push(r.status()));
    const firstTile = slide.waitForResponse((r) => r.url().includes('/tiles/'));
    await slide.goto(slideUrl);
    const beforeText = await textOf(slide, '.slide-scale-bar', /\d/);
    const before = barMicrons(beforeText);
    expect((await firstTile).status()).toBe(200);
    await slide.mouse.move(450, 300);
    for (let i = 0; i < 4; i++) await slide.mouse.wheel(0, -300);
    // Zoomed in, the same bar on screen spans fewer micrometres.
    await slide.waitForFunction(
      ([text]) => document.querySelector('.slide-scale-bar')?.textContent !== text,
      [beforeText] as const,
    );
    expect(barMicrons((await slide.locator('.slide-scale-bar').textContent())!)).toBeLessThan(before);
    await slide.close();
  });
});

describe('a 4D session', () => {
  /** The page's address with its credential, which opens the session again on another page. */
  let perfusionUrl: string;

  test('shows the time point asked for, and keeps a time point past the last to the last', async () => {
    // 16 x 12 x 4 voxels at 3 time points, each time point one value throughout.
    const values = [100, 150, 190];
    const [sx, sy, sz] = [16, 12, 4];
    const voxels = new Int16Array(sx * sy * sz * values.length);
    values.forEach((value, t) => voxels.fill(value, t * sx * sy * sz, (t + 1) * sx * sy * sz));
    const file = Buffer.concat([
      Buffer.from(
        `ObjectType = Image\nNDims = 4\nDimSize = ${sx} ${sy} ${sz} ${values.length}\n` +
          'ElementSpacing = 1 1 1 1\nElementType = MET_SHORT\nElementDataFile = LOCAL\n',
      ),
      Buffer.from(voxels.buffer),
    ]);
    const api = call();
    const imageId = await convertedImage(api, 'dev-alice', 'perfusion.mha', file);
    const started = await api('POST', '/v1/sessions', { token: 'dev-alice', body: { images: [imageId] } });
    expect(started.status).toBe(201);
    perfusionUrl = `${started.body.viewerUrl}#credential=${started.body.credential}`;
    const perfusion = await browser.newPage({ viewport: { width: 960, height: 330 }, deviceScaleFactor: 1 });
    await perfusion.goto(perfusionUrl);
    await perfusion.waitForSelector('.view[data-plane="axial"] canvas.frame[data-encoding="png"]');
    expect(await perfusion.locator('#timepoint').getAttribute('max')).toBe('2');
    await perfusion.keyboard.press('1');

    /** The grey at the centre of the axial plane's lossless frame of time point `t`, soft tissue window. */
    const centreGrey = async (t: number) => {
      await perfusion.waitForFunction(
        ([s, timepoint, width]) => {
          const canvas = document.querySelector(s);
          if (canvas?.dataset.encoding !== 'png') return false;
          const view = JSON.parse(canvas.dataset.view);
          return view.timepoint === timepoint && view.window.width === width;
        },
        ['.view[data-plane="axial"] canvas.frame', t, SOFT_TISSUE.width] as const,
      );
      return perfusion.evaluate((s) => {
        const canvas = document.querySelector(s);
        const [r, g, b] = canvas
          .getContext('2d')
          .getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
        return [r, g, b];
      }, '.view[data-plane="axial"] canvas.frame');
    };
    const low = SOFT_TISSUE.level - SOFT_TISSUE.width / 2;
    const greyOf = (value: number) => Math.round((255 * (value - low)) / SOFT_TISSUE.width);
    expect(await centreGrey(0)).toEqual(Array(3).fill(greyOf(values[0])));
    await perfusion.fill('#timepoint', '1');
    expect(await centreGrey(1)).toEqual(Array(3).fill(greyOf(values[1])));
    await textOf(perfusion, '#status', /time point 2\/3/);
    // Typed past the last time point: the last is shown, not an error.
    await perfusion.fill('#timepoint', '7');
    expect(await centreGrey(2)).toEqual(Array(3).fill(greyOf(values[2])));
    expect(await textOf(perfusion, '#status', /time point 3\/3/)).not.toMatch(/not one of/);
    expect(await perfusion.locator('#status').getAttribute('data-kind')).toBe('info');
    await perfusion.close();
  });

  test('a canvas of more device pixels than a view may have is drawn from the largest frame allowed', async () => {
    expect(perfusionUrl).toBeDefined();
    // A 1500-pixel-wide window at 10 device pixels a pixel: each plane's canvas is 5000 wide.
    const dense = await browser.newPage({ viewport: { width: 1500, height: 300 }, deviceScaleFactor: 10 });
    await dense.goto(perfusionUrl);
    const selector = '.view[data-plane="axial"] canvas.frame[data-encoding="png"]';
    await dense.waitForSelector(selector);
    const drawn = await dense.evaluate((s) => {
      const canvas = document.querySelector(s);
      return { view: JSON.parse(canvas.dataset.view), css: canvas.getBoundingClientRect().width as number };
    }, selector);
    expect(drawn.css * 10).toBeGreaterThan(VIEW_BOUNDS.viewportPixels);
    expect(drawn.view.viewport.width).toBe(VIEW_BOUNDS.viewportPixels);
    expect(drawn.view.viewport.height).toBeLessThanOrEqual(VIEW_BOUNDS.viewportPixels);
    expect(await dense.locator('#status').getAttribute('data-kind')).toBe('info');
    await dense.close();
  });
});
