import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { VIEWER_STARTING_PAGE } from '../../lib/viewer/viewer-starting-page';

/**
 * The page a reader meets while the region's fleet has no host in service, in a browser: served
 * with a 503 at the session's address, as CloudFront serves it, it loads that address again, with
 * its #credential fragment, until the viewer's own page answers.
 */
test('the starting page tries the same address again, fragment included, until the viewer answers', async () => {
  let tries = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/favicon.ico') return void res.writeHead(404).end();
    tries++;
    if (tries === 1) {
      return void res.writeHead(503, { 'content-type': 'text/html' }).end(VIEWER_STARTING_PAGE);
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<title>viewer</title><p id="at">${req.url}</p><script>document.title = location.hash</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const port = (server.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/sessions/s-1/?x=1#credential=abc.def`);
    expect(await page.textContent('h1')).toBe('Starting a viewer for your session');
    await page.waitForSelector('#at', { timeout: 15_000 });
    expect(await page.textContent('#at')).toBe('/sessions/s-1/?x=1');
    expect(await page.title()).toBe('#credential=abc.def');
    expect(tries).toBe(2);
  } finally {
    await browser.close();
    server.close();
  }
}, 30_000);

test('the page fits a load balancer fixed response', () => {
  expect(VIEWER_STARTING_PAGE.length).toBeLessThanOrEqual(1024);
});
