// Figures of a viewer host on this machine (run by bench/run.ts in a process of its own): the
// host's image built from local files, its sessions in containers through the engine's API, a
// 512 x 512 x 500 CT served over HTTP as CloudFront serves it. Session start on a warm host and
// on one with no viewer started ahead (credential exchange to first frame), then sessions per
// host at the target frame rate with every reader scrolling at once, and from it the hosts a
// region needs for 100 concurrent readers on a named instance size.
import * as os from 'node:os';
import { ServerMessage } from '../containers/viewer/server/protocol';
import { freePorts } from '../test/helpers/free-ports';
import { exchange, openReader } from '../test/viewer-hosts/session-reader';
import {
  buildViewerHostImage,
  engineService,
  sessionKeys,
  startImageServer,
  startTestHost,
} from '../test/viewer-hosts/viewer-host-fixture';
import { EngineApi } from '../containers/viewer/host/engine-api';
import { HOST_LABEL } from '../containers/viewer/host/session-containers';
import type { ViewState } from '../containers/viewer/server/volume/view-state';

const SIZE = [512, 512, 500] as const;
const TARGET_FPS = 30;
const SCROLL_SECONDS = 5;
const SCROLL_EVERY_MS = 10;
const STARTS = 3;
/** The instance size the fleet is sized for, and what it has. */
const INSTANCE = { type: 'c7i.2xlarge', vcpus: 8, memoryGiB: 16 };
/** Kept for the system, Docker and the supervisor. */
const RESERVED_GIB = 1;
const READERS = 100;
const SESSION_MEMORY_MIB = 1024;

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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  console.log('\n## Viewer hosts (sessions in containers of their own, 512 x 512 x 500 int16 CT)');
  const engine = await engineService();
  const api = new EngineApi(engine.socketPath);
  const keys = sessionKeys();
  const building = performance.now();
  const built = await buildViewerHostImage(engine.command);
  console.log(`host image built from local files in ${((performance.now() - building) / 1000).toFixed(1)} s`);
  const images = await startImageServer({ 'ct.mha': syntheticCt() });
  try {
    const [port] = await freePorts(1);
    const origin = `http://127.0.0.1:${port}`;
    let serial = 0;
    const credential = () => {
      const sessionId = `bench-${++serial}`;
      return {
        sessionId,
        text: keys.credential(sessionId, origin, [{ id: 'ct', url: images.imageUrl('ct.mha') }]),
      };
    };

    /** A session opened as a page opens it; resolves at its first frame and once its volume is in. */
    const openSession = async () => {
      const { sessionId, text } = credential();
      const started = performance.now();
      const exchanged = await exchange(origin, sessionId, text);
      if (exchanged.status !== 200)
        throw new Error(`the host refused a session: ${JSON.stringify(exchanged.body)}`);
      const exchangedMs = performance.now() - started;
      const reader = await openReader(origin, sessionId, exchanged.cookie!);
      let requested = false;
      const firstFrame = new Promise<number>((resolve) => {
        const poll = setInterval(() => {
          if (!requested && reader.messages.some((m) => m.type === 'geometry')) {
            requested = true;
            reader.ws.send(
              JSON.stringify({ type: 'view', id: 1, imageId: 'ct', canvas: 'axial', view: view(250) }),
            );
          }
          if (reader.frames.length > 0) {
            clearInterval(poll);
            resolve(performance.now() - started);
          }
        }, 2);
      });
      const loaded = new Promise<number>((resolve) => {
        const poll = setInterval(() => {
          if (reader.messages.some((m: ServerMessage) => m.type === 'progress' && m.done)) {
            clearInterval(poll);
            resolve(performance.now() - started);
          }
        }, 20);
      });
      return { reader, exchangedMs, firstFrameMs: await firstFrame, loaded };
    };

    for (const warm of [1, 0]) {
      const host = await startTestHost({
        socketPath: engine.socketPath,
        image: built.image,
        publicKeyPem: keys.publicKeyPem,
        origin,
        apiUrl: images.apiUrl,
        sessionsPerHost: 4,
        warm,
        idleSeconds: 1,
        port,
        memoryMiB: SESSION_MEMORY_MIB,
      });
      try {
        const starts: { exchangedMs: number; firstFrameMs: number; wholeMs: number }[] = [];
        for (let i = 0; i < STARTS; i++) {
          // A warm host has its spare started again before the next reader comes.
          await new Promise((resolve) => setTimeout(resolve, warm ? 3000 : 500));
          const session = await openSession();
          const wholeMs = await session.loaded;
          starts.push({ exchangedMs: session.exchangedMs, firstFrameMs: session.firstFrameMs, wholeMs });
          session.reader.close();
        }
        console.log(
          `session start, ${warm ? 'warm host (a session viewer started ahead)' : 'no viewer started ahead'}, median of ${STARTS}: ` +
            `credential exchanged in ${median(starts.map((s) => s.exchangedMs)).toFixed(0)} ms, ` +
            `first frame at ${median(starts.map((s) => s.firstFrameMs)).toFixed(0)} ms, ` +
            `whole volume at ${median(starts.map((s) => s.wholeMs)).toFixed(0)} ms (target: under 5 s on warm capacity)`,
        );
      } finally {
        await host.stop();
      }
    }

    // Sessions per host: every reader scrolls at once, as fast as frames come.
    const host = await startTestHost({
      socketPath: engine.socketPath,
      image: built.image,
      publicKeyPem: keys.publicKeyPem,
      origin,
      apiUrl: images.apiUrl,
      sessionsPerHost: 8,
      idleSeconds: 30,
      port,
      memoryMiB: SESSION_MEMORY_MIB,
    });
    let atTarget = 0;
    let memoryPerSessionMiB = 0;
    try {
      const sessions: Awaited<ReturnType<typeof openSession>>[] = [];
      for (let count = 1; count <= 6; count++) {
        const session = await openSession();
        await session.loaded;
        sessions.push(session);
        const counts = sessions.map(() => 0);
        const scrolls = sessions.map((s, i) => {
          let id = 1000 * count;
          const before = s.reader.frames.length;
          const timer = setInterval(() => {
            id++;
            s.reader.ws.send(
              JSON.stringify({
                type: 'view',
                id,
                imageId: 'ct',
                canvas: 'axial',
                view: view((id * 7) % 500),
              }),
            );
          }, SCROLL_EVERY_MS);
          return () => {
            clearInterval(timer);
            counts[i] = s.reader.frames.slice(before).filter((f) => f.encoding === 'jpeg').length;
          };
        });
        await new Promise((resolve) => setTimeout(resolve, SCROLL_SECONDS * 1000));
        for (const stop of scrolls) stop();
        const fps = counts.map((c) => c / SCROLL_SECONDS);
        memoryPerSessionMiB = Math.max(
          memoryPerSessionMiB,
          await largestContainerMemoryMiB(api, host.instanceId),
        );
        console.log(
          `${count} session${count > 1 ? 's' : ''} scrolling at once: ${fps.map((f) => f.toFixed(1)).join(', ')} frames/s ` +
            `(slowest ${Math.min(...fps).toFixed(1)}; ${Math.min(...fps) >= TARGET_FPS ? 'within' : 'UNDER'} the ${TARGET_FPS} frames/s target)`,
        );
        if (Math.min(...fps) < TARGET_FPS) break;
        atTarget = count;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      for (const session of sessions) session.reader.close();
    } finally {
      await host.stop();
    }
    const cores = os.cpus().length;
    console.log(
      `sessions per host at ${TARGET_FPS} frames/s on this machine (${cores} cores, shared): ${atTarget}; ` +
        `peak memory of one session's container ${memoryPerSessionMiB.toFixed(0)} MiB (limit ${SESSION_MEMORY_MIB} MiB)`,
    );
    const perVcpu = atTarget / cores;
    const byCpu = Math.floor(perVcpu * INSTANCE.vcpus);
    const byMemory = Math.floor(((INSTANCE.memoryGiB - RESERVED_GIB) * 1024) / SESSION_MEMORY_MIB);
    const perHost = Math.max(1, Math.min(byCpu, byMemory));
    console.log(
      `${INSTANCE.type} (${INSTANCE.vcpus} vCPUs, ${INSTANCE.memoryGiB} GiB): ${byCpu} sessions by CPU (${perVcpu.toFixed(2)} per vCPU, every reader scrolling), ` +
        `${byMemory} by memory (${SESSION_MEMORY_MIB} MiB each, ${RESERVED_GIB} GiB kept): ${perHost} per host; ` +
        `${READERS} concurrent readers per region need ${Math.ceil(READERS / perHost)} hosts`,
    );
  } finally {
    await images.stop();
    await built.remove();
    await engine.stop();
  }
}

/** The largest memory use among a host's session containers, as the engine reports it. */
async function largestContainerMemoryMiB(api: EngineApi, hostId: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${HOST_LABEL}=${hostId}`] }));
  const containers = await api.call<{ Id: string }[]>('GET', `/containers/json?filters=${filters}`);
  let largest = 0;
  for (const container of containers) {
    const stats = await api
      .call<{ memory_stats?: { usage?: number; max_usage?: number } }>(
        'GET',
        `/containers/${container.Id}/stats?stream=false`,
      )
      .catch(() => undefined);
    const bytes = stats?.memory_stats?.max_usage || stats?.memory_stats?.usage || 0;
    largest = Math.max(largest, bytes / 1024 ** 2);
  }
  return largest;
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack);
    process.exit(1);
  },
);
