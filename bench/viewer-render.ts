// Figures of the viewer's volume engine (run by bench/run.ts in a process of its own): a
// 512 x 512 x 500 int16 CT, made here and compressed as the converter writes it, kept in memory.
import * as os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import sharp from 'sharp';
import {
  encodeFrame,
  FrameQuality,
  LoadingVolume,
  openVolume,
  Plane,
  renderView,
  Slab,
  ViewState,
} from '../containers/viewer/server/volume';
import { writeMetaImage } from '../packages/image-io/src/metaimage-writer';
import { identityAxes } from '../packages/image-io/src/volume';

const SIZE = [512, 512, 500] as const;
const SPACING = [0.7, 0.7, 1] as const;
const FRAMES = 150;
const TARGET_MS = 10;
/** Bytes per chunk of the in-memory download: what a socket typically hands over. */
const CHUNK_BYTES = 64 * 1024;
/** Cases to time, by a word of their line (`npx tsx bench/viewer-render.ts MIP sagittal`); all by default. */
const ONLY = process.argv.slice(2);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const ms = (value: number) => `${value.toFixed(2)} ms`;

/**
 * A body-like CT: air, an elliptic body of soft tissue with noise, two lungs and a spine that
 * moves from slice to slice, so that every slice differs and compresses as a real one would.
 */
function syntheticCt(): Buffer {
  const [sx, sy, sz] = SIZE;
  const data = Buffer.alloc(sx * sy * sz * 2);
  const voxels = new Int16Array(data.buffer, data.byteOffset, sx * sy * sz);
  const noise = new Int16Array(1 << 20);
  let seed = 12345;
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    noise[i] = ((seed >>> 24) % 41) - 20;
  }
  for (let z = 0; z < sz; z++) {
    const spineY = 380 + Math.round(10 * Math.sin(z / 40));
    for (let y = 0; y < sy; y++) {
      for (let x = 0; x < sx; x++) {
        const i = x + sx * (y + sy * z);
        const body = ((x - 256) / 220) ** 2 + ((y - 256) / 170) ** 2 <= 1;
        if (!body) {
          voxels[i] = -1000;
          continue;
        }
        const lung = ((Math.abs(x - 256) - 100) / 60) ** 2 + ((y - 230) / 90) ** 2 <= 1;
        const spine = (x - 256) ** 2 + (y - spineY) ** 2 <= 900;
        const base = spine ? 700 : lung ? -820 : 40;
        voxels[i] = base + noise[(i * 7 + z * 1237) & (noise.length - 1)];
      }
    }
  }
  return data;
}

async function* inChunks(file: Buffer): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < file.length; offset += CHUNK_BYTES)
    yield file.subarray(offset, offset + CHUNK_BYTES);
}

const SLAB_NAMES = { mip: 'MIP', minip: 'MinIP', average: 'mean' } as const;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timeFrames(
  volume: LoadingVolume,
  plane: Plane,
  quality: FrameQuality,
  slab: Slab['mode'] | undefined,
  overlay?: LoadingVolume,
): Promise<string | undefined> {
  const name = `${plane.padEnd(8)} ${quality.padEnd(11)} ${slab ? `20 mm ${SLAB_NAMES[slab]}` : overlay ? 'overlaid ' : 'one slice'}`;
  if (ONLY.some((word) => !name.includes(word))) return undefined;
  const through = { axial: 2, coronal: 1, sagittal: 0 }[plane];
  const renders: number[] = [];
  const totals: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let frame = 0; frame < FRAMES; frame++) {
    const position: [number, number, number] = [256, 256, 250];
    // Scrolling: a different slice each frame, as the wheel moves through the volume.
    position[through] = 50 + ((frame * 3) % (SIZE[through] - 100));
    const view: ViewState = {
      plane,
      position,
      timepoint: 0,
      window: { width: 400, level: 40 + (frame % 7) },
      zoom: 1,
      pan: [0, 0],
      overlayOpacity: overlay ? 0.4 : 0,
      viewport: { width: 512, height: 512 },
      ...(slab ? { slab: { mode: slab, thicknessMm: 20 } } : {}),
    };
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const rendered = renderView(volume, view, overlay);
    const renderedAt = performance.now();
    const encoded = await encodeFrame(rendered, quality);
    const ended = performance.now();
    const cpuUsed = process.cpuUsage(cpuBefore);
    bytes += encoded.bytes.length;
    // The first frames warm the JIT and libvips; they are not counted.
    if (frame < 10) continue;
    renders.push(renderedAt - started);
    totals.push(ended - started);
    cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  renders.sort((a, b) => a - b);
  totals.sort((a, b) => a - b);
  const p95 = percentile(totals, 95);
  return (
    `${name}: ` +
    `render+encode p50 ${ms(percentile(totals, 50))}, p95 ${ms(p95)} (render alone p50 ${ms(percentile(renders, 50))}, ` +
    `p95 ${ms(percentile(renders, 95))}; CPU of all threads p50 ${ms(percentile(cpu, 50))}, p95 ${ms(percentile(cpu, 95))}); ` +
    `${(bytes / FRAMES / 1024).toFixed(1)} KiB a frame; ` +
    `${p95 < TARGET_MS ? 'within' : 'OVER'} the ${TARGET_MS} ms target`
  );
}

async function benchViewerRender(): Promise<void> {
  console.log(`\n## Viewer volume engine: ${SIZE.join(' x ')} int16 CT, 512 x 512 frames`);
  // Wall times on a shared machine include waiting for a core: the load says how much.
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} on ${os.cpus().length} cores`,
  );
  let started = performance.now();
  const data = syntheticCt();
  const file = await writeMetaImage({
    size: SIZE,
    spacing: SPACING,
    origin: [0, 0, 0],
    axes: identityAxes(3),
    componentType: 'int16',
    components: 1,
    data,
    metadata: { Modality: 'CT' },
  });
  console.log(
    `made in ${((performance.now() - started) / 1000).toFixed(1)} s: ${mib(data.length)} of voxels, ` +
      `${mib(file.length)} compressed as the converter writes it`,
  );

  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let firstSliceMs = 0;
  // How long the event loop is held at a time while voxels are placed: frames wait that long.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  started = performance.now();
  const sliceBytes = SIZE[0] * SIZE[1] * 2;
  const opened = await openVolume(inChunks(file), {
    onProgress: (loadedBytes) => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      // The first axial slice is whole once its bytes have arrived (as `loadedSlices` counts).
      if (!firstSliceMs && loadedBytes >= sliceBytes) firstSliceMs = performance.now() - started;
    },
  });
  const headerMs = performance.now() - started;
  await opened.done;
  const wholeMs = performance.now() - started;
  delay.disable();
  console.log(
    `open from an in-memory stream of ${CHUNK_BYTES / 1024} KiB chunks: header ${ms(headerMs)}, ` +
      `first slice ${ms(firstSliceMs)}, whole volume ${ms(wholeMs)} (${(data.length / 1024 ** 2 / (wholeMs / 1000)).toFixed(0)} MiB/s of voxels); ` +
      `event loop held p50 ${ms(delay.percentile(50) / 1e6)}, p99 ${ms(delay.percentile(99) / 1e6)}, max ${ms(delay.max / 1e6)}`,
  );
  gc();
  const after = process.memoryUsage();
  const held = after.rss - before.rss;
  console.log(
    `memory per session: RSS +${mib(held)} (${(held / data.length).toFixed(2)}x the volume's ${mib(data.length)}), ` +
      `peak while loading +${mib(peakRss - before.rss)} (${((peakRss - before.rss) / data.length).toFixed(2)}x), ` +
      `array buffers +${mib(after.arrayBuffers - before.arrayBuffers)}, JS heap +${mib(after.heapUsed - before.heapUsed)}; ` +
      `${held < 1.3 * data.length ? 'within' : 'OVER'} the 1.3x target`,
  );

  if (ONLY.length === 0) await compareStillEncoders(opened);
  for (const slab of [undefined, 'mip', 'minip', 'average'] as const) {
    for (const quality of ['interactive', 'still'] as const) {
      for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
        const line = await timeFrames(opened, plane, quality, slab);
        if (line) console.log(line);
      }
    }
  }
  if (ONLY.length > 0 && !ONLY.every((word) => 'overlaid still axial coronal sagittal'.includes(word)))
    return;
  // A label map on the same grid, as a segmentation job writes it: two organs.
  const labels = Buffer.alloc(SIZE[0] * SIZE[1] * SIZE[2]);
  for (let z = 100; z < 400; z++) {
    for (let y = 150; y < 330; y++) {
      for (let x = 120; x < 400; x++) {
        const organ =
          ((x - 180) / 50) ** 2 + ((y - 240) / 80) ** 2 < 1
            ? 1
            : ((x - 330) / 50) ** 2 + ((y - 240) / 80) ** 2 < 1
              ? 2
              : 0;
        labels[x + SIZE[0] * (y + SIZE[1] * z)] = organ;
      }
    }
  }
  const mask = await writeMetaImage({
    size: SIZE,
    spacing: SPACING,
    origin: [0, 0, 0],
    axes: identityAxes(3),
    componentType: 'uint8',
    components: 1,
    data: labels,
    metadata: {},
  });
  const overlay = await openVolume(inChunks(mask));
  await overlay.done;
  for (const plane of ['axial', 'coronal', 'sagittal'] as const) {
    const line = await timeFrames(opened, plane, 'still', undefined, overlay);
    if (line) console.log(line);
  }
}

/** The lossless encoders `encodeFrame` chose between, on the same axial frame. */
async function compareStillEncoders(volume: LoadingVolume): Promise<void> {
  const frame = renderView(volume, {
    plane: 'axial',
    position: [256, 256, 250],
    timepoint: 0,
    window: { width: 400, level: 40 },
    zoom: 1,
    pan: [0, 0],
    overlayOpacity: 0,
    viewport: { width: 512, height: 512 },
  });
  const raw = { raw: { width: frame.width, height: frame.height, channels: 3 as const } };
  const encoders: [string, () => Promise<Buffer>][] = [
    [
      'PNG level 1, one filter',
      () => sharp(frame.rgb, raw).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer(),
    ],
    [
      'PNG level 6, adaptive filters',
      () => sharp(frame.rgb, raw).png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer(),
    ],
    ['lossless WebP, effort 0', () => sharp(frame.rgb, raw).webp({ lossless: true, effort: 0 }).toBuffer()],
    ['lossless WebP, effort 4', () => sharp(frame.rgb, raw).webp({ lossless: true, effort: 4 }).toBuffer()],
  ];
  const figures: string[] = [];
  for (const [name, encode] of encoders) {
    const times: number[] = [];
    let size = 0;
    for (let run = 0; run < 25; run++) {
      const started = performance.now();
      size = (await encode()).length;
      if (run >= 5) times.push(performance.now() - started);
    }
    figures.push(
      `${name} ${ms(
        percentile(
          times.sort((a, b) => a - b),
          50,
        ),
      )} (${(size / 1024).toFixed(1)} KiB)`,
    );
  }
  console.log(`lossless encoders on one axial frame, p50: ${figures.join('; ')}`);
}

benchViewerRender().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
