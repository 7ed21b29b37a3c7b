import { generateKeyPairSync } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { SessionCredential, signSessionCredential } from '../../lambda/contracts/session-credential';
import { CLOSE_CODES, ServerMessage, unpackFrame } from '../../containers/viewer/server/protocol';
import { ViewerVolume, VolumeEngine } from '../../containers/viewer/server/viewer-engines';
import { startViewerServer, ViewerServer } from '../../containers/viewer/server/viewer-server';
import { freePorts } from '../helpers/free-ports';

// The volume engine and the API's report route are stood in for: this file checks who the
// viewer lets in and what it lets them reach, whatever renders the images.
const keys = generateKeyPairSync('ed25519');
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const otherKeys = generateKeyPairSync('ed25519');

const opened: string[] = [];
const engine: VolumeEngine = {
  open: async (url, onProgress) => {
    opened.push(url);
    if (url.includes('broken')) throw new Error('cannot read the image: it is empty');
    onProgress({ receivedBytes: 10, totalBytes: 10 });
    const volume: ViewerVolume = {
      geometry: {
        size: [2, 2, 2],
        spacing: [1, 1, 1],
        origin: [0, 0, 0],
        direction: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        timepoints: 1,
        units: 'HU',
      },
      complete: Promise.resolve(),
      byteLength: 16,
      autoWindow: () => ({ width: 400, level: 40 }),
      render: (view) => ({
        width: view.viewport.width,
        height: view.viewport.height,
        rgb: new Uint8Array(view.viewport.width * view.viewport.height * 3),
      }),
      probe: () => ({ voxel: [0, 0, 0], patient: [0, 0, 0], value: 7, units: 'HU' }),
      measureLength: () => 5,
      measureRegion: () => ({ mean: 1, sd: 0, min: 1, max: 1, areaMm2: 1, voxels: 1 }),
    };
    return volume;
  },
  encode: async (frame, encoding) => Buffer.from(`${encoding}:${frame.width}x${frame.height}`),
};

const reports: { sessionId: string; state: string; authorization?: string; reason?: string }[] = [];
let reportApi: http.Server;
let viewer: ViewerServer;

function credential(overrides: Partial<SessionCredential> = {}): SessionCredential {
  const now = Math.floor(Date.now() / 1000);
  return {
    sessionId: 'session-a',
    userId: 'alice',
    issuedAt: now,
    expiresAt: now + 600,
    viewerOrigin: viewer.url,
    images: [
      {
        id: 'ct',
        name: 'CT',
        kind: 'volume',
        url: 'http://images.invalid/ct.mha?Signature=x',
        overlays: [{ id: 'mask', name: 'Mask', url: 'http://images.invalid/mask.mha?Signature=y' }],
      },
      { id: 'slide', name: 'Slide', kind: 'slide', url: 'http://images.invalid/slide.tif', overlays: [] },
    ],
    ...overrides,
  };
}

const sign = (c: SessionCredential, key = privateKeyPem) => signSessionCredential(c, key);

async function exchange(sessionId: string, text?: string) {
  const response = await fetch(`${viewer.url}/sessions/${sessionId}/credential`, {
    method: 'POST',
    headers: text === undefined ? {} : { authorization: `Bearer ${text}` },
  });
  return {
    status: response.status,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    body: (await response.json()) as any,
    cookie: response.headers.get('set-cookie'),
  };
}

async function ticketFor(c: SessionCredential): Promise<string> {
  const { status, cookie } = await exchange(c.sessionId, sign(c));
  expect(status).toBe(200);
  return cookie!.split(';')[0];
}

/** Opens the socket; resolves with its messages so far once the first arrives, or the refusal. */
function socket(sessionId: string, cookie?: string) {
  const ws = new WebSocket(`${viewer.url.replace('http', 'ws')}/sessions/${sessionId}/socket`, {
    headers: cookie ? { cookie } : {},
  });
  const messages: ServerMessage[] = [];
  const frames: ReturnType<typeof unpackFrame>[] = [];
  ws.on('message', (data: Buffer, binary) => {
    if (binary) frames.push(unpackFrame(new Uint8Array(data)));
    else messages.push(JSON.parse(data.toString()));
  });
  const outcome = new Promise<{ open: true } | { open: false; status: number }>((resolve) => {
    ws.on('open', () => resolve({ open: true }));
    ws.on('unexpected-response', (_req, res) => resolve({ open: false, status: res.statusCode ?? 0 }));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => undefined);
  return { ws, messages, frames, outcome, closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  // The API's report route: records each report and answers a credential extended by 10 minutes.
  reportApi = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const sessionId = req.url!.split('/')[3];
      if (sessionId === 'session-e') {
        res.writeHead(404).end();
        return;
      }
      const { state, reason } = JSON.parse(body);
      reports.push({ sessionId, state, authorization: req.headers.authorization, ...(reason && { reason }) });
      const extended = credential({ sessionId, expiresAt: Math.floor(Date.now() / 1000) + 1200 });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ credential: sign(extended), expiresAt: extended.expiresAt }));
    });
  });
  await new Promise<void>((resolve) => reportApi.listen(0, '127.0.0.1', resolve));
  const apiPort = (reportApi.address() as AddressInfo).port;
  const [port] = await freePorts(1);
  viewer = await startViewerServer({
    host: '127.0.0.1',
    port,
    origin: `http://127.0.0.1:${port}`,
    publicKeyPem,
    volumes: engine,
    reportUrl: (sessionId) => `http://127.0.0.1:${apiPort}/v1/sessions/${sessionId}/viewer-report`,
    log: () => undefined,
  });
});

afterAll(async () => {
  await viewer.stop();
  await new Promise((resolve) => reportApi.close(resolve));
});

describe('the page', () => {
  test('is a shell with the client script and no credential or image address in it', async () => {
    const response = await fetch(`${viewer.url}/sessions/session-a`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('<script src="/viewer/client.js">');
    expect(html).not.toMatch(/images\.invalid|credential=/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = await fetch(`${viewer.url}/viewer/client.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(1000);
  });

  test('any other path is 404', async () => {
    expect((await fetch(`${viewer.url}/sessions/session-a/ct.mha`)).status).toBe(404);
    expect((await fetch(`${viewer.url}/sessions/../etc/passwd`)).status).toBe(404);
  });
});

describe('the credential exchange', () => {
  test('gives a ticket cookie scoped to the session, for script-free use only, expiring with the credential', async () => {
    const c = credential();
    const { status, body, cookie } = await exchange('session-a', sign(c));
    expect(status).toBe(200);
    expect(body.images.map((i: { id: string }) => i.id)).toEqual(['ct', 'slide']);
    // Names and ids only: no signed URL reaches the page.
    expect(JSON.stringify(body)).not.toContain('images.invalid');
    expect(cookie).toMatch(/^viewer-ticket=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('Path=/sessions/session-a/');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain(`Expires=${new Date(c.expiresAt * 1000).toUTCString()}`);
    // Loopback over plain HTTP, as local mode serves it.
    expect(cookie).not.toContain('Secure');
  });

  test.each([
    ['no credential', undefined, 401, /missing/],
    ['a tampered one', 'tamper', 403, /not signed by the platform/],
    ['one signed by another key', 'other-key', 403, /not signed by the platform/],
    ['an expired one', 'expired', 403, /expired/],
    ["another session's (another user's)", 'other-session', 403, /another session/],
    ['one for another viewer', 'other-viewer', 403, /another viewer/],
    ['a malformed one', 'not-a-credential', 403, /malformed/],
  ])('refuses %s with a reason and no cookie', async (_what, kind, status, reason) => {
    const texts: Record<string, string | undefined> = {
      tamper: (() => {
        const [body, signature] = sign(credential()).split('.');
        const changed = { ...JSON.parse(Buffer.from(body, 'base64url').toString()), userId: 'mallory' };
        return `${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
      })(),
      'other-key': sign(
        credential(),
        otherKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
      expired: sign(credential({ expiresAt: Math.floor(Date.now() / 1000) - 1 })),
      'other-session': sign(credential({ sessionId: 'session-b', userId: 'bob' })),
      'other-viewer': sign(credential({ viewerOrigin: 'https://viewer.elsewhere.example' })),
      'not-a-credential': 'a.b.c',
    };
    const { status: got, body, cookie } = await exchange('session-a', kind && texts[kind]);
    expect(got).toBe(status);
    expect(body.error).toMatch(reason);
    expect(cookie).toBeNull();
  });
});

describe('the socket', () => {
  test('is refused without a ticket, with a made-up one, and with the ticket of another session', async () => {
    expect(await socket('session-a').outcome).toEqual({ open: false, status: 401 });
    expect(await socket('session-a', 'viewer-ticket=made-up').outcome).toEqual({ open: false, status: 401 });
    const ticketB = await ticketFor(credential({ sessionId: 'session-b', userId: 'bob' }));
    expect(await socket('session-a', ticketB).outcome).toEqual({ open: false, status: 401 });
  });

  test('is refused when opened from another site', async () => {
    const cookie = await ticketFor(credential());
    const ws = new WebSocket(`${viewer.url.replace('http', 'ws')}/sessions/session-a/socket`, {
      headers: { cookie, origin: 'https://attacker.example' },
    });
    ws.on('error', () => undefined);
    const status = await new Promise((resolve) =>
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode)),
    );
    expect(status).toBe(403);
  });

  test('with a ticket: names the images, reports Running with the credential, renders frames of the session only', async () => {
    const c = credential({ sessionId: 'session-c' });
    const cookie = await ticketFor(c);
    const s = socket('session-c', cookie);
    expect(await s.outcome).toEqual({ open: true });
    await until(() => s.messages.some((m) => m.type === 'geometry'), 'the geometry');
    expect(s.messages[0]).toMatchObject({ type: 'session', images: [{ id: 'ct' }, { id: 'slide' }] });
    expect(opened).toEqual(expect.arrayContaining([c.images[0].url, c.images[0].overlays[0].url]));
    await until(() => reports.some((r) => r.sessionId === 'session-c'), 'the Running report');
    expect(reports.find((r) => r.sessionId === 'session-c')).toEqual({
      sessionId: 'session-c',
      state: 'Running',
      authorization: `Bearer ${sign(c)}`,
    });

    const view = {
      plane: 'axial',
      position: [0, 0, 0],
      timepoint: 0,
      window: { width: 400, level: 40 },
      zoom: 1,
      pan: [0, 0],
      overlayOpacity: 0.5,
      viewport: { width: 4, height: 3 },
    };
    s.ws.send(JSON.stringify({ type: 'view', id: 1, imageId: 'other-users-ct', canvas: 'axial', view }));
    s.ws.send(
      JSON.stringify({
        type: 'view',
        id: 2,
        imageId: 'ct',
        canvas: 'axial',
        view,
        overlayId: 'not-its-overlay',
      }),
    );
    s.ws.send(
      JSON.stringify({ type: 'probe', requestId: 9, imageId: 'other-users-ct', view, point: [0, 0] }),
    );
    s.ws.send(
      JSON.stringify({ type: 'view', id: 3, imageId: 'ct', canvas: 'axial', view, overlayId: 'mask' }),
    );
    await until(() => s.frames.length === 1, 'a frame');
    const errors = s.messages
      .filter((m) => m.type === 'error')
      .map((m) => (m as { message: string }).message);
    expect(errors).toEqual([
      'image other-users-ct is not a volume of this session',
      'overlay not-its-overlay is not one of image ct',
      'image other-users-ct is not a volume of this session',
    ]);
    expect(s.frames[0].header).toMatchObject({ requestId: 3, encoding: 'jpeg', width: 4, height: 3 });
    expect(Buffer.from(s.frames[0].image).toString()).toBe('jpeg:4x3');
    s.ws.send(JSON.stringify({ type: 'ack', frameId: s.frames[0].header.frameId }));
    await until(() => s.frames.length === 2, 'the lossless frame');
    expect(s.frames[1].header).toMatchObject({ requestId: 3, encoding: 'png' });
    // The report's answer extended the session: the socket is told, and the ticket's cookie follows.
    await until(() => s.messages.some((m) => m.type === 'expiry'), 'the extension');
    const extendedTo = (s.messages.find((m) => m.type === 'expiry') as { expiresAt: number }).expiresAt;
    expect(extendedTo).toBeGreaterThan(c.expiresAt);
    const renewed = await fetch(`${viewer.url}/sessions/session-c/ticket`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(await renewed.json()).toEqual({ expiresAt: extendedTo });
    expect(renewed.headers.get('set-cookie')).toContain(`${cookie}; `);
    expect(renewed.headers.get('set-cookie')).toContain(
      `Expires=${new Date(extendedTo * 1000).toUTCString()}`,
    );

    s.ws.send(JSON.stringify({ type: 'probe', requestId: 10, imageId: 'ct', view, point: [1, 1] }));
    await until(() => s.messages.some((m) => m.type === 'probe'), 'the probe');
    expect(s.messages.find((m) => m.type === 'probe')).toMatchObject({ requestId: 10, probe: { value: 7 } });
    s.ws.close();
  });

  test('closes a socket that breaks the protocol, saying how', async () => {
    const s = socket('session-d', await ticketFor(credential({ sessionId: 'session-d' })));
    await s.outcome;
    s.ws.send(JSON.stringify({ type: 'view', id: 1, imageId: 'ct', canvas: 'axial', view: { zoom: 'big' } }));
    const closed = await s.closed;
    expect(closed.code).toBe(CLOSE_CODES.badMessage);
    expect(closed.reason).toMatch(/^a message is not one the viewer takes: view\.plane/);
  });

  test('closes at the expiry with the reason, after which the ticket opens nothing', async () => {
    const c = credential({ sessionId: 'session-e', expiresAt: Math.floor(Date.now() / 1000) + 2 });
    const cookie = await ticketFor(c);
    // No report extends this one: the report route does not know its session.
    const s = socket('session-e', cookie);
    await s.outcome;
    const closed = await s.closed;
    expect(closed).toEqual({ code: CLOSE_CODES.expired, reason: expect.stringMatching(/expired/) });
    expect(await socket('session-e', cookie).outcome).toEqual({ open: false, status: 401 });
  }, 10_000);
});

test('a session none of whose images can be read is reported Failed, with the reason', async () => {
  const c = credential({
    sessionId: 'session-f',
    images: [{ id: 'ct', name: 'CT', kind: 'volume', url: 'http://images.invalid/broken.mha', overlays: [] }],
  });
  const s = socket('session-f', await ticketFor(c));
  await until(() => reports.some((r) => r.sessionId === 'session-f' && r.state === 'Failed'), 'the report');
  expect(reports.find((r) => r.state === 'Failed')).toMatchObject({
    reason: 'image ct could not be read: cannot read the image: it is empty',
  });
  expect(s.messages).toContainEqual({
    type: 'error',
    imageId: 'ct',
    message: 'image ct could not be read: cannot read the image: it is empty',
  });
  s.ws.close();
});

describe('slides', () => {
  test('tile and source routes need the ticket and an image of the session', async () => {
    expect((await fetch(`${viewer.url}/sessions/session-a/slides/slide/tiles/0/0_0`)).status).toBe(401);
    const cookie = await ticketFor(credential());
    const other = await fetch(`${viewer.url}/sessions/session-a/slides/someone-elses/tiles/0/0_0`, {
      headers: { cookie },
    });
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('there is no such slide in this session');
    // The volume is not a slide either, whatever route names it.
    const volume = await fetch(`${viewer.url}/sessions/session-a/slides/ct`, { headers: { cookie } });
    expect(volume.status).toBe(404);
  });
});
