// Figures of viewer sessions against local mode (run by bench/run.ts in a process of its own):
// a 512 x 512 x 500 CT uploaded and converted through the API, then a session of it opened as a
// reader's page opens one. Time from the session's start to its first rendered slice and to the
// whole volume (read through the local CloudFront stand-in), memory per session, and frames per
// second of a scripted scroll over loopback with 20 ms added each way.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { WebSocket } from 'ws';
import { FrameHeader, ServerMessage, unpackFrame, ViewRequest } from '../containers/viewer/server/protocol';
import { ViewState } from '../containers/viewer/server/volume/view-state';
import { localOptionsFromEnvironment } from '../local/local-options';
import { startLocalPlatform } from '../local/local-platform';
import { freeLocalPorts } from '../test/helpers/free-ports';
import { startLatencyProxy } from './latency-proxy';

const SIZE = [512, 512, 500] as const;
const LATENCY_MS = 20;
const SCROLL_SECONDS = 5;
/** The scripted reader turns the wheel this often: a fast scroll, faster than frames can come. */
const SCROLL_EVERY_MS = 10;
const TARGETS = { firstSliceMs: 1000, wholeVolumeMs: 5000, framesPerSecond: 30, memoryRatio: 1.3 };

v8.setFlagsFromString('--expose-gc');
/** Collects garbage, so that what the process holds is what it keeps, not what it let go. */
const gc = vm.runInNewContext('gc') as () => void;
const rss = () => {
  gc();
  return process.memoryUsage().rss;
};
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const TOKEN = 'dev-alice';

/** Air, an elliptic body of soft tissue with noise and a spine, every slice a little different. */
function syntheticCt(): Buffer {
  const [sx, sy, sz] = SIZE;
  const header = Buffer.from(
    `ObjectType = Image\nNDims = 3\nDimSize = ${SIZE.join(' ')}\nElementSpacing = 0.7 0.7 1\n` +
      'ElementType = MET_SHORT\nElementDataFile = LOCAL\n',
  );
  const voxels = new Int16Array(sx * sy * sz);
  let seed = 12345;
  for (let z = 0; z < sz; z++) {
    const spineY = 380 + Math.round(10 * Math.sin(z / 40));
    for (let y = 0; y < sy; y++)
      for (let x = 0; x < sx; x++) {
        const i = x + sx * (y + sy * z);
        if (((x - 256) / 220) ** 2 + ((y - 256) / 170) ** 2 > 1) {
          voxels[i] = -1000;
          continue;
        }
        seed = (seed * 1103515245 + 12345) >>> 0;
        const spine = (x - 256) ** 2 + (y - spineY) ** 2 <= 900;
        voxels[i] = (spine ? 700 : 40) + ((seed >>> 24) % 41) - 20;
      }
  }
  return Buffer.concat([header, Buffer.from(voxels.buffer)]);
}

async function api(base: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${base}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return answer as any;
}

/** Uploads in as many parts as the API asks for, makes an image and waits for its conversion. */
async function convertedImage(base: string, file: Buffer): Promise<string> {
  const upload = await api(base, 'POST', '/uploads', { filename: 'ct.mha', size: file.length });
  const numbers = Array.from({ length: upload.partCount }, (_, i) => i + 1);
  const parts: { partNumber: number; etag: string }[] = [];
  for (let first = 0; first < numbers.length; first += 100) {
    const batch = numbers.slice(first, first + 100);
    const signed = await api(base, 'POST', `/uploads/${upload.id}/parts`, { partNumbers: batch });
    for (const part of signed.parts as { partNumber: number; url: string }[]) {
      const start = (part.partNumber - 1) * upload.partSize;
      const put = await fetch(part.url, {
        method: 'PUT',
        body: file.subarray(start, start + upload.partSize),
      });
      parts.push({ partNumber: part.partNumber, etag: put.headers.get('etag')! });
    }
  }
  await api(base, 'POST', `/uploads/${upload.id}/complete`, { parts });
  const image = await api(base, 'POST', '/images', { uploads: [upload.id] });
  for (;;) {
    const read = await api(base, 'GET', `/images/${image.id}`);
    if (read.status === 'Succeeded') return image.id;
    if (read.status === 'Failed') throw new Error(`conversion failed: ${read.statusDetail}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A reader's page: the credential exchanged for the ticket, then the socket, through `origin`. */
async function openReader(origin: string, sessionId: string, credential: string) {
  const exchanged = await fetch(`${origin}/sessions/${sessionId}/credential`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}` },
  });
  if (!exchanged.ok) throw new Error(`the viewer refused the credential: ${await exchanged.text()}`);
  const cookie = exchanged.headers.get('set-cookie')!.split(';')[0];
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/sessions/${sessionId}/socket`, {
    headers: { cookie },
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws;
}

function view(z: number): ViewState {
  return {
    plane: 'axial',
    position: [256, 256, z],
    timepoint: 0,
    window: { width: 400, level: 40 },
    zoom: 1,
    pan: [0, 0],
    overlayOpacity: 0,
    viewport: { width: 512, height: 512 },
  };
}

interface SessionTimes {
  readonly session: { id: string; credential: string };
  /** Milliseconds from the start of `POST /v1/sessions`. */
  readonly answeredMs: number;
  readonly connectedMs: number;
  readonly firstSliceMs: number;
  readonly wholeMs: number;
}

/** Starts a session of the image and opens it as a reader's page does, timing each step. */
async function timeSession(urls: { api: string; viewer: string }, imageId: string): Promise<SessionTimes> {
  const started = performance.now();
  const session = await api(urls.api, 'POST', '/sessions', { images: [imageId] });
  const answeredMs = performance.now() - started;
  const ws = await openReader(urls.viewer, session.id, session.credential);
  const connectedMs = performance.now() - started;
  let firstSliceMs = 0;
  let wholeMs = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, binary) => {
      if (binary) {
        const { header } = unpackFrame(new Uint8Array(data));
        ws.send(JSON.stringify({ type: 'ack', frameId: header.frameId }));
        firstSliceMs ||= performance.now() - started;
      } else {
        const message = JSON.parse(data.toString()) as ServerMessage;
        if (message.type === 'geometry') {
          const request: ViewRequest = { type: 'view', id: 1, imageId, canvas: 'axial', view: view(0) };
          ws.send(JSON.stringify(request));
        }
        if (message.type === 'progress' && message.done) wholeMs = performance.now() - started;
        if (message.type === 'error') reject(new Error(message.message));
      }
      if (firstSliceMs && wholeMs) resolve();
    });
  });
  ws.close();
  return { session, answeredMs, connectedMs, firstSliceMs, wholeMs };
}

async function main(): Promise<void> {
  console.log(
    '\n## Viewer sessions (512 x 512 x 500 int16 CT through the local API, viewer and CloudFront stand-in)',
  );
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-viewer-'));
  const platform = await startLocalPlatform({
    ...localOptionsFromEnvironment({ LOCAL_DATA_DIR: dataDir }),
    jobs: 'record',
    ports: await freeLocalPorts(),
  });
  try {
    const file = syntheticCt();
    const converting = performance.now();
    const imageId = await convertedImage(platform.urls.api, file);
    console.log(
      `upload and conversion through the API: ${((performance.now() - converting) / 1000).toFixed(1)} s`,
    );
    const rawBytes = file.length;

    const rssBefore = rss();
    const verdict = (ok: boolean) => (ok ? 'within' : 'OVER');
    const report = (what: string, timed: SessionTimes) => {
      console.log(
        `${what}: session start to first rendered slice ${timed.firstSliceMs.toFixed(0)} ms (${verdict(timed.firstSliceMs < TARGETS.firstSliceMs)} the ${TARGETS.firstSliceMs} ms target): ` +
          `POST /v1/sessions answered at ${timed.answeredMs.toFixed(0)} ms, ticket and socket at ${timed.connectedMs.toFixed(0)} ms, ` +
          `first slice ${(timed.firstSliceMs - timed.connectedMs).toFixed(0)} ms after the socket opened; ` +
          `to the whole volume ${timed.wholeMs.toFixed(0)} ms (${verdict(timed.wholeMs < TARGETS.wholeVolumeMs)} the ${TARGETS.wholeVolumeMs} ms target)`,
      );
    };
    // The first session meets the API's function cold, as the first reader after a quiet spell does.
    const first = await timeSession(platform.urls, imageId);
    report('first session (the API function cold)', first);
    const session = first.session;
    const firstGrowth = rss() - rssBefore;
    // A second session of its own (the viewer reads the volume again), with the API's function warm:
    // what the process grows by is the viewer's alone, where the first also started the function's
    // sandbox in this process (in AWS, a Lambda's, not the viewer's).
    const rssBeforeSecond = rss();
    const second = await timeSession(platform.urls, imageId);
    report('second session (the API function warm)', second);
    const memory = await platform.viewer.memory();
    const volumeBytes = memory.find((m) => m.sessionId === second.session.id)!.volumeBytes;
    const rssGrowth = rss() - rssBeforeSecond;
    const ratio = (bytes: number) => (bytes / rawBytes).toFixed(2);
    console.log(
      `memory per session: volume held ${mib(volumeBytes)} for ${mib(rawBytes)} of voxels (${ratio(volumeBytes)}x); ` +
        `process RSS grew ${mib(rssGrowth)} for the second session (${ratio(rssGrowth)}x, ${verdict(rssGrowth / rawBytes < TARGETS.memoryRatio)} the ${TARGETS.memoryRatio}x target), ` +
        `${mib(firstGrowth)} (${ratio(firstGrowth)}x) for the first, the API function's sandbox included`,
    );

    for (const latency of [0, LATENCY_MS]) {
      const viewerPort = Number(new URL(platform.urls.viewer).port);
      const proxy = await startLatencyProxy({ host: '127.0.0.1', port: viewerPort }, latency);
      try {
        const reader = await openReader(`http://127.0.0.1:${proxy.port}`, session.id, session.credential);
        const frames: FrameHeader[] = [];
        reader.on('message', (data: Buffer, binary) => {
          if (!binary) return;
          const { header } = unpackFrame(new Uint8Array(data));
          frames.push(header);
          reader.send(JSON.stringify({ type: 'ack', frameId: header.frameId }));
        });
        let id = 1;
        const scrolling = setInterval(() => {
          const request: ViewRequest = {
            type: 'view',
            id: id++,
            imageId,
            canvas: 'axial',
            view: view(id % 500),
          };
          reader.send(JSON.stringify(request));
        }, SCROLL_EVERY_MS);
        await new Promise((resolve) => setTimeout(resolve, SCROLL_SECONDS * 1000));
        clearInterval(scrolling);
        reader.close();
        const jpeg = frames.filter((f) => f.encoding === 'jpeg').length;
        const fps = jpeg / SCROLL_SECONDS;
        const slices = new Set(frames.map((f) => f.view.position[2])).size;
        console.log(
          `scripted scroll, ${latency} ms added each way: ${fps.toFixed(1)} frames/s of 512², ${slices} distinct slices shown, ` +
            `${id - 1} requests sent (${verdict(fps >= TARGETS.framesPerSecond)} the ${TARGETS.framesPerSecond} frames/s target)`,
        );
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await platform.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack);
    process.exit(1);
  },
);
