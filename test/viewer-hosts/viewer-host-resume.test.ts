import { Browser, chromium, Page } from 'playwright-core';
import { freePorts } from '../helpers/free-ports';
import { startViewerBalancer } from '../helpers/viewer-balancer';
import { slicedCt } from './session-reader';
import {
  buildViewerHostImage,
  engineService,
  sessionKeys,
  startImageServer,
  startTestHost,
} from './viewer-host-fixture';

/**
 * Three viewer hosts behind a stand-in of the region's load balancer, a reader's page in
 * Chromium: the host holding the session disappears, and the page comes back on another one, at
 * the view it showed; then that host falls silent without closing anything, and the page moves
 * again once its pings go unanswered.
 */

// What page.evaluate runs is the page's: its globals, which this Node program does not type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

let engine: Awaited<ReturnType<typeof engineService>>;
let built: Awaited<ReturnType<typeof buildViewerHostImage>>;
let images: Awaited<ReturnType<typeof startImageServer>>;
let hosts: Awaited<ReturnType<typeof startTestHost>>[] = [];
let balancer: Awaited<ReturnType<typeof startViewerBalancer>>;
let browser: Browser;
let page: Page;
const keys = sessionKeys();

beforeAll(async () => {
  engine = await engineService();
  [built, images, browser] = await Promise.all([
    buildViewerHostImage(engine.command),
    startImageServer({ 'ct.mha': slicedCt() }),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true }),
  ]);
  const [balancerPort, ...hostPorts] = await freePorts(4);
  const origin = `http://127.0.0.1:${balancerPort}`;
  hosts = await Promise.all(
    hostPorts.map((port) =>
      startTestHost({
        socketPath: engine.socketPath,
        image: built.image,
        publicKeyPem: keys.publicKeyPem,
        origin,
        apiUrl: images.apiUrl,
        sessionsPerHost: 2,
        warm: 1,
        port,
      }),
    ),
  );
  balancer = await startViewerBalancer(
    hosts.map((host) => host.url),
    { port: balancerPort },
  );
  page = await browser.newPage({ viewport: { width: 960, height: 330 }, deviceScaleFactor: 1 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await balancer?.stop();
  await Promise.all(hosts.map((host) => host.stop()));
  await images?.stop();
  await built?.remove();
  await engine?.stop();
});

/** The view the axial canvas last drew, with the request it answered. */
const axial = () =>
  page.evaluate(() => {
    const frame = document.querySelector('.view[data-plane="axial"] canvas.frame');
    return {
      requestId: Number(frame?.dataset.requestId ?? 0),
      encoding: frame?.dataset.encoding as string | undefined,
      view: frame?.dataset.view ? (JSON.parse(frame.dataset.view) as Record<string, unknown>) : undefined,
    };
  });

test('a page whose host disappears resumes on another host at the view it showed', async () => {
  const credential = keys.credential('resumed-session', balancer.url, [
    { id: 'ct', url: images.imageUrl('ct.mha') },
  ]);
  await page.goto(`${balancer.url}/sessions/resumed-session#credential=${credential}`);
  await page.waitForFunction(
    () => document.querySelector('.view[data-plane="axial"] canvas.frame')?.dataset.encoding === 'png',
  );
  // The reader moves away from the opening view: bone window, zoomed in, three slices up.
  await page.keyboard.press('3');
  await page.keyboard.press('+');
  await page.mouse.move(160, 160);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -100);
  await page.waitForFunction(() => {
    const frame = document.querySelector('.view[data-plane="axial"] canvas.frame');
    const view = frame?.dataset.view && JSON.parse(frame.dataset.view);
    return frame?.dataset.encoding === 'png' && view?.window.width === 2500 && view.zoom > 1;
  });
  // Settled: the last view asked for has been drawn losslessly.
  await page.waitForTimeout(500);
  const before = await axial();
  expect(before.view).toMatchObject({ window: { width: 2500, level: 480 } });

  const holder = hosts.findIndex((host) => host.host.supervisor.status().sessions === 1);
  expect(holder).toBeGreaterThanOrEqual(0);
  expect(hosts.reduce((sum, host) => sum + host.host.supervisor.status().sessions, 0)).toBe(1);

  const vanished = Date.now();
  await hosts[holder].stop();
  await page.waitForFunction(
    (previous) => {
      const frame = document.querySelector('.view[data-plane="axial"] canvas.frame');
      return Number(frame?.dataset.requestId) > previous && frame?.dataset.encoding === 'png';
    },
    before.requestId,
    { timeout: 30_000 },
  );
  const resumedSeconds = (Date.now() - vanished) / 1000;
  const after = await axial();
  expect(after.view).toEqual(before.view);
  const resumedOn = hosts.findIndex(
    (host, i) => i !== holder && host.host.supervisor.status().sessions === 1,
  );
  expect(resumedOn).toBeGreaterThanOrEqual(0);
  expect(await page.getAttribute('#status', 'data-kind')).not.toBe('error');
  // The socket it reads now goes to that host.
  expect(balancer.routed[balancer.routed.length - 1]).toBe(resumedOn);
  console.log(`resumed on another host ${resumedSeconds.toFixed(1)} s after its host disappeared`);

  // That host now falls silent: nothing closes, its pings go unanswered.
  const silenced = Date.now();
  balancer.freeze(resumedOn);
  await page.waitForFunction(
    (previous) => {
      const frame = document.querySelector('.view[data-plane="axial"] canvas.frame');
      return Number(frame?.dataset.requestId) > previous && frame?.dataset.encoding === 'png';
    },
    after.requestId,
    { timeout: 40_000 },
  );
  const last = [0, 1, 2].find((i) => i !== holder && i !== resumedOn)!;
  expect(hosts[last].host.supervisor.status().sessions).toBe(1);
  expect((await axial()).view).toEqual(before.view);
  console.log(
    `resumed on a third host ${((Date.now() - silenced) / 1000).toFixed(1)} s after its host fell silent`,
  );
}, 90_000);
