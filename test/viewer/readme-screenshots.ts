// `npm run screenshots`: the README's pictures of the viewer, taken as the Chromium tests take
// theirs: local mode in this process, a session opened from the API's answer, headless Chromium.
// A body-like CT with its spine as a mask over it, and a slide; written to docs/images/.
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { apiClient } from '../helpers/api-client';
import { convertedImage } from '../helpers/api-flows';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// What page.waitForFunction runs is the page's: its globals, which this Node program does not type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const OUT = path.join(__dirname, '..', '..', 'docs', 'images');
const [SX, SY, SZ] = [256, 256, 120];

/** Air, an elliptic body with noise, two lungs and a spine that moves from slice to slice. */
function bodyCt(mask: boolean): Buffer {
  const voxels = mask ? new Uint8Array(SX * SY * SZ) : new Int16Array(SX * SY * SZ);
  let seed = 7;
  for (let z = 0; z < SZ; z++) {
    const spineY = 190 + Math.round(5 * Math.sin(z / 20));
    for (let y = 0; y < SY; y++)
      for (let x = 0; x < SX; x++) {
        const i = x + SX * (y + SY * z);
        const body = ((x - 128) / 110) ** 2 + ((y - 128) / 85) ** 2 <= 1;
        const lung = ((Math.abs(x - 128) - 50) / 30) ** 2 + ((y - 115) / 45) ** 2 <= 1;
        const spine = (x - 128) ** 2 + (y - spineY) ** 2 <= 15 ** 2;
        seed = (seed * 1103515245 + 12345) >>> 0;
        if (mask) voxels[i] = body && spine ? 1 : body && lung && x < 128 ? 2 : 0;
        else voxels[i] = !body ? -1000 : (spine ? 700 : lung ? -820 : 40) + ((seed >>> 24) % 41) - 20;
      }
  }
  return Buffer.concat([
    Buffer.from(
      `ObjectType = Image\nNDims = 3\nDimSize = ${SX} ${SY} ${SZ}\nElementSpacing = 1.2 1.2 2.5\n` +
        `ElementType = ${mask ? 'MET_UCHAR' : 'MET_SHORT'}\nElementDataFile = LOCAL\n`,
    ),
    Buffer.from(voxels.buffer),
  ]);
}

/** Stained-looking tissue: pink blobs with purple nuclei on white, 4000 x 3000 pixels. */
async function slideTiff(): Promise<Buffer> {
  const [w, h] = [4000, 3000];
  const pixels = Buffer.alloc(w * h * 3, 245);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const tissue = Math.sin(x / 310) + Math.cos(y / 270) + Math.sin((x + y) / 530) > 0.4;
      if (!tissue) continue;
      const nucleus = Math.sin(x / 9) * Math.sin(y / 11) > 0.85;
      pixels.set(nucleus ? [90, 40, 140] : [235, 160, 190], (y * w + x) * 3);
    }
  return sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
    .tiff({ compression: 'jpeg', xres: 4000, yres: 4000, resolutionUnit: 'cm' })
    .toBuffer();
}

async function main(): Promise<void> {
  const platform = await startTestPlatform();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const call = apiClient(platform.urls.api);
    const ct = await convertedImage(call, 'dev-alice', 'chest-ct.mha', bodyCt(false));
    const mask = await convertedImage(call, 'dev-alice', 'segmentation.mha', bodyCt(true));
    const slide = await convertedImage(call, 'dev-alice', 'biopsy.tif', await slideTiff());
    const sessions = await Promise.all([
      call('POST', '/v1/sessions', {
        token: 'dev-alice',
        body: { images: [ct], overlays: [{ image: mask, on: ct }] },
      }),
      call('POST', '/v1/sessions', { token: 'dev-alice', body: { images: [slide] } }),
    ]);
    const [ctSession, slideSession] = sessions.map(
      (s) => `${s.body.viewerUrl}#credential=${s.body.credential}`,
    );

    const page = await browser.newPage({ viewport: { width: 1200, height: 480 } });
    await page.goto(ctSession);
    await page.waitForSelector('.view[data-plane="sagittal"] canvas.frame[data-encoding="png"]');
    await page.keyboard.press('1');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('canvas.frame')].every(
        (c: { dataset: { encoding: string; view: string } }) =>
          c.dataset.encoding === 'png' && JSON.parse(c.dataset.view).window.width === 400,
      ),
    );
    const axial = (await page.locator('.view[data-plane="axial"] canvas.marks').boundingBox())!;
    await page.mouse.move(axial.x + axial.width * 0.5, axial.y + axial.height * 0.72);
    await page.waitForFunction(() => document.getElementById('readout').textContent !== '');
    await page.screenshot({ path: path.join(OUT, 'viewer-ct.png') });

    await page.goto(slideSession);
    await page.waitForSelector('.slide-scale-bar');
    await page.mouse.move(600, 260);
    for (let i = 0; i < 2; i++) await page.mouse.wheel(0, -300);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(OUT, 'viewer-slide.png') });
    console.log(`written: ${path.join(OUT, 'viewer-ct.png')}, ${path.join(OUT, 'viewer-slide.png')}`);
  } finally {
    await browser.close();
    await platform.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack);
    process.exit(1);
  },
);
