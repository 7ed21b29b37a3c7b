import { chromium } from 'playwright-core';
import { expectedOutput, expectedPattern, runWalkthrough } from '../../bin/smoke/readme-walkthrough';
import { voxelToCanvas } from '../../containers/viewer/server/volume/view-mapping';
import { Vec3, ViewState, VolumeGeometry } from '../../containers/viewer/server/volume/view-state';
import { LocalPlatform } from '../../local/local-platform';
import { startTestPlatform } from '../helpers/local-platform-fixture';

// What page.evaluate runs is the page's: its globals, which this Node program does not type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

let platform: LocalPlatform;
/** The last line the walkthrough printed: the viewer's address of the job's session. */
let viewerAddress: string | undefined;

beforeAll(async () => {
  platform = await startTestPlatform({}, { jobs: 'run' });
});

afterAll(() => platform.stop());

describe('README walkthrough', () => {
  test('prints what its comments say', () => {
    expect(expectedOutput()).toEqual([
      'Completed',
      'Succeeded: Converted',
      'ObjectType = Image',
      'true',
      'Succeeded',
      '{"threshold":2,"voxels":4,"foreground":2,"fraction":0.5}',
      'ObjectType = Image',
      '1',
      '<viewer URL of the session>',
    ]);
  });

  test('uploads a file, makes an image, registers an algorithm and submits a job against local mode', async () => {
    // Asynchronous: the platform answers from this very process.
    const result = await runWalkthrough({ ...process.env, API: `${platform.urls.api}/v1` });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const printed = result.stdout.trim().split('\n');
    expect(printed).toEqual(expectedOutput().map((line) => expect.stringMatching(expectedPattern(line))));
    // It ends on the session's page at local mode's viewer, the credential in the fragment.
    expect(printed.at(-1)).toMatch(
      new RegExp(`^${platform.urls.viewer}/sessions/[0-9a-f-]{36}#credential=[\\w-]+\\.[\\w-]+$`),
    );
    viewerAddress = printed.at(-1);
  });

  test('the address it prints opens the scan in a browser with the mask drawn over the voxels at or above the threshold', async () => {
    expect(viewerAddress).toBeDefined();
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox'],
      headless: true,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 600, height: 260 }, deviceScaleFactor: 1 });
      await page.goto(viewerAddress!);
      const selector = '.view[data-plane="axial"] canvas.frame';
      await page.waitForFunction((s) => {
        const canvas = document.querySelector(s);
        return canvas?.dataset.encoding === 'png' && JSON.parse(canvas.dataset.view).overlayOpacity > 0;
      }, selector);
      const frame = await page.evaluate((s) => {
        const canvas = document.querySelector(s);
        const data: Uint8ClampedArray = canvas
          .getContext('2d')
          .getImageData(0, 0, canvas.width, canvas.height).data;
        return { view: canvas.dataset.view as string, width: canvas.width as number, rgba: [...data] };
      }, selector);
      expect(await page.locator('#overlay option:checked').textContent()).not.toBe('none');
      // The walkthrough's scan: 2 x 2 voxels of 0, 1 (top row) and 2, 3 (bottom row); threshold 2.
      const geometry: VolumeGeometry = {
        size: [2, 2, 1],
        spacing: [1, 1, 1],
        origin: [0, 0, 0],
        direction: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        timepoints: 1,
        units: 'image units',
      };
      const view = JSON.parse(frame.view) as ViewState;
      const shown = (voxel: Vec3) => {
        const [x, y] = voxelToCanvas(geometry, view, voxel).map(Math.floor);
        const o = (y * frame.width + x) * 4;
        const [r, g, b] = frame.rgba.slice(o, o + 3);
        return r === g && g === b ? 'grey' : r > g + 90 && b > g ? 'label 1' : `${r}, ${g}, ${b}`;
      };
      expect([shown([0, 0, 0]), shown([1, 0, 0]), shown([0, 1, 0]), shown([1, 1, 0])]).toEqual([
        'grey',
        'grey',
        'label 1',
        'label 1',
      ]);
    } finally {
      await browser.close();
    }
  });
});
